//! Accounts in tests: people of a role added straight to a tenant, signing in, requests as a
//! bearer, and reading codes from mail delivered to maildev.

use super::TestApp;
use caly_core::tenancy::accounts::{Role, members, passwords};
use chrono::Utc;
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The password every added test user has.
pub const PASSWORD: &str = "Correct-Horse-7";

/// A person in a test tenant.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Their id.
    pub id: i64,
    /// Their email.
    pub email: String,
}

/// maildev's REST API (started by the test script).
pub fn maildev_api() -> String {
    std::env::var("CALY_TEST_MAILDEV_API").unwrap_or_else(|_| "http://127.0.0.1:1080".into())
}

/// maildev's SMTP URL.
pub fn smtp_url() -> String {
    std::env::var("CALY_TEST_SMTP_URL").unwrap_or_else(|_| "smtp://127.0.0.1:1025".into())
}

/// A fresh address no other test uses.
pub fn fresh_email(name: &str) -> String {
    format!("{name}.{}@store.example", uuid::Uuid::new_v4().simple())
}

/// The newest mail to `to` whose subject contains `subject`, as (subject, text). Mail is
/// delivered by SMTP before the api answers, so it is there at once; the short wait only covers
/// maildev indexing it.
pub async fn mail_to(to: &str, subject: &str) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let inbox: Value = reqwest::get(format!("{}/email", maildev_api()))
            .await
            .expect("maildev must be running: use the README's test command")
            .json()
            .await
            .unwrap();
        let found = inbox.as_array().unwrap().iter().rev().find(|m| {
            m["to"]
                .as_array()
                .is_some_and(|to_list| to_list.iter().any(|t| t["address"].as_str() == Some(to)))
                && m["subject"].as_str().unwrap_or("").contains(subject)
        });
        if let Some(mail) = found {
            return (
                mail["subject"].as_str().unwrap().to_string(),
                mail["text"].as_str().unwrap_or("").to_string(),
            );
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {to} about {subject:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every mail to `to`, oldest first, as maildev lists them.
async fn inbox_of(to: &str) -> Vec<Value> {
    let inbox: Value = reqwest::get(format!("{}/email", maildev_api()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["to"]
                .as_array()
                .is_some_and(|l| l.iter().any(|t| t["address"].as_str() == Some(to)))
        })
        .cloned()
        .collect()
}

/// Every mail to `to` whose subject contains `subject`, oldest first, as text.
pub async fn mails_to(to: &str, subject: &str) -> Vec<String> {
    inbox_of(to)
        .await
        .iter()
        .filter(|m| m["subject"].as_str().unwrap_or("").contains(subject))
        .map(|m| m["text"].as_str().unwrap_or("").to_string())
        .collect()
}

/// How many mails `to` has received.
pub async fn mail_count(to: &str) -> usize {
    inbox_of(to).await.len()
}

/// The six-digit code in a mail's text.
pub fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text:?}"))
        .to_string()
}

/// A response's status, JSON body and headers.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body as JSON (null when not JSON).
    pub body: Value,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
}

impl TestApp {
    /// Adds a verified person with `role` to `tenant_id`, password [`PASSWORD`].
    pub async fn add_user_to(&self, tenant_id: i64, role: Role) -> TestUser {
        self.add_user_as(tenant_id, role, &fresh_email(role.as_str()))
            .await
    }

    /// Adds a verified person with this `email` and `role` to `tenant_id`.
    pub async fn add_user_as(&self, tenant_id: i64, role: Role, email: &str) -> TestUser {
        let email = email.to_string();
        let hash = passwords::hash(&PASSWORD.to_string().into()).await.unwrap();
        let now = Utc::now();
        let new = members::NewUser {
            email: &email,
            name: &format!("Test {}", role.as_str()),
            password_hash: Some(hash),
            google_sub: None,
        };
        let user = members::insert_user(&self.app.db, new, now).await.unwrap();
        members::add_membership(&self.app.db, tenant_id, user.id, role, now)
            .await
            .unwrap();
        TestUser { id: user.id, email }
    }

    /// Adds a person with `role` to the test tenant.
    pub async fn add_user(&self, role: Role) -> TestUser {
        self.add_user_to(self.tenant.tenant.id, role).await
    }

    /// Signs in; returns the session JSON (panics unless 200).
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let answer = self
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(answer.status, 200, "login: {}", answer.body);
        answer.body
    }

    /// Adds a person with `role` and signs them in; returns them and their access token.
    pub async fn signed_in(&self, role: Role) -> (TestUser, String) {
        let user = self.add_user(role).await;
        let session = self.login(&user.email, PASSWORD).await;
        (user, session["access_token"].as_str().unwrap().to_string())
    }

    /// Checks that the store's own owner and its API key are refused `method path` with `body`
    /// (403), then signs in the platform operator's person and returns their access token.
    pub async fn only_the_operator_may(&self, method: Method, path: &str, body: &Value) -> String {
        let (_, owner) = self.signed_in(Role::Owner).await;
        for token in [owner.as_str(), self.tenant.api_key.as_str()] {
            let refused = self
                .request(method.clone(), path, Some(token), Some(body.clone()))
                .await;
            assert_eq!(refused.status, 403, "{path}: {}", refused.body);
        }
        self.operator_signed_in().await.1
    }

    /// Signs in the platform operator's person (`operator@caly.example`, a viewer of the test
    /// tenant); returns them and their access token.
    pub async fn operator_signed_in(&self) -> (TestUser, String) {
        let operator = self
            .add_user_as(self.tenant.tenant.id, Role::Viewer, "operator@caly.example")
            .await;
        let session = self.login(&operator.email, PASSWORD).await;
        let token = session["access_token"].as_str().unwrap().to_string();
        (operator, token)
    }

    /// Any request, with an optional bearer credential and JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            body,
            headers,
        }
    }
}
