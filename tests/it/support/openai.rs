//! A scripted OpenAI-compatible chat-completions server: each request takes the next step of
//! its script (a tool call, words, an error status, or a slow answer) and is kept, so a test
//! can see exactly what the model was sent. Bearer-key auth as OpenAI does it.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Step {
    /// Calls a tool with these arguments.
    Call(&'static str, Value),
    /// Answers with words.
    Say(&'static str),
    /// Fails with this HTTP status.
    Fail(u16),
    /// Waits, then takes the inner step.
    Slow(Duration, Box<Step>),
}

#[derive(Default)]
struct Inner {
    key: String,
    script: Mutex<VecDeque<Step>>,
    seen: Mutex<Vec<Value>>,
}

/// The running server.
#[derive(Clone)]
pub struct ScriptedModel {
    /// Its base URL (`…/v1`).
    pub base: String,
    inner: Arc<Inner>,
}

impl ScriptedModel {
    /// Starts it, accepting `key`.
    pub async fn start(key: &str) -> ScriptedModel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let model = ScriptedModel {
            base: format!("http://{}/v1", listener.local_addr().unwrap()),
            inner: Arc::new(Inner {
                key: key.to_string(),
                ..Inner::default()
            }),
        };
        let router = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(model.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        model
    }

    /// Adds steps to the script.
    pub fn script(&self, steps: impl IntoIterator<Item = Step>) {
        self.inner.script.lock().unwrap().extend(steps);
    }

    /// Every request body received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.inner.seen.lock().unwrap().clone()
    }
}

fn completion(message: Value, finish: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1_763_800_000,
        "model": "support-bot",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": null}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
}

async fn complete(
    State(model): State<ScriptedModel>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {}", model.inner.key) {
        let error = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(error)).into_response();
    }
    model.inner.seen.lock().unwrap().push(body.0);
    let mut step = model.inner.script.lock().unwrap().pop_front();
    loop {
        match step {
            Some(Step::Slow(wait, inner)) => {
                tokio::time::sleep(wait).await;
                step = Some(*inner);
            }
            Some(Step::Call(name, arguments)) => {
                let message = json!({"role": "assistant", "content": null, "tool_calls": [
                    {"id": format!("call_{name}"), "type": "function",
                     "function": {"name": name, "arguments": arguments.to_string()}}]});
                return axum::Json(completion(message, "tool_calls")).into_response();
            }
            Some(Step::Say(text)) => {
                let message = json!({"role": "assistant", "content": text});
                return axum::Json(completion(message, "stop")).into_response();
            }
            Some(Step::Fail(status)) => {
                let error = json!({"error": {"message": "The server had an error", "type": "server_error"}});
                let status = StatusCode::from_u16(status).unwrap();
                return (status, axum::Json(error)).into_response();
            }
            None => {
                let error =
                    json!({"error": {"message": "the script is over", "type": "server_error"}});
                return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(error)).into_response();
            }
        }
    }
}
