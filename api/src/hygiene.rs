//! Request hygiene for every response: security headers (HSTS when `CALY_PUBLIC_URL` is
//! https), CORS for the configured origins only
//! (`CALY_CORS_ORIGINS`; credentials allowed, so the web app on another origin can use its
//! cookies), and a cap on request bodies (`CALY_MAX_BODY_BYTES`, 413 past it).

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use caly_core::platform::settings::{Settings, StorageSettings};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

type Headers = SetResponseHeaderLayer<HeaderValue>;

/// A header set only in some deployments (HSTS only over https).
type MaybeHeader = SetResponseHeaderLayer<Option<HeaderValue>>;

/// The layers, outermost first.
pub type Hygiene = Stack<
    MaybeHeader,
    Stack<
        Headers,
        Stack<
            Headers,
            Stack<Headers, Stack<Headers, Stack<CorsLayer, Stack<DefaultBodyLimit, Identity>>>>,
        >,
    >,
>;

fn always(name: HeaderName, value: &'static str) -> Headers {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("x-csrf-token"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
}

/// Builds the layers from the settings.
pub fn layers(settings: &Settings) -> ServiceBuilder<Hygiene> {
    ServiceBuilder::new()
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(cors(&settings.cors_origins))
        .layer(always(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(always(header::X_FRAME_OPTIONS, "DENY"))
        .layer(always(header::REFERRER_POLICY, "no-referrer"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&content_security_policy(settings))
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            settings
                .is_https()
                .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        ))
}

/// Everything from Caly's own origin only; recordings may also play from the object store's
/// public origin, where their signed links point.
pub fn content_security_policy(settings: &Settings) -> String {
    let media = match &settings.storage {
        StorageSettings::Local { .. } => String::new(),
        StorageSettings::S3(s3) => match s3.public_endpoint.as_deref().or(s3.endpoint.as_deref()) {
            Some(endpoint) => url::Url::parse(endpoint)
                .map(|u| format!(" {}", u.origin().ascii_serialization()))
                .unwrap_or_default(),
            None => " https://*.amazonaws.com".into(),
        },
    };
    format!(
        "default-src 'self'; media-src 'self'{media}; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'"
    )
}
