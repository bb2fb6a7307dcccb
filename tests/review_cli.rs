//! `breadcrumb review` as a user meets it: help with an example, one-line errors, and a run
//! directory served on 127.0.0.1 (its model marks enforced) until Ctrl-C stops it cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

mod support;
use support::{breadcrumb, stderr, stdout};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `GET path` on `host:port` with the token header: status and body.
fn get(host: &str, path: &str, token: &str) -> (u16, String) {
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nx-review-token: {token}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned())
}

#[test]
fn review_explains_itself_and_refuses_bad_input_in_one_line() {
    let o = breadcrumb(&["review", "--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains("Example: breadcrumb review out/demo/runs/demo"), "{text}");
    assert!(text.contains("127.0.0.1") && text.contains("plan.reviewed.json"), "{text}");

    let o = breadcrumb(&["review", "/nonexistent/run"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/run is not a run directory"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let o = breadcrumb(&["review", &dir.path().to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sol.toml is missing"), "{}", stderr(&o));
}

#[test]
fn a_run_directory_is_served_with_its_marks_until_ctrl_c() {
    // A run directory as `propose` writes it: plan, its sol (absolute bundle and rover) and a
    // model mark: a rock drawn over waypoint 5 of the plan.
    let run = tempfile::tempdir().unwrap();
    let d = run.path();
    std::fs::copy(repo().join("review/tests/fixtures/plains-02-plan.json"), d.join("plan.json"))
        .unwrap();
    let sol = std::fs::read_to_string(repo().join("fixtures/sols/plains-02-keepout.toml")).unwrap();
    let sol = sol
        .replace(
            "bundle = \"../sites/plains\"",
            &format!("bundle = {:?}", repo().join("fixtures/sites/plains").display().to_string()),
        )
        .replace(
            "rover = \"../rovers/perseverance.toml\"",
            &format!(
                "rover = {:?}",
                repo().join("fixtures/rovers/perseverance.toml").display().to_string()
            ),
        );
    std::fs::write(d.join("sol.toml"), sol).unwrap();
    let (x, y) = (15.5, 1_090_619.5);
    let ring = [
        [x - 1.5, y - 1.5],
        [x + 1.5, y - 1.5],
        [x + 1.5, y + 1.5],
        [x - 1.5, y + 1.5],
        [x - 1.5, y - 1.5],
    ];
    let marks = serde_json::json!({"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "m1",
        "properties": {"id": "m1", "class": "rock", "marked_class": "rock", "blocks": true,
                       "confidence": 0.9, "reason": "a rock the orbital map lacks", "source": "model"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }]});
    std::fs::write(d.join("hazards.model.geojson"), marks.to_string()).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_breadcrumb"))
        .current_dir(repo())
        .args(["review", &d.to_string_lossy()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines.next().expect("review printed no URL").unwrap();
        printed.push(line.clone());
        if let Some(u) = line.strip_prefix("open ") {
            break u.to_owned();
        }
    };
    assert!(printed[0].contains("checker FAIL"), "{printed:?}");
    let rest = url.strip_prefix("http://127.0.0.1:").expect("served on 127.0.0.1");
    let (port, token) = rest.split_once("/?token=").unwrap();
    assert_eq!(token.len(), 32, "{url}");
    let host = format!("127.0.0.1:{port}");

    let (status, session) = get(&host, "/api/session", token);
    assert_eq!(status, 200, "{session}");
    let session: serde_json::Value = serde_json::from_str(&session).unwrap();
    assert_eq!(session["marks"]["features"].as_array().unwrap().len(), 1);
    let (_, state) = get(&host, "/api/state", token);
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    let v = &state["evaluation"]["verdict"];
    assert_eq!(v["pass"], serde_json::json!(false), "the run's mark is enforced");
    assert!(v["violations"].as_array().unwrap().iter().any(|x| x["rule"] == "hazards"), "{v}");
    assert_eq!(get(&host, "/api/state", "wrong").0, 403);

    // Ctrl-C: a clean stop, exit 0.
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let tail: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.success(), "{status:?} {tail:?}");
    assert!(tail.iter().any(|l| l.contains("review server stopped")), "{tail:?}");
    assert!(TcpStream::connect(&host).is_err(), "still listening after Ctrl-C");
}
