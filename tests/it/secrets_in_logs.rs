//! Webhook secrets, API keys, Exotel credentials, passwords and their hashes, emailed codes,
//! sign-up tokens, access tokens (JWTs) and refresh tokens never reach the logs, even at TRACE.

use crate::support::accounts::{code_in, fresh_email, mail_to};
use crate::support::{Backend, Options, TestApp};
use sea_orm::EntityTrait;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_and_spans() {
    let logs = Captured::default();
    let writer = logs.clone();
    // Installed before the app's own (no-op when already set) subscriber: this process only.
    tracing_subscriber::fmt()
        .with_env_filter("trace,hyper=off,hyper_util=off,reqwest=off,h2=off,rustls=off")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let app = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            smtp: true,
            ..Options::default()
        },
    )
    .await;
    let sid = "5ec7e75ec7e75ec7e75ec7e75ec7e75e";
    let r = app
        .post_json(
            "status",
            &json!({"CallSid": sid, "Status": "completed", "ConversationDuration": 5,
                    "RecordingUrl": app.exotel.url("ok", sid)}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let wrong = app
        .hook_url("status")
        .replace(&app.tenant.webhook_secret, "wrong-secret-value");
    app.post_raw(&wrong, "application/json", "{}").await;
    app.drain().await;
    let (status, _) = app.api_get("/api/v1/calls").await;
    assert_eq!(status, 200);
    // A person signs up, signs in, refreshes, and asks for a reset code.
    let (email, password) = (fresh_email("logged"), "Quiet-Harbour-58");
    let post = |path: &'static str, body: serde_json::Value| {
        app.request(reqwest::Method::POST, path, None, Some(body))
    };
    let started = post(
        "/api/v1/auth/signup",
        json!({"email": email, "password": password, "company": "Log Co"}),
    )
    .await;
    let signup_token = started.body["signup_token"].as_str().unwrap().to_string();
    let code = code_in(&mail_to(&email, "sign-up code").await.1);
    let session = post(
        "/api/v1/auth/signup/verify",
        json!({"email": email, "code": code, "signup_token": signup_token}),
    )
    .await;
    assert_eq!(session.status, 201, "{}", session.body);
    let refreshed = post(
        "/api/v1/auth/refresh",
        json!({"refresh_token": session.body["refresh_token"]}),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let (me, _) = app
        .api_get_as(
            refreshed.body["access_token"].as_str().unwrap(),
            "/api/v1/me",
        )
        .await;
    assert_eq!(me, 200);
    post("/api/v1/auth/password/forgot", json!({"email": email})).await;
    let reset_code = code_in(&mail_to(&email, "Reset your Caly password").await.1);
    let hash = caly_entities::user::Entity::find()
        .one(&app.app.db)
        .await
        .unwrap()
        .and_then(|u| u.password_hash)
        .unwrap_or_default();
    let mut secrets = vec![
        app.tenant.webhook_secret.clone(),
        "wrong-secret-value".to_string(),
        app.tenant.api_key.clone(),
        "exo-token".to_string(),
        password.to_string(),
        signup_token,
        format!("code is {code}"),
        format!("code is {reset_code}"),
    ];
    for token in [&session.body, &refreshed.body] {
        for field in ["access_token", "refresh_token"] {
            secrets.push(token[field].as_str().unwrap().to_string());
        }
    }
    if !hash.is_empty() {
        secrets.push(hash);
    }
    app.stop().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("/hooks/exotel/{tenant}/{secret}/{kind}"),
        "requests are logged by route template"
    );
    assert!(text.contains("stage succeeded"), "worker spans are logged");
    for (n, secret) in secrets.iter().enumerate() {
        assert!(
            !text.contains(secret.as_str()),
            "secret #{n} leaked into the logs"
        );
    }
}
