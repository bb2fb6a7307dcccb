//! `breadcrumb eval report` end to end: a small real eval into a temporary store, its report, and
//! the report loaded in headless Chromium, which must draw one route per attempt that submitted
//! one, log nothing to the console and paint a real picture.
//!
//! Chromium is required, not optional: without it this test fails and says to run
//! `scripts/setup --browser`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::breadcrumb;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The Chromium binary: `$BREADCRUMB_CHROMIUM`, else Debian's `/usr/bin/chromium`, else
/// `chromium` on the PATH.
fn chromium() -> PathBuf {
    let candidates = std::env::var_os("BREADCRUMB_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/bin/chromium")])
        .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
            std::env::split_paths(&p).map(|d| d.join("chromium")).collect::<Vec<_>>()
        }));
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!(
        "headless Chromium is needed to test the eval report and was not found (looked at \
         $BREADCRUMB_CHROMIUM, /usr/bin/chromium and the PATH): run `scripts/setup --browser`"
    );
}

/// Runs headless Chromium on `page` with a fresh profile and `extra` flags; returns stdout and
/// stderr (console messages are logged on stderr).
fn headless(page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

/// Console lines Chromium logged (`...:INFO:CONSOLE:12] "message", source: ...`, or
/// `CONSOLE(12)` in older builds). Chromium logs `console.log`, `console.error` and uncaught
/// exceptions alike at INFO, so any console line counts: the report's script never logs.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// `name="value"` of the `<body>` tag in a DOM dump.
fn body_attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    Some(tag[at..at + tag[at..].find('"')?].to_owned())
}

/// Attempts that submitted a route, from the store and each attempt's `plan.json`.
fn attempts_with_routes(db: &Path, run: &str) -> (usize, usize) {
    let store = breadcrumb_evals::store::Store::open(db).unwrap();
    let attempts = store.attempts(run).unwrap();
    let routes = attempts
        .iter()
        .filter(|a| {
            let plan = a.transcript.parent().unwrap().join("plan.json");
            std::fs::read_to_string(plan).ok().is_some_and(|t| {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                v["waypoints"].as_array().is_some_and(|w| !w.is_empty())
            })
        })
        .count();
    (attempts.len(), routes)
}

#[test]
fn the_console_check_sees_errors_and_exceptions() {
    // Guards the check below: if a Chromium build logged console messages differently, a report
    // full of errors would pass unnoticed.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("canary.html");
    std::fs::write(
        &page,
        "<!doctype html><body><script>console.error('deliberate'); nope();</script></body>",
    )
    .unwrap();
    let (_, stderr) = headless(&page, &["--dump-dom"]);
    let lines = console_lines(&stderr);
    assert!(lines.iter().any(|l| l.contains("deliberate")), "console.error not seen: {stderr}");
    assert!(lines.iter().any(|l| l.contains("Uncaught ReferenceError")), "exception not seen");
}

#[test]
fn the_report_draws_every_submitted_route_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let sols = repo().join("fixtures/sols");
    let suite = tmp.path().join("suite.toml");
    std::fs::write(
        &suite,
        format!(
            "name = \"report-test\"\n\n[[sol]]\npath = \"{}\"\nexpect = \"accepted\"\n\n\
             [[sol]]\npath = \"{}\"\nexpect = \"rejected\"\n",
            sols.join("plains-02-keepout.toml").display(),
            sols.join("crater-field-02-walled.toml").display()
        ),
    )
    .unwrap();
    let db = tmp.path().join("db.sqlite");
    let runs = tmp.path().join("runs");
    let out = breadcrumb(&[
        "eval",
        "run",
        "--suite",
        suite.to_str().unwrap(),
        "--models",
        "reference,noisy",
        "--repeats",
        "2",
        "--concurrency",
        "2",
        "--db",
        db.to_str().unwrap(),
        "--runs-dir",
        runs.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let run = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run ")?.split_whitespace().next())
        .unwrap_or_else(|| panic!("no run id in: {stdout}"))
        .to_owned();

    // Into a directory that does not exist yet: the report makes it.
    let html_path = tmp.path().join("out/report.html");
    let out = breadcrumb(&[
        "eval",
        "report",
        &run,
        "-o",
        html_path.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    let (attempts, expected) = attempts_with_routes(&db, &run);
    assert_eq!(attempts, 8, "2 sols x 2 models x 2 repeats");
    assert!(expected > 0, "some attempt must have submitted a route");
    assert!(said.contains(&html_path.display().to_string()), "{said}");
    assert!(said.contains(&format!("{attempts} attempt(s), {expected} route(s)")), "{said}");
    // Written atomically: the report and nothing else in its directory.
    let left: Vec<_> = std::fs::read_dir(html_path.parent().unwrap()).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "{left:?}");

    let html = std::fs::read_to_string(&html_path).unwrap();
    // Self-contained: nothing is fetched from anywhere.
    for scheme in ["http://", "https://"] {
        let hits: Vec<&str> =
            html.match_indices(scheme).map(|(i, _)| &html[i..(i + 60).min(html.len())]).collect();
        assert!(hits.is_empty(), "the report references {scheme} URLs: {hits:?}");
    }
    assert_eq!(html.matches("class=\"route ").count(), expected, "routes in the HTML");
    // Every image the transcripts name was found (requests name the JPEGs the model was sent,
    // which the transcript does not keep: the report must not go looking for them).
    let missing: Vec<&str> =
        html.match_indices("image not shown").map(|(i, _)| &html[i..]).collect();
    assert!(missing.is_empty(), "the report lacks images: {}", missing[0].lines().next().unwrap());

    // What the browser really rendered, after the page's script ran.
    let (dom, stderr) = headless(&html_path, &["--dump-dom"]);
    let console = console_lines(&stderr);
    assert!(console.is_empty(), "the report logged to the console: {console:#?}");
    let rendered = body_attr(&dom, "data-routes-rendered").unwrap_or_else(|| {
        panic!("the page's script did not run to its end: no data-routes-rendered")
    });
    assert_eq!(rendered.parse::<usize>().unwrap(), expected, "routes rendered");
    // Panel backgrounds were put in place from the image map.
    assert!(dom.contains("href=\"data:image/jpeg;base64,"), "no panel background rendered");

    let shot = tmp.path().join("shot.png");
    let (_, stderr) = headless(
        &html_path,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1400,2400"],
    );
    let console = console_lines(&stderr);
    assert!(console.is_empty(), "the report logged to the console: {console:#?}");
    let png = std::fs::read(&shot).expect("chromium wrote no screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank page compresses to a few kB; terrain panels do not.
    assert!(png.len() > 100_000, "screenshot is only {} bytes", png.len());
    if let Ok(dir) = std::env::var("BREADCRUMB_REPORT_KEEP") {
        let keep = Path::new(&dir);
        std::fs::create_dir_all(keep).unwrap();
        std::fs::copy(&shot, keep.join("shot.png")).unwrap();
        std::fs::copy(&html_path, keep.join("report.html")).unwrap();
    }
}
