//! The api's one error type: a status, a machine-readable code and a human sentence.
//! Internal errors are logged and hidden behind a generic message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use caly_core::{CoreError, Rejection};
use serde_json::json;

/// An error response: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code.
    pub code: &'static str,
    /// Human sentence.
    pub message: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
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
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Rejected(rejection) => rejection.into(),
            CoreError::NotFound(what) => ApiError::not_found(what),
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

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        let status = match rejection {
            Rejection::UnknownStage(_)
            | Rejection::InvalidPage { .. }
            | Rejection::InvalidCaller(_)
            | Rejection::InvalidTurn(_)
            | Rejection::InvalidTask(_) => StatusCode::BAD_REQUEST,
            Rejection::TurnInProgress => StatusCode::CONFLICT,
            Rejection::MissingField(_)
            | Rejection::NegativeRate
            | Rejection::NothingToReplay
            | Rejection::StageBusy
            | Rejection::InvalidMailAddress(_)
            | Rejection::InvalidShop(_)
            | Rejection::InvalidProfile(_)
            | Rejection::InvalidLlm(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, rejection.code(), rejection.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}
