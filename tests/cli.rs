//! The `breadcrumb` binary as a user meets it: help, errors on bad input, the site commands.

use std::path::Path;
use std::process::{Command, Output};

fn breadcrumb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_breadcrumb")).args(args).output().expect("run breadcrumb")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts the command failed with exit 2 and exactly one line on stderr mentioning `needle`.
fn assert_one_line_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "{needle:?} not in: {err}");
}

fn realdata(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata").join(name);
    assert!(dir.is_dir(), "real Mars data missing: {}", dir.display());
    dir.to_string_lossy().into_owned()
}

#[test]
fn every_command_explains_itself_with_an_example() {
    for cmd in [vec!["site", "synth"], vec!["site", "slope"], vec!["site", "info"]] {
        let mut args = cmd.clone();
        args.push("--help");
        let o = breadcrumb(&args);
        assert!(o.status.success(), "{cmd:?} --help failed");
        let text = stdout(&o);
        assert!(text.contains("Example: breadcrumb"), "{cmd:?} --help lacks an example:\n{text}");
    }
    let o = breadcrumb(&["--help"]);
    assert!(stdout(&o).contains("site"));
}

#[test]
fn bad_numbers_and_paths_give_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s").to_string_lossy().into_owned();
    // clap's own usage errors are several lines; ours must be one. Check values we parse.
    let o = breadcrumb(&["site", "synth", "--size", "5", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--size"), "{}", stderr(&o));
    let o = breadcrumb(&["site", "synth", "--res=-1", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("positive number of metres"), "{}", stderr(&o));
    let o = breadcrumb(&["site", "synth", "--preset", "lunar", &out]);
    assert_one_line_error(&o, "lunar");

    let o = breadcrumb(&["site", "slope", "/nonexistent/dem.tif", "-o", "x.tif"]);
    assert_one_line_error(&o, "/nonexistent/dem.tif: no such file");
    let o = breadcrumb(&["site", "info", "/nonexistent/site"]);
    assert_one_line_error(&o, "/nonexistent/site: no such file");
    let bogus = dir.path().join("bogus.tif");
    std::fs::write(&bogus, "not a raster").unwrap();
    let o = breadcrumb(&["site", "slope", &bogus.to_string_lossy(), "-o", &out]);
    assert_one_line_error(&o, "bogus.tif: cannot read raster");
}

#[test]
fn synth_is_deterministic_and_slope_writes_a_raster() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for out in [&a, &b] {
        let o =
            breadcrumb(&["site", "synth", "--seed", "11", "--size", "128", &out.to_string_lossy()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in ["dem.tif", "ortho.tif", "hazards.geojson", "bundle.toml"] {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{f} differs between two runs with the same seed");
    }
    // A second synth into the same place is refused without --force.
    let o = breadcrumb(&["site", "synth", "--seed", "11", "--size", "128", &a.to_string_lossy()]);
    assert_one_line_error(&o, "--force");

    let slope = dir.path().join("slope.tif");
    let dem = a.join("dem.tif");
    let o = breadcrumb(&["site", "slope", &dem.to_string_lossy(), "-o", &slope.to_string_lossy()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(slope.is_file());
    let o = breadcrumb(&["site", "info", "--json", &a.to_string_lossy()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dem"]["width"], 128);
    assert_eq!(v["ortho"]["width"], 256, "the ortho is twice as fine as the DEM");
}

#[test]
fn info_summarises_the_real_gale_bundle() {
    let o = breadcrumb(&["site", "info", &realdata("gale-marias-pass")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("348 x 337 cells at 1 x 1 m"), "{text}");
    assert!(text.contains("696 x 674 px at 0.5 m"), "{text}");
}
