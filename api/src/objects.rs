//! Serves local-folder objects behind Caly-signed, expiring links (embedded default only;
//! S3 links are presigned by the store itself).

use crate::{ApiError, ApiState};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use caly_core::platform::storage::ObjectStore;
use chrono::Utc;
use serde::Deserialize;

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/objects/{*key}", get(fetch))
}

#[derive(Deserialize)]
struct LinkParams {
    ct: String,
    expires: i64,
    sig: String,
}

fn invalid_link() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "invalid_link",
        "This link is invalid or has expired.",
    )
}

async fn fetch(
    State(ApiState { app }): State<ApiState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let ObjectStore::Local(store) = &app.store else {
        return Err(ApiError::not_found("object"));
    };
    let params: LinkParams = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|_| invalid_link())?;
    let object = store
        .verify(&key, &params.ct, params.expires, &params.sig, Utc::now())
        .ok_or_else(invalid_link)?;
    let file = tokio::fs::File::open(&object.path)
        .await
        .map_err(|_| ApiError::not_found("object"))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok(([(header::CONTENT_TYPE, object.content_type)], body).into_response())
}
