//! A local OpenID Connect provider standing in for Google: discovery, an authorization endpoint
//! that signs in a scripted user at once, and a token endpoint that checks the client, the
//! redirect URI and the PKCE verifier (S256) before giving an ID token.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The client Caly is registered as.
pub const CLIENT_ID: &str = "caly-test.apps.googleusercontent.com";
/// Its secret.
pub const CLIENT_SECRET: &str = "google-test-secret";

#[derive(Default)]
struct Inner {
    user: Mutex<Value>,
    codes: Mutex<HashMap<String, (String, String, String)>>,
}

/// The running provider.
#[derive(Clone)]
pub struct FakeGoogle {
    /// Its issuer URL.
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeGoogle {
    /// Starts it on a free port.
    pub async fn start() -> FakeGoogle {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeGoogle {
            base: format!("http://{}", listener.local_addr().unwrap()),
            inner: Arc::default(),
        };
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    /// The Google user who signs in next.
    pub fn sign_in_as(&self, sub: &str, email: &str, verified: bool, name: &str) {
        *self.inner.user.lock().unwrap() =
            json!({"sub": sub, "email": email, "email_verified": verified, "name": name});
    }
}

async fn discovery(State(fake): State<FakeGoogle>) -> Response {
    axum::Json(json!({
        "issuer": fake.base,
        "authorization_endpoint": format!("{}/authorize", fake.base),
        "token_endpoint": format!("{}/token", fake.base),
        "jwks_uri": format!("{}/certs", fake.base),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn authorize(
    State(fake): State<FakeGoogle>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| q.get(name).cloned().unwrap_or_default();
    if field("client_id") != CLIENT_ID
        || field("response_type") != "code"
        || field("code_challenge_method") != "S256"
        || !field("scope").split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "invalid_request").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    fake.inner.codes.lock().unwrap().insert(
        code.clone(),
        (
            field("code_challenge"),
            field("nonce"),
            field("redirect_uri"),
        ),
    );
    let location = format!(
        "{}?code={code}&state={}",
        field("redirect_uri"),
        urlencode(&field("state"))
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn token(
    State(fake): State<FakeGoogle>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let refused =
        |why: &str| (StatusCode::BAD_REQUEST, axum::Json(json!({"error": why}))).into_response();
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return refused("invalid_client");
    }
    // A code works once.
    let Some((challenge, nonce, redirect_uri)) =
        fake.inner.codes.lock().unwrap().remove(&field("code"))
    else {
        return refused("invalid_grant");
    };
    let verified = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
    if verified != challenge || redirect_uri != field("redirect_uri") {
        return refused("invalid_grant");
    }
    let mut claims = fake.inner.user.lock().unwrap().clone();
    claims["iss"] = json!(fake.base);
    claims["aud"] = json!(CLIENT_ID);
    claims["exp"] = json!(chrono::Utc::now().timestamp() + 3600);
    claims["iat"] = json!(chrono::Utc::now().timestamp());
    claims["nonce"] = json!(nonce);
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let id_token = format!(
        "{}.{}.{}",
        part(&json!({"alg": "RS256", "kid": "test"})),
        part(&claims),
        "c2lnbmF0dXJl"
    );
    axum::Json(json!({"access_token": "ya29.test", "id_token": id_token, "token_type": "Bearer", "expires_in": 3599}))
        .into_response()
}
