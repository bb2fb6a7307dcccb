//! The review server of `breadcrumb review`: one page on 127.0.0.1 where an engineer inspects a
//! plan over the sol's terrain, drags, inserts and deletes waypoints with the safety checker and
//! the digital twin re-judging every edit, and approves the result with a record.
//!
//! - [`session`]: what is reviewed ([`session::Context`]) and the edits made to it
//!   ([`session::Review`]), each re-checked by the same checker and twin as `breadcrumb check`
//!   and `breadcrumb twin`.
//! - [`approval`]: `plan.reviewed.json` and `sequence.reviewed.xml`, written atomically.
//! - [`tiles`]: the sol's area cut into map tiles, rendered by the tools' tile code.
//! - [`routes`]: the HTTP routes, all behind a random session token.
//! - [`assets`]: the page and vendored Leaflet, compiled in.
//!
//! Units: map metres (x east, y north, the DEM's projected CRS), degrees.
//!
//! ```no_run
//! use breadcrumb_review::{session::{Context, Review}, Server};
//!
//! let review = Review::new(Context::open_run("out/demo/runs/demo".as_ref())?)?;
//! let server = Server::bind(review, None)?;
//! println!("{}", server.url());
//! server.run_until_ctrl_c()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod approval;
pub mod assets;
pub mod error;
pub mod routes;
pub mod session;
pub mod tiles;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;

use rand::RngCore;

pub use error::{Result, ReviewError};
use session::Review;

/// A review bound to a port on 127.0.0.1, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    app: routes::App,
}

impl Server {
    /// Binds 127.0.0.1 (never another interface) at `port`, or at a free port when `None`,
    /// and makes a fresh 128-bit session token.
    pub fn bind(review: Review, port: Option<u16>) -> Result<Server> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port.unwrap_or(0)));
        let listener = TcpListener::bind(addr)
            .map_err(|e| ReviewError::io(format!("127.0.0.1:{}", port.unwrap_or(0)), e))?;
        listener.set_nonblocking(true).map_err(|e| ReviewError::io("listener", e))?;
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = bytes.iter().fold(String::with_capacity(32), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
        let port = listener.local_addr().map_err(|e| ReviewError::io("listener", e))?.port();
        let tiles = tiles::Tiles::new(&review.ctx.bundle, review.ctx.area);
        let app = routes::App {
            review: Arc::new(review),
            tiles: Arc::new(tiles),
            token: token.into(),
            cookie: format!("breadcrumb_review_{port}").into(),
        };
        Ok(Server { listener, app })
    }

    /// The address served.
    pub fn addr(&self) -> Result<SocketAddr> {
        self.listener.local_addr().map_err(|e| ReviewError::io("listener", e))
    }

    /// The session token.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.app.token
    }

    /// The page's URL, token included.
    #[must_use]
    pub fn url(&self) -> String {
        let port = self.listener.local_addr().map_or(0, |a| a.port());
        format!("http://127.0.0.1:{port}/?token={}", self.app.token)
    }

    /// The review served (for tests and the command's summary).
    #[must_use]
    pub fn review(&self) -> Arc<Review> {
        Arc::clone(&self.app.review)
    }

    /// Serves until `shutdown` completes, then stops taking requests and waits for those in
    /// flight (an approval being written finishes first).
    pub fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| ReviewError::io("tokio runtime", e))?;
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)
                .map_err(|e| ReviewError::io("listener", e))?;
            axum::serve(listener, routes::router(self.app))
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(|e| ReviewError::io("127.0.0.1", e))
        })
    }

    /// Serves until Ctrl-C (SIGINT).
    pub fn run_until_ctrl_c(self) -> Result<()> {
        self.run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
