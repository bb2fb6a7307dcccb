//! The HTTP side: a fixed set of routes, every one behind the session token.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page (sets the token as a cookie, so the stylesheet's own image requests carry it) |
//! | `GET /assets/{name}` | an embedded file ([`crate::assets`]) |
//! | `GET /api/session` | what stays fixed: the sol, tile scheme, mapped hazards, the run's marks |
//! | `GET /api/state` | the current waypoints, both verdicts, wheel tracks, telemetry, history |
//! | `GET /api/version` | just the state's version, for tabs that poll |
//! | `POST /api/edit` | an [`Edit`]; answers the new state, or 400 saying what is wrong (409 when `x-review-base-version` is not the current version) |
//! | `POST /api/approve` | `{reviewer, note, version}`; 409 unless both gates pass |
//! | `GET /api/export.geojson` | the current route as GeoJSON (a download) |
//! | `GET /tiles/{layer}/{z}/{x}/{y}.png` | a map tile ([`crate::tiles`]) |
//!
//! The token may come as `?token=`, an `x-review-token` header or the cookie; anything without
//! it is refused with 403 before routing, and any other path is 404. Paths are matched, never
//! joined onto a directory, so `..` leads nowhere. Checks and tiles run on the blocking pool.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use breadcrumb_tools::perception::marks_file;
use breadcrumb_tools::tiles::Layer;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::approval;
use crate::assets;
use crate::error::ReviewError;
use crate::session::{Edit, Review};
use crate::tiles::Tiles;

/// Header that may carry the token.
pub const TOKEN_HEADER: &str = "x-review-token";

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct App {
    /// The review.
    pub review: Arc<Review>,
    /// Its tiles.
    pub tiles: Arc<Tiles>,
    /// The session token.
    pub token: Arc<str>,
    /// Name of the token cookie (per port: cookies ignore ports, two reviews must not mix).
    pub cookie: Arc<str>,
}

/// The router of `app`.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*name}", get(asset))
        .route("/api/session", get(session))
        .route("/api/state", get(state))
        .route("/api/version", get(version))
        .route("/api/edit", post(edit))
        .route("/api/approve", post(approve))
        .route("/api/export.geojson", get(export))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(tile))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), require_token))
        .with_state(app)
}

/// The token a request carries, from the query, the header or the cookie.
fn presented<'a>(req: &'a Request, cookie: &str) -> Option<&'a str> {
    let query = req.uri().query().unwrap_or("").split('&').find_map(|kv| kv.strip_prefix("token="));
    let header = || req.headers().get(TOKEN_HEADER).and_then(|v| v.to_str().ok());
    let cookie = || {
        req.headers().get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
            c.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == cookie).then_some(v)
            })
        })
    };
    query.or_else(header).or_else(cookie)
}

async fn require_token(State(app): State<App>, req: Request, next: Next) -> Response {
    let ok = presented(&req, &app.cookie)
        .is_some_and(|t| bool::from(t.as_bytes().ct_eq(app.token.as_bytes())));
    if ok {
        next.run(req).await
    } else {
        error(
            StatusCode::FORBIDDEN,
            "this review needs its session token: open the URL `breadcrumb review` printed",
        )
    }
}

/// A JSON error `{"error": message}`.
fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn review_error(e: &ReviewError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!("review: {e}");
    }
    error(status, &e.to_string())
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such page")
}

/// The page, with the token written in and set as a cookie. The content security policy keeps
/// every request on this server.
async fn index(State(app): State<App>) -> Response {
    let html = assets::INDEX_HTML.replace("{{TOKEN}}", &app.token);
    let cookie = format!("{}={}; Path=/; HttpOnly; SameSite=Strict", app.cookie, app.token);
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
             script-src 'self'; connect-src 'self'",
        ),
    );
    // The token is in the URL: never send it on as a referrer.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, v);
    }
    (headers, html).into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    match assets::find(&name) {
        Some(a) => ([(header::CONTENT_TYPE, a.content_type)], a.bytes).into_response(),
        None => not_found().await,
    }
}

/// Runs `f` on the blocking pool and answers its result.
async fn blocking(f: impl FnOnce() -> Result<Response, ReviewError> + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => review_error(&e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("the request failed: {e}")),
    }
}

async fn session(State(app): State<App>) -> Response {
    let r = &app.review;
    let ctx = &r.ctx;
    let marks: serde_json::Value =
        serde_json::from_str(&marks_file::to_geojson(&ctx.marks)).unwrap_or_default();
    let hazards: Vec<serde_json::Value> = ctx
        .bundle
        .hazards
        .iter()
        .map(|h| {
            let polys: Vec<Vec<Vec<[f64; 2]>>> = h
                .shape
                .0
                .iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|ring| ring.0.iter().map(|c| [c.x, c.y]).collect())
                        .collect()
                })
                .collect();
            serde_json::json!({
                "type": "Feature",
                "properties": {"class": h.class.as_str(), "index": h.index},
                "geometry": {"type": "MultiPolygon", "coordinates": polys},
            })
        })
        .collect();
    let body = serde_json::json!({
        "sol": &ctx.sol.sol,
        "rover": &ctx.profile.name,
        "plan": ctx.plan_path.display().to_string(),
        "out_dir": ctx.out_dir.display().to_string(),
        "original_waypoints": ctx.original.points(),
        "scheme": app.tiles.scheme,
        "layers": Layer::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "hazards": {"type": "FeatureCollection", "features": hazards},
        "marks": marks,
        "max_waypoints": crate::session::MAX_WAYPOINTS,
        "legend": legend(),
    });
    json(body.to_string())
}

/// The colours the tiles are painted with, from the tile code's own tables, for the page's
/// legend: the slope ramp's stops, each mapped-hazard class and each terrain class.
fn legend() -> serde_json::Value {
    use breadcrumb_tools::perception::Class;
    use breadcrumb_tools::terrain::HazardClass;
    use breadcrumb_tools::tiles::layers::{hazard_colour, SLOPE_RAMP};
    let hex = |c: [u8; 3]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    serde_json::json!({
        "slope": SLOPE_RAMP.iter().map(|(deg, c)| serde_json::json!([deg, hex(*c)])).collect::<Vec<_>>(),
        "hazards": HazardClass::ALL.iter().map(|h| serde_json::json!([h.as_str(), hex(hazard_colour(*h))])).collect::<Vec<_>>(),
        "classes": Class::ALL
            .iter()
            .filter(|c| c.hazard().is_some())
            .map(|c| {
                let [r, g, b, _] = c.rgba();
                serde_json::json!([c.name().replace('_', " "), hex([r, g, b])])
            })
            .collect::<Vec<_>>(),
    })
}

async fn state(State(app): State<App>) -> Response {
    blocking(move || {
        let st = app.review.lock();
        Ok(json(serde_json::to_string(&st.view()).unwrap_or_default()))
    })
    .await
}

async fn version(State(app): State<App>) -> Response {
    json(serde_json::json!({ "version": app.review.version() }).to_string())
}

/// Header with the state version an edit was made on (optional; see [`Review::apply`]).
pub const BASE_VERSION_HEADER: &str = "x-review-base-version";

async fn edit(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let base = match headers
        .get(BASE_VERSION_HEADER)
        .map(|v| v.to_str().ok().and_then(|v| v.parse().ok()))
    {
        None => None,
        Some(Some(v)) => Some(v),
        Some(None) => {
            return error(StatusCode::BAD_REQUEST, "x-review-base-version must be a version number")
        }
    };
    let edit: Edit = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "invalid edit ({e}); send JSON like {{\"op\": \"move\", \"index\": 2, \"x\": \
                     10.5, \"y\": -3.0}} with op move, insert, delete, replace, undo or redo \
                     and finite numbers"
                ),
            )
        }
    };
    blocking(move || {
        let st = app.review.apply(edit, base)?;
        Ok(json(serde_json::to_string(&st.view()).unwrap_or_default()))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveRequest {
    reviewer: String,
    note: String,
    #[serde(default)]
    version: Option<u64>,
}

/// Approves on the blocking pool; the handler waits for the write, and the server's graceful
/// shutdown waits for the handler, so Ctrl-C never cuts an approval short.
async fn approve(State(app): State<App>, body: Bytes) -> Response {
    let req: ApproveRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("invalid approval ({e}); send {{\"reviewer\": .., \"note\": ..}}"),
            )
        }
    };
    blocking(move || {
        let a = approval::approve(&app.review, &req.reviewer, &req.note, req.version)?;
        Ok(json(serde_json::to_string(&a).unwrap_or_default()))
    })
    .await
}

async fn export(State(app): State<App>) -> Response {
    let name = format!("{}.reviewed.geojson", app.review.ctx.sol.sol.id);
    let disposition = format!("attachment; filename=\"{}\"", name.replace(['"', '\\'], "_"));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    (headers, approval::route_geojson(&app.review)).into_response()
}

async fn tile(
    State(app): State<App>,
    Path((layer, z, x, y)): Path<(String, String, String, String)>,
) -> Response {
    let parsed = (|| {
        let layer: Layer = layer.parse().ok()?;
        let z: u8 = z.parse().ok()?;
        let x: u32 = x.parse().ok()?;
        let y: u32 = y.strip_suffix(".png")?.parse().ok()?;
        Some((layer, z, x, y))
    })();
    let Some((layer, z, x, y)) = parsed else {
        return not_found().await;
    };
    blocking(move || {
        Ok(match app.tiles.png(&app.review.ctx.bundle, layer, z, x, y)? {
            Some(png) => (
                [
                    (header::CONTENT_TYPE, "image/png"),
                    (header::CACHE_CONTROL, "private, max-age=3600"),
                ],
                png.as_ref().clone(),
            )
                .into_response(),
            None => error(StatusCode::NOT_FOUND, "no such tile"),
        })
    })
    .await
}
