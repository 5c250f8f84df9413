//! A fake Shopify GraphQL Admin API following the spec: `X-Shopify-Access-Token` auth (401
//! otherwise), the connection check (`shop`, `currentAppInstallation.accessScopes`), and a
//! scripted number of THROTTLED answers first, shaped as Shopify sends them. Every query is
//! checked against Shopify's real Admin schema first.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inner {
    token: String,
    scopes: Mutex<Vec<String>>,
    throttle_next: AtomicU32,
    hits: AtomicU32,
    versions: Mutex<Vec<String>>,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeShopify {
    /// Its origin, e.g. `http://127.0.0.1:4321` (the `--api-url`).
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeShopify {
    /// Starts it on a free port, accepting `token` and granting `scopes`.
    pub async fn start(token: &str, scopes: &[&str]) -> FakeShopify {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeShopify {
            base: format!("http://{}", listener.local_addr().unwrap()),
            inner: Arc::new(Inner {
                token: token.to_string(),
                scopes: Mutex::new(scopes.iter().map(|s| s.to_string()).collect()),
                ..Inner::default()
            }),
        };
        let router = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    /// The next `n` requests are answered THROTTLED.
    pub fn throttle_next(&self, n: u32) {
        self.inner.throttle_next.store(n, Ordering::SeqCst);
    }

    /// Requests seen.
    pub fn hits(&self) -> u32 {
        self.inner.hits.load(Ordering::SeqCst)
    }

    /// API versions the requests asked for.
    pub fn versions(&self) -> Vec<String> {
        self.inner.versions.lock().unwrap().clone()
    }
}

async fn graphql(
    State(fake): State<FakeShopify>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    fake.inner.hits.fetch_add(1, Ordering::SeqCst);
    fake.inner.versions.lock().unwrap().push(version);
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(fake.inner.token.as_str()) {
        let body = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let cost = |available: f64| {
        json!({"cost": {"requestedQueryCost": 12, "actualQueryCost": 12,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available,
                "restoreRate": 100.0}}})
    };
    let throttled = fake
        .inner
        .throttle_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if throttled {
        // 12 points wanted, 2 left, 100 restored per second: 0.1 s to wait.
        let body = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": cost(2.0)});
        return axum::Json(body).into_response();
    }
    let query = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Every query must exist on real Shopify, checked against its published schema.
    if let Err(problem) = super::shopify_schema::schema().check(query) {
        let body = json!({"errors": [{"message": problem}]});
        return axum::Json(body).into_response();
    }
    let variables = body.get("variables").cloned().unwrap_or(Value::Null);
    if let Some(data) = super::shopify_store::answer(query, &variables) {
        return axum::Json(json!({"data": data, "extensions": cost(1988.0)})).into_response();
    }
    if !query.contains("currentAppInstallation") {
        let body = json!({"errors": [{"message": "the fake does not answer this query"}]});
        return axum::Json(body).into_response();
    }
    let scopes: Vec<Value> = fake
        .inner
        .scopes
        .lock()
        .unwrap()
        .iter()
        .map(|s| json!({"handle": s}))
        .collect();
    axum::Json(json!({
        "data": {
            "shop": {"name": "Kesar Ethnic Wear", "myshopifyDomain": "kesar.myshopify.com",
                "currencyCode": "INR", "ianaTimezone": "Asia/Kolkata"},
            "currentAppInstallation": {"accessScopes": scopes}
        },
        "extensions": cost(1988.0)
    }))
    .into_response()
}
