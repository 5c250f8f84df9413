//! Mail goes to an outbox folder on the embedded default and to a real SMTP server (maildev,
//! started by the test script) when SMTP_URL is set.

use caly_core::platform::mailer::Mailer;

#[tokio::test]
async fn outbox_receives_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(None, dir.path().join("outbox"), "Caly <caly@localhost>").unwrap();
    mailer
        .send("owner@store.example", "Daily report", "12 calls, 3 missed")
        .await
        .unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(text.contains("Subject: Daily report"));
    assert!(text.contains("To: owner@store.example"));
    assert!(text.contains("12 calls, 3 missed"));
}

#[tokio::test]
async fn smtp_delivers_to_a_real_server() {
    let smtp =
        std::env::var("CALY_TEST_SMTP_URL").unwrap_or_else(|_| "smtp://127.0.0.1:1025".into());
    let api =
        std::env::var("CALY_TEST_MAILDEV_API").unwrap_or_else(|_| "http://127.0.0.1:1080".into());
    let subject = format!("Caly test {}", uuid::Uuid::new_v4());
    let smtp = secrecy::SecretString::from(smtp);
    let mailer = Mailer::new(Some(&smtp), "/nonexistent".into(), "Caly <caly@localhost>").unwrap();
    mailer
        .send("owner@store.example", &subject, "hello from the pipeline")
        .await
        .expect("maildev must be running: use the README's test command");
    let inbox: serde_json::Value = reqwest::get(format!("{api}/email"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found = inbox
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["subject"] == subject.as_str());
    assert!(found, "the message reached the SMTP server");
    assert!(
        !format!("{mailer:?}").contains("127.0.0.1"),
        "SMTP URL not printed"
    );
}
