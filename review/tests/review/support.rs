//! A review server on a fixture sol in a background thread, and a raw HTTP/1.1 client (raw, so
//! that paths like `/../` reach the server as written, not normalised by a client library).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use breadcrumb_review::session::{Context, Review};
use breadcrumb_review::Server;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The fixture sol: a 40 m keep-out square on the straight line, rocks about.
pub fn sol_path() -> PathBuf {
    repo().join("fixtures/sols/plains-02-keepout.toml")
}

/// A running review of a passing 263 m plan of the fixture sol (copied into a temporary
/// directory, where the approval is written). Stops the server when dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub token: String,
    pub url: String,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    pub fn start() -> Running {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.json");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plains-02-plan.json"),
            &plan,
        )
        .unwrap();
        let review = Review::new(Context::open_sol(&sol_path(), &plan).unwrap()).unwrap();
        assert!(review.lock().evaluation.pass, "the fixture plan must pass both gates");
        let server = Server::bind(review, None).unwrap();
        let addr = server.addr().unwrap();
        assert!(addr.ip().is_loopback(), "{addr}");
        let token = server.token().to_owned();
        let url = server.url();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            server
                .run_until(async {
                    let _ = rx.await;
                })
                .unwrap();
        });
        Running { addr, token, url, dir, stop: Some(tx), thread: Some(thread) }
    }

    /// A request with the token in the header.
    pub fn get(&self, path: &str) -> (u16, String) {
        request(self.addr, "GET", path, &[("x-review-token", &self.token)], None)
    }

    /// A POST of `body` with the token in the header.
    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        request(self.addr, "POST", path, &[("x-review-token", &self.token)], Some(body))
    }

    /// A POST whose answer must be 200, parsed.
    pub fn post_ok(&self, path: &str, body: &str) -> serde_json::Value {
        let (status, text) = self.post(path, body);
        assert_eq!(status, 200, "{path} {body}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One HTTP/1.1 request over a fresh connection: the status and the body as text.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let body = body.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        let _ = write!(req, "{k}: {v}\r\n");
    }
    if method == "POST" {
        let _ = write!(req, "Content-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status: u16 = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}
