//! Serves local-folder objects behind Caly-signed, expiring links (embedded default only;
//! S3 links are presigned by the store itself), with their length and single byte ranges, so an
//! audio player knows a recording's duration and can seek in it.

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

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size`, as (first, last) inclusive.
fn byte_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (first, last) = spec.split_once('-')?;
    let (first, last) = match (first.trim(), last.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.checked_sub(n.min(size))?, size.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, size.checked_sub(1)?),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.min(size.checked_sub(1)?),
        ),
    };
    (first <= last && last < size).then_some((first, last))
}

async fn fetch(
    State(ApiState { app }): State<ApiState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let ObjectStore::Local(store) = &app.store else {
        return Err(ApiError::not_found("object"));
    };
    let params: LinkParams = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|_| invalid_link())?;
    let object = store
        .verify(&key, &params.ct, params.expires, &params.sig, Utc::now())
        .ok_or_else(invalid_link)?;
    let mut file = tokio::fs::File::open(&object.path)
        .await
        .map_err(|_| ApiError::not_found("object"))?;
    let size = file
        .metadata()
        .await
        .map_err(|_| ApiError::not_found("object"))?
        .len();
    let asked = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| byte_range(v, size));
    let kind = [
        (header::CONTENT_TYPE, object.content_type),
        (header::ACCEPT_RANGES, "bytes".to_string()),
    ];
    match asked {
        None => {
            let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
            Ok((kind, [(header::CONTENT_LENGTH, size.to_string())], body).into_response())
        }
        Some(None) => Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{size}"))],
        )
            .into_response()),
        Some(Some((first, last))) => {
            use tokio::io::{AsyncReadExt, AsyncSeekExt};
            file.seek(std::io::SeekFrom::Start(first))
                .await
                .map_err(|_| ApiError::not_found("object"))?;
            let part = file.take(last - first + 1);
            let body = Body::from_stream(tokio_util::io::ReaderStream::new(part));
            let range = [
                (
                    header::CONTENT_RANGE,
                    format!("bytes {first}-{last}/{size}"),
                ),
                (header::CONTENT_LENGTH, (last - first + 1).to_string()),
            ];
            Ok((StatusCode::PARTIAL_CONTENT, kind, range, body).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn byte_ranges_are_read_within_the_object() {
        assert_eq!(byte_range("bytes=0-", 100), Some((0, 99)));
        assert_eq!(byte_range("bytes=10-19", 100), Some((10, 19)));
        assert_eq!(byte_range("bytes=90-500", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=5-2", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=0-", 0), None);
    }
}
