//! Caly's HTTP layer (axum): Exotel webhooks and the Voicebot socket, the tenant REST API, the web
//! app's server-rendered pages (`web`), signed object links and
//! health checks. Thin: it validates, persists, enqueues and answers. Depends on `caly-core`;
//! only the `caly` binary (and tests) depend on it.

pub mod access;
mod accounts;
mod admin;
mod analytics;
mod body;
mod calls;
mod error;
mod exports;
mod google;
mod health;
mod hooks;
mod hygiene;
mod integrations;
mod invitations;
mod limits;
mod objects;
pub mod openapi;
mod operator;
mod people;
mod signup;
mod stage_runs;
mod store;
mod tasks;
mod teams;
mod turns;
mod voice;
mod web;

pub use error::ApiError;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::Request;
use caly_core::App;
use std::future::Future;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// The api's shared state.
#[derive(Clone)]
pub struct ApiState {
    /// The core context.
    pub app: App,
}

/// Builds the router with request ids and tracing. Spans carry the matched route template,
/// never the raw path, so webhook secrets in URLs stay out of logs.
pub fn build(app: App) -> Router {
    let hygiene = hygiene::layers(&app.settings);
    let state = ApiState { app };
    Router::new()
        .merge(health::router())
        .merge(hooks::router())
        .merge(calls::router())
        .merge(analytics::router())
        .merge(exports::router())
        .merge(objects::router())
        .merge(stage_runs::router())
        .merge(turns::router())
        .merge(tasks::router())
        .merge(store::router())
        .merge(voice::router())
        .merge(accounts::router())
        .merge(signup::router())
        .merge(people::router())
        .merge(integrations::router())
        .merge(invitations::router())
        .merge(teams::router())
        .merge(openapi::router())
        .merge(admin::router())
        .merge(google::router())
        .merge(operator::router())
        .merge(web::router())
        .with_state(state)
        .layer(axum::middleware::from_fn(error::with_request_id))
        .layer(hygiene)
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "unmatched".into());
                let request_id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string();
                tracing::info_span!("http", method = %request.method(), route, request_id)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Serves the api on `listener` until `shutdown` resolves. Nagle's algorithm is off on every
/// connection: a Voicebot reply is a run of small socket writes, and a write held back for the
/// peer's delayed acknowledgement would add up to 40 ms to what the caller hears.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on a connection");
        }
    });
    let service = build(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
