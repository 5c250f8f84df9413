//! The app's stylesheet, script and icon, compiled into the binary and served with a version in
//! the path so browsers may keep them.

use crate::ApiState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const CSS: &str = include_str!("../../assets/app/app.css");
const JS: &str = include_str!("../../assets/app/app.js");
const ICON: &str = include_str!("../../assets/app/icon.svg");

/// The path of the stylesheet (the version changes with each build of Caly).
pub(crate) const CSS_PATH: &str = concat!("/assets/", env!("CARGO_PKG_VERSION"), "/app.css");
/// The path of the script.
pub(crate) const JS_PATH: &str = concat!("/assets/", env!("CARGO_PKG_VERSION"), "/app.js");
/// The path of the icon.
pub(crate) const ICON_PATH: &str = concat!("/assets/", env!("CARGO_PKG_VERSION"), "/icon.svg");

fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

pub(super) fn router() -> Router<ApiState> {
    Router::new()
        .route(
            "/assets/{version}/app.css",
            get(|| async { file("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/assets/{version}/app.js",
            get(|| async { file("text/javascript; charset=utf-8", JS) }),
        )
        .route(
            "/assets/{version}/icon.svg",
            get(|| async { file("image/svg+xml", ICON) }),
        )
}
