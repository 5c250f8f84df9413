//! Reading a request: `JsonBody<T>`, a JSON body whose problems come back in Caly's error shape
//! (415 `unsupported_media_type` unless it is sent as `application/json`, 400 `invalid_json`
//! for text that is not JSON, 422 `invalid_field` naming the field for a
//! missing, unknown or mistyped one); [`nullable`] for fields where `null` means "clear it"; and
//! [`path_id`] for numeric ids in paths.

use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// A parsed JSON body.
pub struct JsonBody<T>(pub T);

fn field_of(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

/// Turns a serde error into the api's error.
pub fn body_error(error: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = error.to_string();
    match error.classify() {
        Category::Data => {
            let text = message.split(" at line").next().unwrap_or(&message);
            let (field, sentence) = if text.starts_with("missing field") {
                (field_of(text), "is required".to_string())
            } else if text.starts_with("unknown field") {
                (field_of(text), "is not a field of this request".to_string())
            } else {
                (None, text.to_string())
            };
            let mut fields = BTreeMap::new();
            fields.insert(field.unwrap_or_else(|| "body".into()), sentence);
            ApiError::invalid_fields(fields)
        }
        _ => ApiError::bad_request(
            "invalid_json",
            format!("The request body is not valid JSON: {message}."),
        ),
    }
}

/// The 415 for a body not sent as JSON.
fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "Send the body as JSON, with 'Content-Type: application/json'.",
    )
}

/// 415 unless a request with a body says it is JSON, for handlers that read the body's bytes
/// themselves (an empty body needs no type).
pub fn require_json(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) || declares_json(headers) {
        Ok(())
    } else {
        Err(not_json())
    }
}

/// Whether a request says its body is JSON (`application/json`, with or without parameters,
/// or an `application/*+json` type).
fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .is_some_and(|essence| {
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
}

impl<T: DeserializeOwned> FromRequest<ApiState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &ApiState) -> Result<Self, ApiError> {
        // A page on another site can post `text/plain` or a form without asking first (no CORS
        // preflight); demanding JSON's type makes every such post fail here.
        if !declares_json(request.headers()) {
            return Err(not_json());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_body", e.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(body_error)
    }
}

/// A body field where absent (`None`) differs from `null` (`Some(None)`, "clear it"); use with
/// `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// A numeric id from a path; anything else is the same 404 as an id that does not exist.
pub fn path_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}
