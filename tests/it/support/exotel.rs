//! A fake Exotel recording host following the spec: private recordings behind Basic auth
//! (API key:token), with scripted failures per path.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The body every good recording returns.
pub const RECORDING_BYTES: &[u8] = b"ID3\x03\x00fake-mp3-recording-bytes";

struct Inner {
    hits: Mutex<HashMap<String, u32>>,
    /// Scripted Call Details answers per CallSid, served in order (the last one repeats).
    details: Mutex<HashMap<String, Vec<serde_json::Value>>>,
    healed: AtomicBool,
    /// The account API stops answering (a host that times out).
    stalled: AtomicBool,
    /// `stall` recordings send their first half, then wait for this to turn true.
    release: tokio::sync::watch::Sender<bool>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            hits: Mutex::default(),
            details: Mutex::default(),
            healed: AtomicBool::default(),
            stalled: AtomicBool::default(),
            release: tokio::sync::watch::Sender::new(false),
        }
    }
}

/// The running fake, with request counters.
#[derive(Clone)]
pub struct FakeExotel {
    /// Base URL, e.g. `http://127.0.0.1:4321`.
    pub base: String,
    auth: String,
    inner: Arc<Inner>,
}

impl FakeExotel {
    /// Starts it on a free port, demanding `key:token`.
    pub async fn start(key: &str, token: &str) -> FakeExotel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeExotel {
            base: format!("http://{}", listener.local_addr().unwrap()),
            auth: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{key}:{token}"))
            ),
            inner: Arc::default(),
        };
        let router = Router::new()
            .route("/exotelrecordings/{mode}/{file}", get(recording))
            .route("/v1/Accounts/{account}/Calls/{file}", get(call_details))
            .route("/v1/Accounts/{file}", get(account))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    /// A recording URL: mode `ok`, `flaky` (404 twice, then 200), `broken` (500 until healed)
    /// or `stall` (half the body, then nothing until released).
    pub fn url(&self, mode: &str, call_sid: &str) -> String {
        format!("{}/exotelrecordings/{mode}/{call_sid}.mp3", self.base)
    }

    /// Requests seen for a mode and call.
    pub fn hits(&self, mode: &str, call_sid: &str) -> u32 {
        let key = format!("{mode}/{call_sid}.mp3");
        *self.inner.hits.lock().unwrap().get(&key).unwrap_or(&0)
    }

    /// True when the request carries the tenant's Basic auth.
    fn authorised(&self, headers: &HeaderMap) -> bool {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == self.auth)
    }

    /// Call Details requests seen for a call.
    pub fn details_hits(&self, account: &str, call_sid: &str) -> u32 {
        let key = format!("details/{account}/{call_sid}");
        *self.inner.hits.lock().unwrap().get(&key).unwrap_or(&0)
    }

    /// Scripts the Call Details API's answers for a call (the last one repeats).
    pub fn script_details(&self, call_sid: &str, answers: Vec<serde_json::Value>) {
        self.inner
            .details
            .lock()
            .unwrap()
            .insert(call_sid.to_string(), answers);
    }

    /// Lets `stall` recordings finish.
    pub fn release(&self) {
        self.inner.release.send_replace(true);
    }

    /// The account API stops answering from now on.
    pub fn stall(&self) {
        self.inner.stalled.store(true, Ordering::SeqCst);
    }

    /// Makes `broken` recordings succeed from now on.
    pub fn heal(&self) {
        self.inner.healed.store(true, Ordering::SeqCst);
    }
}

/// The account this fake serves.
pub const ACCOUNT_SID: &str = "acme1";

/// `GET /v1/Accounts/{sid}.json`: 200 with the account for its own SID and credentials, 401
/// for other credentials (as Exotel answers credentials of another cluster), 404 for an unknown
/// SID.
async fn account(
    State(fake): State<FakeExotel>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if fake.inner.stalled.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
    if !fake.authorised(&headers) {
        let body = serde_json::json!({"RestException": {"Status": 401, "Message": "Authentication is required to view this resource."}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    if file.trim_end_matches(".json") != ACCOUNT_SID {
        return StatusCode::NOT_FOUND.into_response();
    }
    axum::Json(serde_json::json!({"Account": {"Sid": ACCOUNT_SID, "FriendlyName": "Test Store", "Status": "active"}}))
        .into_response()
}

async fn call_details(
    State(fake): State<FakeExotel>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !fake.authorised(&headers) {
        let body = serde_json::json!({"RestException": {"Status": 401, "Message": "Authentication is required"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let sid = file.trim_end_matches(".json").to_string();
    *fake
        .inner
        .hits
        .lock()
        .unwrap()
        .entry(format!("details/{account}/{sid}"))
        .or_insert(0) += 1;
    let mut scripts = fake.inner.details.lock().unwrap();
    match scripts.get_mut(&sid) {
        Some(answers) if !answers.is_empty() => {
            let answer = if answers.len() > 1 {
                answers.remove(0)
            } else {
                answers[0].clone()
            };
            axum::Json(answer).into_response()
        }
        _ => {
            let body =
                serde_json::json!({"RestException": {"Status": 404, "Message": "Call not found"}});
            (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
        }
    }
}

async fn recording(
    State(fake): State<FakeExotel>,
    Path((mode, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !fake.authorised(&headers) {
        return (StatusCode::UNAUTHORIZED, "auth required").into_response();
    }
    let hits = {
        let mut map = fake.inner.hits.lock().unwrap();
        let entry = map.entry(format!("{mode}/{file}")).or_insert(0);
        *entry += 1;
        *entry
    };
    let fail = match mode.as_str() {
        "flaky" => hits <= 2,
        "broken" => !fake.inner.healed.load(Ordering::SeqCst),
        _ => false,
    };
    if mode == "stall" {
        let released = fake.inner.release.subscribe();
        let (first, second) = RECORDING_BYTES.split_at(8);
        let body = futures::stream::unfold(0u8, move |step| {
            let mut released = released.clone();
            async move {
                match step {
                    0 => Some((Ok::<_, std::io::Error>(first.to_vec()), 1)),
                    1 => {
                        let _ = released.wait_for(|done| *done).await;
                        Some((Ok(second.to_vec()), 2))
                    }
                    _ => None,
                }
            }
        });
        return (
            [("content-type", "audio/mpeg")],
            axum::body::Body::from_stream(body),
        )
            .into_response();
    }
    match (fail, mode.as_str()) {
        (true, "flaky") => (StatusCode::NOT_FOUND, "not yet").into_response(),
        (true, _) => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        (false, _) => ([("content-type", "audio/mpeg")], RECORDING_BYTES).into_response(),
    }
}
