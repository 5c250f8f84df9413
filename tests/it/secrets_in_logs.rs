//! Webhook secrets, API keys and Exotel credentials never reach the logs, even at TRACE.

use crate::support::{Backend, TestApp};
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
    let app = TestApp::spawn(Backend::Embedded).await;
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
    let secrets = [
        app.tenant.webhook_secret.clone(),
        "wrong-secret-value".to_string(),
        app.tenant.api_key.clone(),
        "exo-token".to_string(),
    ];
    app.stop().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("/hooks/exotel/{tenant}/{secret}/{kind}"),
        "requests are logged by route template"
    );
    assert!(text.contains("stage succeeded"), "worker spans are logged");
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret leaked into the logs"
        );
    }
}
