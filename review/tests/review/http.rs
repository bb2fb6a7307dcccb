//! The HTTP side: the token, path traversal, malformed edits, approval and a second client.

use serde_json::{json, Value};

use crate::support::{request, Running};

/// The centre of the fixture sol's keep-out square.
const IN_KEEP_OUT: (f64, f64) = (-10.0, 1_090_649.0);

#[test]
fn every_route_needs_the_token() {
    let r = Running::start();
    let paths =
        ["/", "/api/state", "/api/version", "/assets/app.js", "/tiles/ortho/0/0/0.png", "/nope"];
    for path in paths {
        let (status, body) = request(r.addr, "GET", path, &[], None);
        assert_eq!(status, 403, "{path} without a token: {body}");
        assert!(body.contains("session token"), "{body}");
        let (status, _) = request(r.addr, "GET", path, &[("x-review-token", "0123abcd")], None);
        assert_eq!(status, 403, "{path} with a wrong token");
        let wrong = format!("{path}?token={}", &r.token[..r.token.len() - 1]);
        assert_eq!(request(r.addr, "GET", &wrong, &[], None).0, 403, "{wrong}");
    }
    let (status, _) = request(r.addr, "POST", "/api/edit", &[], Some(r#"{"op":"undo"}"#));
    assert_eq!(status, 403);
    // Query, header and cookie all carry it.
    let (status, html) = request(r.addr, "GET", &format!("/?token={}", r.token), &[], None);
    assert_eq!(status, 200);
    assert!(html.contains(&r.token) && html.contains("leaflet.js"), "{html}");
    assert_eq!(r.get("/api/version").0, 200);
    let cookie = format!("breadcrumb_review_{}={}", r.addr.port(), r.token);
    let (status, _) = request(r.addr, "GET", "/assets/app.css", &[("cookie", &cookie)], None);
    assert_eq!(status, 200);
}

#[test]
fn nothing_beyond_the_fixed_routes_is_reachable() {
    let r = Running::start();
    for path in [
        "/../",
        "/..",
        "/%2e%2e/",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/assets/../../etc/passwd",
        "/assets/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/vendor/../../Cargo.toml",
        "/assets/index.html",
        "/assets/",
        "/api/../Cargo.toml",
        "/tiles/ortho/0/0/..%2f..%2fetc.png",
        "/tiles/../../../etc/passwd",
        "/plan.json",
        "/sol.toml",
        "/etc/passwd",
    ] {
        let with_token = format!("{path}?token={}", r.token);
        let (status, body) = request(r.addr, "GET", &with_token, &[], None);
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("root:"), "{path}: {body}");
    }
    let (status, body) = r.get("/assets/vendor/leaflet-1.9.4/LICENSE");
    assert_eq!(status, 200);
    assert!(body.contains("Agafonkin"), "{body}");
    let (status, body) = r.get("/tiles/ortho/0/0/0.png");
    assert_eq!(status, 200);
    assert!(
        body.as_bytes().starts_with(b"\x89PNG") || body.starts_with("\u{fffd}PNG"),
        "not a PNG"
    );
    for bad in [
        "/tiles/ortho/30/0/0.png",
        "/tiles/ortho/0/9/0.png",
        "/tiles/bogus/0/0/0.png",
        "/tiles/ortho/0/0/0.jpg",
    ] {
        assert_eq!(r.get(bad).0, 404, "{bad}");
    }
}

fn error_of(status_body: (u16, String), want: u16) -> String {
    let (status, body) = status_body;
    assert_eq!(status, want, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["error"].as_str().unwrap().to_owned()
}

#[test]
fn malformed_edits_are_refused_with_a_clear_400() {
    let r = Running::start();
    let version = |r: &Running| -> u64 {
        serde_json::from_str::<Value>(&r.get("/api/version").1).unwrap()["version"]
            .as_u64()
            .unwrap()
    };
    let v0 = version(&r);
    let e = error_of(r.post("/api/edit", r#"{"op":"move","index":3,"x":NaN,"y":1090640}"#), 400);
    assert!(e.contains("invalid edit") && e.contains("finite numbers"), "{e}");
    let e = error_of(r.post("/api/edit", r#"{"op":"move","index":3,"x":1e400,"y":1090640}"#), 400);
    assert!(e.contains("invalid edit"), "{e}");
    let e = error_of(r.post("/api/edit", r#"{"op":"move","index":3,"x":1e12,"y":1090640}"#), 400);
    assert!(
        e.contains("waypoint 3: x = 1000000000000 m") && e.contains("outside the sol's area"),
        "{e}"
    );
    let e = error_of(r.post("/api/edit", r#"{"op":"insert","index":2,"x":0,"y":-1e15}"#), 400);
    assert!(e.contains("new waypoint: y =") && e.contains("outside"), "{e}");
    let many: Vec<Value> =
        (0..1001).map(|i| json!({"x": -130.0 + f64::from(i) * 0.2, "y": 1_090_664.0})).collect();
    let e = error_of(
        r.post("/api/edit", &json!({"op": "replace", "waypoints": many}).to_string()),
        400,
    );
    assert!(e.contains("1001 waypoints is too many") && e.contains("at most 1000"), "{e}");
    let e = error_of(r.post("/api/edit", r#"{"op":"move","index":99,"x":0,"y":1090640}"#), 400);
    assert!(e.contains("index 99 is out of range"), "{e}");
    let e = error_of(r.post("/api/edit", r#"{"op":"teleport"}"#), 400);
    assert!(e.contains("invalid edit"), "{e}");
    let e = error_of(r.post("/api/edit", "not json"), 400);
    assert!(e.contains("invalid edit"), "{e}");
    let e = error_of(r.post("/api/edit", r#"{"op":"undo"}"#), 400);
    assert!(e.contains("nothing to undo"), "{e}");
    assert_eq!(version(&r), v0, "a refused edit changes nothing");
}

#[test]
fn approval_needs_both_gates_and_writes_the_record() {
    let r = Running::start();
    let state: Value = serde_json::from_str(&r.get("/api/state").1).unwrap();
    let original = state["waypoints"].clone();
    let (x3, y3) = (original[3]["x"].as_f64().unwrap(), original[3]["y"].as_f64().unwrap());

    // Into the keep-out zone: the checker refuses, and so does approval.
    let s = r.post_ok(
        "/api/edit",
        &json!({"op": "move", "index": 3, "x": IN_KEEP_OUT.0, "y": IN_KEEP_OUT.1}).to_string(),
    );
    assert_eq!(s["evaluation"]["pass"], json!(false));
    let rules: Vec<&str> = s["evaluation"]["verdict"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"keep_out"), "{rules:?}");
    let e = error_of(r.post("/api/approve", r#"{"reviewer":"Ada","note":"looks fine"}"#), 409);
    assert!(e.contains("cannot approve") && e.contains("keep_out"), "{e}");
    assert!(!r.dir.path().join("plan.reviewed.json").exists());

    // A name and a note are both needed.
    let e = error_of(r.post("/api/approve", r#"{"reviewer":"  ","note":"x"}"#), 400);
    assert!(e.contains("name and a note"), "{e}");

    // Back where it was: both gates pass; an approval of a stale version is refused.
    let s =
        r.post_ok("/api/edit", &json!({"op": "move", "index": 3, "x": x3, "y": y3}).to_string());
    assert_eq!(s["evaluation"]["pass"], json!(true));
    let version = s["version"].as_u64().unwrap();
    let stale = json!({"reviewer": "Ada", "note": "n", "version": version - 1}).to_string();
    let e = error_of(r.post("/api/approve", &stale), 409);
    assert!(e.contains("changed while you looked"), "{e}");
    let body = json!({"reviewer": "Ada Lovelace", "note": "moved wp 3 into the sand and back", "version": version});
    let a = r.post_ok("/api/approve", &body.to_string());
    assert_eq!(a["reviewer"], json!("Ada Lovelace"));

    let text = std::fs::read_to_string(r.dir.path().join("plan.reviewed.json")).unwrap();
    let rec: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(rec["waypoints"], original);
    assert_eq!(rec["provenance"]["sol"], json!("plains-02-keepout"));
    assert_eq!(rec["provenance"]["model"], json!("reference"));
    let review = &rec["review"];
    assert_eq!(review["reviewer"], json!("Ada Lovelace"));
    assert_eq!(review["note"], json!("moved wp 3 into the sand and back"));
    let edits = review["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert_eq!(edits[0]["edit"]["op"], json!("move"));
    assert_eq!(edits[0]["edit"]["x"], json!(IN_KEEP_OUT.0));
    assert_eq!(edits[0]["pass"], json!(false));
    assert_eq!(edits[1]["pass"], json!(true));
    assert!(edits[0]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(review["verdict"]["pass"], json!(true));
    assert_eq!(review["twin_verdict"]["pass"], json!(true));
    assert_eq!(review["original_waypoints"].as_array().unwrap().len(), 11);
    // A plan file any command reads; the sequence beside it; no temporary files left.
    breadcrumb_tools::checker::Plan::from_json(&text, "plan.reviewed.json").unwrap();
    let xml = std::fs::read_to_string(r.dir.path().join("sequence.reviewed.xml")).unwrap();
    assert!(xml.starts_with("<?xml"), "{}", &xml[..80.min(xml.len())]);
    let names: Vec<String> = std::fs::read_dir(r.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");

    let (status, gj) = r.get("/api/export.geojson");
    assert_eq!(status, 200);
    let gj: Value = serde_json::from_str(&gj).unwrap();
    assert_eq!(gj["features"][0]["geometry"]["type"], json!("LineString"));
    assert_eq!(gj["features"][0]["properties"]["approved_by"], json!("Ada Lovelace"));
    assert_eq!(gj["features"].as_array().unwrap().len(), 12);
}

#[test]
fn a_second_client_sees_the_latest_state() {
    let r = Running::start();
    let read = |path: &str| -> Value { serde_json::from_str(&r.get(path).1).unwrap() };
    let v0 = read("/api/version")["version"].as_u64().unwrap();
    // The other tab inserts a waypoint on the first segment; undo and redo move on as well.
    let s = r.post_ok("/api/edit", r#"{"op":"insert","index":1,"x":-100.0,"y":1090665.0}"#);
    assert_eq!(s["waypoints"].as_array().unwrap().len(), 12);
    assert_eq!(read("/api/version")["version"].as_u64().unwrap(), v0 + 1);
    let st = read("/api/state");
    assert_eq!(st["version"].as_u64().unwrap(), v0 + 1);
    assert_eq!(st["waypoints"][1], json!({"x": -100.0, "y": 1_090_665.0}));
    assert_eq!(st["can_undo"], json!(true));
    let s = r.post_ok("/api/edit", r#"{"op":"undo"}"#);
    assert_eq!(s["waypoints"].as_array().unwrap().len(), 11);
    assert_eq!(s["can_redo"], json!(true));
    let s = r.post_ok("/api/edit", r#"{"op":"redo"}"#);
    assert_eq!(s["waypoints"].as_array().unwrap().len(), 12);
    let s = r.post_ok("/api/edit", r#"{"op":"delete","index":1}"#);
    assert_eq!(s["waypoints"].as_array().unwrap().len(), 11);
    assert_eq!(read("/api/state")["history"].as_array().unwrap().len(), 4);
    assert_eq!(read("/api/version")["version"].as_u64().unwrap(), v0 + 4);

    // A tab that has not seen the latest version cannot apply its (stale) indices.
    let v = v0 + 4;
    let edit = r#"{"op":"delete","index":3}"#;
    let stale = (v - 1).to_string();
    let (status, body) = request(
        r.addr,
        "POST",
        "/api/edit",
        &[("x-review-token", &r.token), ("x-review-base-version", &stale)],
        Some(edit),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("changed in another tab"), "{body}");
    let current = v.to_string();
    let (status, body) = request(
        r.addr,
        "POST",
        "/api/edit",
        &[("x-review-token", &r.token), ("x-review-base-version", &current)],
        Some(edit),
    );
    assert_eq!(status, 200, "{body}");
}
