//! The page's files, compiled into the binary: the review needs nothing on disk but the run and
//! its bundle, and the page requests nothing off 127.0.0.1. Leaflet 1.9.4 is vendored under
//! `assets/vendor/` (BSD-2-Clause; its README says where it came from).
//!
//! A request names an asset by its exact name in [`ASSETS`]; anything else (`..`, an encoded
//! slash, a file that exists on disk) is simply not in the table, so no path reaches the file
//! system.

/// The page, with `{{TOKEN}}` where the session token goes.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");

/// An embedded file: its name under `/assets/`, content type and bytes.
pub struct Asset {
    /// Name under `/assets/`.
    pub name: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The file.
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $ty:literal, $path:literal) => {
        Asset { name: $name, content_type: $ty, bytes: include_bytes!($path) }
    };
}

/// Every file under `/assets/`.
pub const ASSETS: &[Asset] = &[
    asset!("app.js", "text/javascript; charset=utf-8", "../assets/app.js"),
    asset!("app.css", "text/css; charset=utf-8", "../assets/app.css"),
    asset!(
        "vendor/leaflet-1.9.4/leaflet.js",
        "text/javascript; charset=utf-8",
        "../assets/vendor/leaflet-1.9.4/leaflet.js"
    ),
    asset!(
        "vendor/leaflet-1.9.4/leaflet.css",
        "text/css; charset=utf-8",
        "../assets/vendor/leaflet-1.9.4/leaflet.css"
    ),
    asset!(
        "vendor/leaflet-1.9.4/images/layers.png",
        "image/png",
        "../assets/vendor/leaflet-1.9.4/images/layers.png"
    ),
    asset!(
        "vendor/leaflet-1.9.4/images/layers-2x.png",
        "image/png",
        "../assets/vendor/leaflet-1.9.4/images/layers-2x.png"
    ),
    asset!(
        "vendor/leaflet-1.9.4/images/marker-icon.png",
        "image/png",
        "../assets/vendor/leaflet-1.9.4/images/marker-icon.png"
    ),
    asset!(
        "vendor/leaflet-1.9.4/images/marker-icon-2x.png",
        "image/png",
        "../assets/vendor/leaflet-1.9.4/images/marker-icon-2x.png"
    ),
    asset!(
        "vendor/leaflet-1.9.4/images/marker-shadow.png",
        "image/png",
        "../assets/vendor/leaflet-1.9.4/images/marker-shadow.png"
    ),
    asset!(
        "vendor/leaflet-1.9.4/LICENSE",
        "text/plain; charset=utf-8",
        "../assets/vendor/leaflet-1.9.4/LICENSE"
    ),
];

/// The asset named exactly `name`.
#[must_use]
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}
