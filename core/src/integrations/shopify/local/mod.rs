//! A local Shopify-compatible GraphQL Admin server seeded with a small Indian store: the demo
//! store of the embedded default and the contract server of the tests. It follows the spec:
//! `X-Shopify-Access-Token` auth (401 otherwise, or once revoked), the connection check
//! (`shop`, `currentAppInstallation.accessScopes`), THROTTLED answers on demand shaped as
//! Shopify sends them, and, given Shopify's published schema, a refusal of every field or
//! argument Shopify lacks. Answers carry only the fields selected.

mod answer;
mod schema;
mod seed;
mod selection;

pub use schema::Schema;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::NaiveDate;
use seed::Seed;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Every scope the agent uses, as a fully granted installation has them.
pub const ALL_SCOPES: [&str; 5] = [
    "read_orders",
    "read_all_orders",
    "read_customers",
    "read_products",
    "read_inventory",
];

/// How to start a local store.
pub struct LocalShopifyOptions {
    /// The access token it accepts.
    pub token: String,
    /// The scopes it reports as granted.
    pub scopes: Vec<String>,
    /// Shopify's schema to check every query against (`None`: no check).
    pub schema: Option<Arc<Schema>>,
    /// The day the seed's dates are relative to.
    pub today: NaiveDate,
}

struct Inner {
    token: Mutex<String>,
    scopes: Vec<String>,
    schema: Option<Arc<Schema>>,
    seed: Seed,
    throttle_next: AtomicU32,
    bucket: Mutex<(f64, f64)>,
    hits: AtomicU32,
    versions: Mutex<Vec<String>>,
    client: Mutex<Option<(String, String)>>,
    grants: AtomicU32,
    stalled: std::sync::atomic::AtomicBool,
}

/// A running local store.
#[derive(Clone)]
pub struct LocalShopify {
    /// Its origin, e.g. `http://127.0.0.1:4321` (the `--api-url`).
    pub base: String,
    inner: Arc<Inner>,
}

impl LocalShopify {
    /// Starts it on a free loopback port.
    pub async fn start(options: LocalShopifyOptions) -> std::io::Result<LocalShopify> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let store = LocalShopify {
            base: format!("http://{}", listener.local_addr()?),
            inner: Arc::new(Inner {
                token: Mutex::new(options.token),
                scopes: options.scopes,
                schema: options.schema,
                seed: Seed::new(options.today),
                throttle_next: AtomicU32::new(0),
                bucket: Mutex::new((1988.0, 100.0)),
                hits: AtomicU32::new(0),
                versions: Mutex::new(Vec::new()),
                client: Mutex::new(None),
                grants: AtomicU32::new(0),
                stalled: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        let router = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .route("/admin/oauth/access_token", post(grant))
            .with_state(store.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(store)
    }

    /// The next `n` requests are answered THROTTLED.
    pub fn throttle_next(&self, n: u32) {
        self.inner.throttle_next.store(n, Ordering::SeqCst);
    }

    /// The bucket reported with every answer from now on: points available and restored per
    /// second (default 1988 of 2000, 100/s).
    pub fn report_bucket(&self, available: f64, restore_rate: f64) {
        *self.inner.bucket.lock().unwrap_or_else(|e| e.into_inner()) = (available, restore_rate);
    }

    /// Revokes the token (the app was uninstalled): every request gets 401 from now on.
    pub fn revoke(&self) {
        *self.inner.token.lock().unwrap_or_else(|e| e.into_inner()) = String::new();
    }

    /// Accepts the client-credentials grant for this app's client id and secret; the token it
    /// grants is the one the store accepts.
    pub fn accept_client(&self, client_id: &str, client_secret: &str) {
        *self.inner.client.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((client_id.to_string(), client_secret.to_string()));
    }

    /// Tokens granted by the client-credentials grant so far.
    pub fn grants(&self) -> u32 {
        self.inner.grants.load(Ordering::SeqCst)
    }

    /// From now on every request waits a minute before it is answered (a store that stopped
    /// answering).
    pub fn stall(&self) {
        self.inner.stalled.store(true, Ordering::SeqCst);
    }

    /// Requests seen.
    pub fn hits(&self) -> u32 {
        self.inner.hits.load(Ordering::SeqCst)
    }

    /// API versions the requests asked for.
    pub fn versions(&self) -> Vec<String> {
        self.inner
            .versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn cost(available: f64, restore_rate: f64) -> Value {
    json!({"cost": {"requestedQueryCost": 12, "actualQueryCost": 12,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available,
            "restoreRate": restore_rate}}})
}

fn errors(message: &str) -> Response {
    axum::Json(json!({"errors": [{"message": message}]})).into_response()
}

/// The client-credentials grant (form-encoded `client_id`, `client_secret`, `grant_type`).
async fn grant(
    State(store): State<LocalShopify>,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> Response {
    let inner = &store.inner;
    let expected = inner
        .client
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let valid = expected.is_some_and(|(id, secret)| {
        field("client_id") == id
            && field("client_secret") == secret
            && field("grant_type") == "client_credentials"
    });
    if !valid {
        let body = json!({"error": "invalid_client", "error_description": "Client credentials are invalid"});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    inner.grants.fetch_add(1, Ordering::SeqCst);
    let token = inner
        .token
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    axum::Json(json!({"access_token": token, "scope": inner.scopes.join(","), "expires_in": 86399}))
        .into_response()
}

async fn graphql(
    State(store): State<LocalShopify>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    let inner = &store.inner;
    if inner.stalled.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
    inner.hits.fetch_add(1, Ordering::SeqCst);
    inner
        .versions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(version);
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let expected = inner
        .token
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if expected.is_empty() || token != expected {
        let body = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let throttled = inner
        .throttle_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if throttled {
        // 12 points wanted, 2 left, 100 restored per second: 0.1 s to wait.
        let body = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": cost(2.0, 100.0)});
        return axum::Json(body).into_response();
    }
    let query = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(schema) = &inner.schema
        && let Err(problem) = schema.check(query)
    {
        return errors(&problem);
    }
    let selection = match selection::root_selection(query) {
        Ok(selection) => selection,
        Err(problem) => return errors(&problem),
    };
    let q = body["variables"]["q"].as_str().unwrap_or_default();
    let mut data = serde_json::Map::new();
    for field in &selection {
        let Some(value) = answer::root_field(&inner.seed, &field.name, q, &inner.scopes) else {
            return errors(&format!("the local store does not serve '{}'", field.name));
        };
        data.insert(field.key.clone(), selection::project(&value, &field.inner));
    }
    let (available, restore_rate) = *inner.bucket.lock().unwrap_or_else(|e| e.into_inner());
    let extensions = cost(available, restore_rate);
    axum::Json(json!({"data": data, "extensions": extensions})).into_response()
}
