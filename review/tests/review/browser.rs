//! The page in a real headless Chromium, driven over the DevTools protocol with real mouse
//! events: drag a waypoint into a mapped hazard and see the violation, drag it back and see
//! PASS, approve, and find the record on disk; the console stays clean throughout. Screenshots
//! go to `target/tmp/review-screenshots/` (look at them).

use serde_json::Value;

use crate::cdp::Browser;
use crate::support::Running;

/// The container position (CSS pixels, page coordinates) of map point `(x, y)`.
fn screen(b: &mut Browser, x: f64, y: f64) -> (f64, f64) {
    let v = b.eval(&format!(
        "(() => {{ const m = breadcrumbReview.map; const p = m.latLngToContainerPoint(L.latLng({y}, {x})); \
         const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }})()"
    ));
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

fn version(b: &mut Browser) -> u64 {
    b.eval("breadcrumbReview.state.version").as_u64().unwrap()
}

fn text(b: &mut Browser, id: &str) -> String {
    b.eval(&format!("document.getElementById('{id}').textContent"))
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn an_engineer_drags_a_waypoint_into_a_hazard_and_back_and_approves() {
    let r = Running::start();
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("review-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut b = Browser::start(1400, 900);
    b.goto(&r.url);
    b.wait_for("window.breadcrumbReview && breadcrumbReview.ready && breadcrumbReview.state", 60);
    // Every visible tile loaded.
    b.wait_for(
        "document.querySelectorAll('.leaflet-tile').length > 0 && \
         [...document.querySelectorAll('.leaflet-tile')].every(t => t.complete && t.naturalWidth > 0)",
        60,
    );
    assert_eq!(text(&mut b, "verdict"), "PASS");
    std::thread::sleep(std::time::Duration::from_millis(500)); // Leaflet fades tiles in
    b.screenshot(&shots.join("1-loaded.png"));

    // The waypoint (not the start or the last) nearest a mapped hazard, and that hazard.
    let pick = b.eval(
        "(() => { const R = breadcrumbReview, w = R.state.waypoints; let best = null;
           for (const f of R.session.hazards.features) {
             const ring = f.geometry.coordinates[0][0];
             const cx = ring.reduce((a, p) => a + p[0], 0) / ring.length;
             const cy = ring.reduce((a, p) => a + p[1], 0) / ring.length;
             for (let i = 1; i + 1 < w.length; i++) {
               const d = Math.hypot(w[i].x - cx, w[i].y - cy);
               if (!best || d < best.d) best = { i, d, cx, cy, x: w[i].x, y: w[i].y, cls: f.properties.class };
             }
           }
           return best; })()",
    );
    let i = pick["i"].as_u64().unwrap();
    let f = |k: &str| pick[k].as_f64().unwrap();
    let (wx, wy, hx, hy) = (f("x"), f("y"), f("cx"), f("cy"));
    eprintln!(
        "dragging waypoint {i} ({wx}, {wy}) onto the mapped {} at ({hx:.2}, {hy:.2})",
        pick["cls"]
    );

    // Drag it onto the hazard with the mouse: the checker's violation appears.
    let v0 = version(&mut b);
    let from = screen(&mut b, wx, wy);
    let to = screen(&mut b, hx, hy);
    b.drag(from, to, 12);
    b.wait_for(&format!("breadcrumbReview.state.version > {v0} && !breadcrumbReview.busy"), 60);
    assert_eq!(text(&mut b, "verdict"), "FAIL");
    let rules = b.eval(
        "[...document.querySelectorAll('#violations li[data-rule]')].map(li => li.dataset.gate + ' ' + li.dataset.rule)",
    );
    let rules: Vec<&str> = rules.as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(rules.contains(&"checker hazards"), "{rules:?}");
    let marks = b.eval("document.querySelectorAll('path.violation-mark.checker').length");
    assert!(marks.as_u64().unwrap() > 0, "no violation drawn on the map");
    let ms_fail = b.eval("breadcrumbReview.lastEditMs").as_f64().unwrap();
    let moved = b.eval(&format!("breadcrumbReview.state.waypoints[{i}]"));
    eprintln!("waypoint {i} now at {moved}: {rules:?}");
    b.screenshot(&shots.join("2-violation.png"));

    // And back: both gates pass again.
    let v1 = version(&mut b);
    let from = screen(&mut b, moved["x"].as_f64().unwrap(), moved["y"].as_f64().unwrap());
    let to = screen(&mut b, wx, wy);
    b.drag(from, to, 12);
    b.wait_for(&format!("breadcrumbReview.state.version > {v1} && !breadcrumbReview.busy"), 60);
    assert_eq!(text(&mut b, "verdict"), "PASS", "{:?}", b.eval("breadcrumbReview.state.waypoints"));
    let ms_pass = b.eval("breadcrumbReview.lastEditMs").as_f64().unwrap();
    let length =
        b.eval("breadcrumbReview.state.evaluation.verdict.summary.length_m").as_f64().unwrap();
    eprintln!(
        "re-check measured from the page (performance.now() around the POST and the redraw), \
         {length:.0} m plan: {ms_fail:.0} ms (into the hazard), {ms_pass:.0} ms (back)"
    );

    // Approve: a name, a note, the button (enabled only now).
    b.eval("document.getElementById('reviewer').focus()");
    b.call("Input.insertText", serde_json::json!({"text": "Grace Hopper"}));
    b.eval("document.getElementById('note').focus()");
    b.call(
        "Input.insertText",
        serde_json::json!({"text": "Tried the rock by waypoint; back on the planned line."}),
    );
    b.wait_for("!document.getElementById('approve').disabled", 10);
    let rect = b.eval(
        "(() => { const r = document.getElementById('approve').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()",
    );
    b.click(rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
    b.wait_for("document.getElementById('approval-status').textContent.includes('approved')", 30);
    b.screenshot(&shots.join("3-approved.png"));

    let rec: Value = serde_json::from_str(
        &std::fs::read_to_string(r.dir.path().join("plan.reviewed.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rec["review"]["reviewer"], serde_json::json!("Grace Hopper"));
    let edits = rec["review"]["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert_eq!(edits[0]["edit"]["op"], serde_json::json!("move"));
    assert_eq!(edits[0]["edit"]["index"], serde_json::json!(i));
    assert_eq!(edits[0]["pass"], serde_json::json!(false));
    assert_eq!(edits[1]["pass"], serde_json::json!(true));
    assert!(r.dir.path().join("sequence.reviewed.xml").is_file());

    // The re-check latency as the page sees it (performance.now() around the POST and the
    // redraw), over twenty more edits of the whole plan (undo, redo, ...).
    let times = b.eval(
        "(async () => { const R = breadcrumbReview, out = [];
           for (let k = 0; k < 20; k++) { await R.edit({ op: k % 2 ? 'redo' : 'undo' }); out.push(R.lastEditMs); }
           return out; })()",
    );
    let mut times: Vec<f64> =
        times.as_array().unwrap().iter().map(|t| t.as_f64().unwrap()).collect();
    times.sort_by(f64::total_cmp);
    eprintln!(
        "re-check from the page over 20 edits of the {length:.0} m plan: median {:.0} ms, max {:.0} ms",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    b.mouse("mouseMoved", 700.0, 800.0, 0);
    b.screenshot(&shots.join("4-probe.png"));

    // Click the middle of the first segment: a waypoint is inserted there; right-click it:
    // it is deleted.
    let w = b.eval("breadcrumbReview.state.waypoints");
    let n = w.as_array().unwrap().len();
    let mid = |k: &str| f64::midpoint(w[0][k].as_f64().unwrap(), w[1][k].as_f64().unwrap());
    let at = screen(&mut b, mid("x"), mid("y"));
    let v = version(&mut b);
    b.click(at.0, at.1);
    b.wait_for(&format!("breadcrumbReview.state.version > {v} && !breadcrumbReview.busy"), 60);
    assert_eq!(b.eval("breadcrumbReview.state.waypoints.length").as_u64().unwrap() as usize, n + 1);
    let new = b.eval("breadcrumbReview.state.waypoints[1]");
    let at = screen(&mut b, new["x"].as_f64().unwrap(), new["y"].as_f64().unwrap());
    let v = version(&mut b);
    b.right_click(at.0, at.1);
    b.wait_for(&format!("breadcrumbReview.state.version > {v} && !breadcrumbReview.busy"), 60);
    assert_eq!(b.eval("breadcrumbReview.state.waypoints.length").as_u64().unwrap() as usize, n);
    assert_eq!(text(&mut b, "verdict"), "PASS");

    // The other terrain layers, chosen in the layer control with the mouse.
    for (name, shot) in [
        ("Slope", "5-slope.png"),
        ("Terrain classes", "6-classes.png"),
        ("Mapped hazards", "7-hazards.png"),
    ] {
        let rect = b.eval(&format!(
            "(() => {{ const l = [...document.querySelectorAll('.leaflet-control-layers-base label')]
                 .find(l => l.textContent.trim() === '{name}');
               const r = l.querySelector('input').getBoundingClientRect();
               return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
        ));
        b.click(rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
        let layer = name.split(' ').next_back().unwrap().to_lowercase();
        let layer = if layer == "hazards" { "hazards".to_owned() } else { layer };
        b.wait_for(
            &format!(
                "[...document.querySelectorAll('.leaflet-tile')].some(t => t.src.includes('/tiles/{layer}/')) && \
                 [...document.querySelectorAll('.leaflet-tile')].filter(t => t.src.includes('/tiles/{layer}/')).every(t => t.complete && t.naturalWidth > 0)"
            ),
            120,
        );
        std::thread::sleep(std::time::Duration::from_millis(500)); // Leaflet fades tiles in
        b.screenshot(&shots.join(shot));
    }

    let problems = b.problems();
    assert!(problems.is_empty(), "console: {problems:#?}");
    eprintln!("screenshots in {}", shots.display());
}
