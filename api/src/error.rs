//! The api's one error shape: `{"error": {"code", "message", "request_id", "fields"?}}`, with a
//! status, a machine-readable code and a human sentence. A 422 for a bad field names it in
//! `fields`; a 429 carries `Retry-After`. Internal errors are logged and hidden behind a generic
//! message. The request id is added on the way out by [`with_request_id`].

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use caly_core::{CoreError, Rejection};
use serde::Serialize;
use std::collections::BTreeMap;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code.
    pub code: &'static str,
    /// Human sentence.
    pub message: String,
    /// A sentence per bad field (422s).
    pub fields: BTreeMap<String, String>,
    /// Seconds before a retry can succeed (429s, and 503 `busy`).
    pub retry_after: Option<u64>,
}

/// The error body, kept on the response so the request id can be added on the way out.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `not_found`, `forbidden`, `invalid_field`.
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
    /// The request's id (also in the `x-request-id` header), for support.
    pub request_id: Option<String>,
    /// A sentence per invalid field, by field name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// `{"error": ErrorBody}`.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: BTreeMap::new(),
            retry_after: None,
        }
    }

    /// 400 with a code and sentence.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 for something that does not exist (or is another tenant's).
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No such {what}."),
        )
    }

    /// 422 naming each bad field.
    pub fn invalid_fields(fields: BTreeMap<String, String>) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "Some fields are not valid; see 'fields'.",
        );
        error.fields = fields;
        error
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Rejected(rejection) => rejection.into(),
            CoreError::NotFound(what) => ApiError::not_found(what),
            CoreError::Db(db) if caly_core::platform::db::is_pool_timeout(&db) => {
                // Nothing was written: a webhook answered this way is sent again by Exotel.
                tracing::warn!(
                    "no database connection came free within the pool's wait; answered 503"
                );
                let mut error = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "Caly is busy; please retry in a moment.",
                );
                error.retry_after = Some(1);
                error
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Caly could not complete the request; please retry.",
                )
            }
        }
    }
}

fn status_of(rejection: &Rejection) -> StatusCode {
    match rejection {
        Rejection::UnknownStage(_)
        | Rejection::InvalidPage { .. }
        | Rejection::InvalidCaller(_)
        | Rejection::InvalidTurn(_)
        | Rejection::InvalidTask(_)
        | Rejection::InvalidCode { .. }
        | Rejection::CodeExpired
        | Rejection::CodeLocked => StatusCode::BAD_REQUEST,
        Rejection::BadCredentials | Rejection::Unauthenticated(_) | Rejection::RefreshReused => {
            StatusCode::UNAUTHORIZED
        }
        Rejection::Forbidden { .. } | Rejection::CsrfFailed | Rejection::AccountDisabled => {
            StatusCode::FORBIDDEN
        }
        Rejection::TurnInProgress | Rejection::AccountConflict(_) => StatusCode::CONFLICT,
        Rejection::TooSoon { .. } => StatusCode::TOO_MANY_REQUESTS,
        Rejection::MissingField(_)
        | Rejection::NegativeRate
        | Rejection::NothingToReplay
        | Rejection::StageBusy
        | Rejection::InvalidMailAddress(_)
        | Rejection::InvalidShop(_)
        | Rejection::InvalidProfile(_)
        | Rejection::InvalidLlm(_)
        | Rejection::InvalidField { .. }
        | Rejection::WeakPassword(_)
        | Rejection::Integration { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        let mut error = ApiError::new(
            status_of(&rejection),
            rejection.code(),
            rejection.to_string(),
        );
        match &rejection {
            Rejection::InvalidField { field, message } => {
                error.fields.insert(field.to_string(), message.clone());
            }
            Rejection::WeakPassword(message) => {
                error.fields.insert("password".into(), message.clone());
            }
            Rejection::MissingField(field) => {
                error
                    .fields
                    .insert(field.to_string(), "must not be empty".into());
            }
            Rejection::TooSoon { retry_after_secs } => error.retry_after = Some(*retry_after_secs),
            _ => {}
        }
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            request_id: None,
            fields: self.fields,
        };
        let mut response = (
            self.status,
            Json(ErrorEnvelope {
                error: body.clone(),
            }),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds.max(1)));
        }
        response.extensions_mut().insert(body);
        response
    }
}

/// Middleware: writes the request's id into every error body built by [`ApiError`].
pub async fn with_request_id(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut response = next.run(request).await;
    let Some(mut body) = response.extensions_mut().remove::<ErrorBody>() else {
        return response;
    };
    body.request_id = request_id;
    let (mut parts, _) = response.into_parts();
    let json = serde_json::to_vec(&ErrorEnvelope { error: body }).unwrap_or_default();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnAcquireErr, DbErr};

    #[test]
    fn a_request_that_found_no_connection_free_is_told_to_retry() {
        let error = ApiError::from(CoreError::Db(DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout,
        )));
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.code, "busy");
        assert_eq!(error.retry_after, Some(1));
    }
}
