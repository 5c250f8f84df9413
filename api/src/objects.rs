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
use caly_core::platform::storage::{ATTACHMENT, NO_STORE};
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

/// What a `Range` header asks of an object of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    /// One range, first and last byte inclusive (answered 206).
    Part(u64, u64),
    /// A range outside the object (answered 416).
    Outside,
    /// Not a single byte range we read (several ranges, another unit, bad syntax): ignored, as
    /// HTTP allows, and the whole object sent.
    Whole,
}

/// Reads `bytes=a-b`, `bytes=a-` or `bytes=-n`.
fn byte_range(header: &str, size: u64) -> Asked {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Asked::Whole;
    };
    let Some((first, last)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return Asked::Whole;
    };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    let (first, last) = match (first.trim(), last.trim()) {
        ("", n) => match number(n) {
            Some(0) => return Asked::Outside,
            Some(n) => (size.saturating_sub(n), size.checked_sub(1)),
            None => return Asked::Whole,
        },
        (a, "") => match number(a) {
            Some(a) => (a, size.checked_sub(1)),
            None => return Asked::Whole,
        },
        (a, b) => match (number(a), number(b)) {
            (Some(a), Some(b)) if a <= b => (a, size.checked_sub(1).map(|end| b.min(end))),
            _ => return Asked::Whole,
        },
    };
    match last {
        Some(last) if first <= last => Asked::Part(first, last),
        _ => Asked::Outside,
    }
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
        .map_or(Asked::Whole, |v| byte_range(v, size));
    let kind = [
        (header::CONTENT_TYPE, object.content_type),
        (header::ACCEPT_RANGES, "bytes".to_string()),
        (header::CONTENT_DISPOSITION, ATTACHMENT.to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        (header::CACHE_CONTROL, NO_STORE.to_string()),
    ];
    match asked {
        Asked::Whole => {
            let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
            Ok((kind, [(header::CONTENT_LENGTH, size.to_string())], body).into_response())
        }
        Asked::Outside => Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{size}"))],
        )
            .into_response()),
        Asked::Part(first, last) => {
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
    use super::{Asked, byte_range};

    #[test]
    fn byte_ranges_are_read_within_the_object() {
        assert_eq!(byte_range("bytes=0-", 100), Asked::Part(0, 99));
        assert_eq!(byte_range("bytes=10-19", 100), Asked::Part(10, 19));
        assert_eq!(byte_range("bytes=90-500", 100), Asked::Part(90, 99));
        assert_eq!(byte_range("bytes=-10", 100), Asked::Part(90, 99));
        assert_eq!(byte_range("bytes=-500", 100), Asked::Part(0, 99));
        assert_eq!(byte_range("bytes=100-", 100), Asked::Outside);
        assert_eq!(byte_range("bytes=0-", 0), Asked::Outside);
        assert_eq!(byte_range("bytes=-0", 100), Asked::Outside);
    }

    #[test]
    fn ranges_it_does_not_read_are_ignored() {
        for header in [
            "items=0-1",
            "bytes=5-2",
            "bytes=0-1,5-6",
            "bytes=a-b",
            "bytes=7",
        ] {
            assert_eq!(byte_range(header, 100), Asked::Whole, "{header}");
        }
    }
}
