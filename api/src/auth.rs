//! Tenant authentication for the REST API: `Authorization: Bearer <api key>` or `X-Api-Key`.
//! The extracted tenant is the one place every REST query takes its tenant id from.

use crate::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use caly_core::tenancy;
use caly_entities::tenant;

/// The tenant owning the request's API key.
pub struct AuthTenant(pub tenant::Model);

fn api_key(parts: &Parts) -> Option<&str> {
    let bearer = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    bearer
        .or_else(|| parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

impl FromRequestParts<ApiState> for AuthTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Send your API key as 'Authorization: Bearer <key>'.",
            )
        };
        let key = api_key(parts).ok_or_else(unauthorized)?;
        let tenant = tenancy::by_api_key(&state.app.db, key)
            .await?
            .ok_or_else(unauthorized)?;
        Ok(AuthTenant(tenant))
    }
}
