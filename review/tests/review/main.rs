//! The review server's tests: HTTP (token, traversal, bad edits, approval, a second client)
//! over real sockets, and the page in a real headless Chromium.

mod browser;
mod cdp;
mod http;
mod support;
