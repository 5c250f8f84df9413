//! Exotel's Voicebot socket: `GET /voice/exotel/{tenant}/{secret}` (the secret in the path) or
//! `GET /voice/exotel/{tenant}` with `Authorization: Basic base64(tenant:secret)` (the
//! `wss://{tenant}:{secret}@…` form). With an Upgrade header it becomes the live call; without
//! one it answers `{"url": "wss://…"}` for applets configured with an https URL. Unknown tenant
//! and wrong secret get the same bare 404. The call itself runs in `caly_core::voice::session`;
//! this module only moves websocket messages.

use crate::{ApiError, ApiState};
use axum::Json;
use axum::Router;
use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use caly_core::{App, TenantId, tenancy};
use caly_entities::tenant;
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::mpsc;

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/voice/exotel/{tenant}/{secret}", get(with_secret))
        .route("/voice/exotel/{tenant}", get(with_basic_auth))
}

fn no_such_socket() -> ApiError {
    ApiError::not_found("voicebot socket")
}

async fn with_secret(
    State(ApiState { app }): State<ApiState>,
    Path((tenant, secret)): Path<(String, String)>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let tenant = authenticate(&app, &tenant, &secret).await?;
    let url = format!(
        "{}/voice/exotel/{}/{secret}",
        ws_base(&app, None),
        tenant.id
    );
    Ok(answer(app, tenant, upgrade, url))
}

async fn with_basic_auth(
    State(ApiState { app }): State<ApiState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let (user, secret) = basic_auth(&headers).ok_or_else(no_such_socket)?;
    if user != tenant {
        return Err(no_such_socket());
    }
    let tenant = authenticate(&app, &tenant, &secret).await?;
    let url = format!(
        "{}/voice/exotel/{}",
        ws_base(&app, Some((&user, &secret))),
        tenant.id
    );
    Ok(answer(app, tenant, upgrade, url))
}

async fn authenticate(app: &App, tenant: &str, secret: &str) -> Result<tenant::Model, ApiError> {
    let id = TenantId(tenant.parse().map_err(|_| no_such_socket())?);
    tenancy::by_webhook_secret(&app.db, id, secret, Utc::now())
        .await?
        .ok_or_else(no_such_socket)
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, secret) = text.split_once(':')?;
    Some((user.to_string(), secret.to_string()))
}

/// `wss://` (or `ws://`) and the public host, optionally with credentials.
fn ws_base(app: &App, credentials: Option<(&str, &str)>) -> String {
    let base = app.settings.public_ws_base();
    match (credentials, base.split_once("://")) {
        (Some((user, secret)), Some((scheme, rest))) => {
            format!("{scheme}://{user}:{secret}@{rest}")
        }
        _ => base,
    }
}

fn answer(
    app: App,
    tenant: tenant::Model,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    url: String,
) -> Response {
    match upgrade {
        Ok(upgrade) => upgrade
            .max_message_size(MAX_MESSAGE_BYTES)
            .max_frame_size(MAX_MESSAGE_BYTES)
            .on_upgrade(move |socket| relay(socket, app, tenant))
            .into_response(),
        Err(_) => Json(json!({"url": url})).into_response(),
    }
}

/// The largest message the socket reads: Exotel's media frames are a few KiB of base64 audio.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The most messages the socket reads in one second: 20 ms frames are 50 a second.
const MAX_MESSAGES_PER_SEC: u32 = 200;

/// Counts messages per one-second window; past [`MAX_MESSAGES_PER_SEC`] the peer is flooding.
struct MessageRate {
    window: std::time::Instant,
    count: u32,
}

impl MessageRate {
    fn new() -> Self {
        MessageRate {
            window: std::time::Instant::now(),
            count: 0,
        }
    }

    /// Counts one message; false once this second has had too many.
    fn allow(&mut self) -> bool {
        if self.window.elapsed() >= std::time::Duration::from_secs(1) {
            self.window = std::time::Instant::now();
            self.count = 0;
        }
        self.count += 1;
        self.count <= MAX_MESSAGES_PER_SEC
    }
}

/// Moves text messages between the socket and the session until the session ends, then
/// closes the socket (which moves Exotel's flow on to the next applet). A message over 64 KiB,
/// or more than 200 messages in a second, ends the socket.
async fn relay(socket: WebSocket, app: App, tenant: tenant::Model) {
    let (mut sink, mut stream) = socket.split();
    let (in_tx, in_rx) = mpsc::channel::<String>(256);
    let (out_tx, mut out_rx) = mpsc::channel::<String>(256);
    let writer = tokio::spawn(async move {
        while let Some(text) = out_rx.recv().await {
            if sink.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
        let _ = sink.close().await;
    });
    let tenant_id = tenant.id;
    let reader = tokio::spawn(async move {
        let mut rate = MessageRate::new();
        while let Some(Ok(message)) = stream.next().await {
            if !rate.allow() {
                tracing::warn!(
                    tenant = tenant_id,
                    "voicebot socket sent over {MAX_MESSAGES_PER_SEC} messages in a second; closing it"
                );
                break;
            }
            let text = match message {
                Message::Text(text) => text.to_string(),
                Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Message::Close(_) => break,
                _ => continue,
            };
            if in_tx.send(text).await.is_err() {
                break;
            }
        }
    });
    let node = app.voice_calls.clone();
    caly_core::voice::session::run(app, tenant, node, in_rx, out_tx).await;
    reader.abort();
    let _ = writer.await;
}
