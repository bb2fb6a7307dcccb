//! A thin Chrome DevTools Protocol client: Debian's Chromium, headless, driven over one
//! websocket (`tungstenite`, blocking) with flattened target sessions. CDP is JSON over a
//! websocket; the big generated clients (`chromiumoxide`, `headless_chrome`) cost minutes of
//! cold compile on CI's two cores for the half-dozen methods a test calls.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The Chromium binary: `$BREADCRUMB_CHROMIUM`, else Debian's `/usr/bin/chromium`, else
/// `chromium` on the PATH. Missing Chromium fails the test: it is not skipped.
pub fn chromium() -> PathBuf {
    let candidates = std::env::var_os("BREADCRUMB_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/bin/chromium")])
        .chain(std::env::var_os("PATH").map_or_else(Vec::new, |p| {
            std::env::split_paths(&p).map(|d| d.join("chromium")).collect::<Vec<_>>()
        }));
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!(
        "no Chromium found ($BREADCRUMB_CHROMIUM, /usr/bin/chromium and the PATH): run \
         `scripts/setup --browser`"
    );
}

/// A headless Chromium and a DevTools session on one page.
pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: String,
    /// Events received while waiting for answers (console calls, exceptions, log entries).
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium (fresh profile, no network beyond what the page asks for) with a
    /// `width`×`height` window and attaches to a blank page.
    pub fn start(width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID".
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(i) = line.find("ws://") {
                        let _ = tx.send(line[i..].trim().to_owned());
                        sent = true;
                    }
                }
            }
        });
        let Ok(url) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium printed no DevTools URL within 60 s");
        };
        let (ws, _) = tungstenite::connect(url.as_str()).expect("connect to DevTools");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        }
        let mut b = Browser {
            child,
            ws,
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
            _profile: profile,
        };
        let target = b.call_browser("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = b
            .call_browser("Target.attachToTarget", json!({"targetId": target_id, "flatten": true}));
        attached["sessionId"].as_str().unwrap().clone_into(&mut b.session);
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            b.call(domain, json!({}));
        }
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        b
    }

    fn send(&mut self, method: &str, params: Value, session: Option<String>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method});
        msg["params"] = params;
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).expect("send to DevTools");
        loop {
            let m = self.ws.read().unwrap_or_else(|e| panic!("DevTools read ({method}): {e}"));
            let Message::Text(text) = m else { continue };
            let v: Value = serde_json::from_str(text.as_str()).unwrap();
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("DevTools {method} failed: {e}");
                }
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    /// Calls `method` on the page's session.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.send(method, params, Some(s))
    }

    /// Evaluates `expr` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("evaluating {expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Waits (up to `secs`) until `expr` is truthy in the page.
    pub fn wait_for(&mut self, expr: &str, secs: u64) {
        let t0 = Instant::now();
        loop {
            let v = self.eval(&format!("!!({expr})"));
            if v == json!(true) {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "waited {secs} s for `{expr}`; console: {:?}",
                self.problems()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Opens `url` and waits for its load event.
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for("document.readyState === 'complete'", 60);
    }

    /// One mouse event at `(x, y)` CSS pixels.
    pub fn mouse(&mut self, kind: &str, x: f64, y: f64, buttons: u32) {
        let button = if kind == "mouseMoved" && buttons == 0 { "none" } else { "left" };
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": x, "y": y, "button": button, "buttons": buttons, "clickCount": 1}),
        );
    }

    /// Drags with the left button from `a` to `b` in `steps` moves, as a hand would.
    pub fn drag(&mut self, a: (f64, f64), b: (f64, f64), steps: u32) {
        self.mouse("mouseMoved", a.0, a.1, 0);
        self.mouse("mousePressed", a.0, a.1, 1);
        for i in 1..=steps {
            let t = f64::from(i) / f64::from(steps);
            self.mouse("mouseMoved", a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, 1);
        }
        self.mouse("mouseReleased", b.0, b.1, 1);
    }

    /// A left click at `(x, y)`.
    pub fn click(&mut self, x: f64, y: f64) {
        self.mouse("mouseMoved", x, y, 0);
        self.mouse("mousePressed", x, y, 1);
        self.mouse("mouseReleased", x, y, 1);
    }

    /// A right click at `(x, y)` (the browser fires `contextmenu`).
    pub fn right_click(&mut self, x: f64, y: f64) {
        self.mouse("mouseMoved", x, y, 0);
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "right", "buttons": 2, "clickCount": 1}),
            );
        }
    }

    /// Saves a PNG of the page to `path`.
    pub fn screenshot(&mut self, path: &std::path::Path) {
        use base64::Engine as _;
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png =
            base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Console errors and warnings, uncaught exceptions and error log entries so far.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str() {
                Some("Runtime.consoleAPICalled")
                    if matches!(p["type"].as_str(), Some("error" | "warning" | "assert")) =>
                {
                    out.push(format!("console.{}: {}", p["type"], p["args"]));
                }
                Some("Runtime.exceptionThrown") => {
                    out.push(format!("exception: {}", p["exceptionDetails"]));
                }
                Some("Log.entryAdded")
                    if matches!(p["entry"]["level"].as_str(), Some("error" | "warning")) =>
                {
                    out.push(format!("log: {}", p["entry"]));
                }
                _ => {}
            }
        }
        out
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
