//! "Sign in with Google" against a local OpenID Connect provider: the authorization-code flow
//! with PKCE creates an account (owner of a new store), links an existing user by verified email,
//! and refuses a tampered state, a replayed code and an unverified email.

use crate::support::accounts::{PASSWORD, fresh_email};
use crate::support::oidc::FakeGoogle;
use crate::support::{Backend, Options, TestApp};
use caly_core::tenancy::accounts::Role;
use caly_entities::user;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sea_orm::EntityTrait;
use serde_json::Value;

struct Browser {
    client: reqwest::Client,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn get(&self, url: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(url);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_string()
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_string())
        })
        .filter(|v| !v.is_empty())
}

/// Starts a sign-in and follows Google's redirect; returns the flow cookie and the callback URL.
async fn to_callback(t: &TestApp, browser: &Browser, return_to: &str) -> (String, String) {
    let started = browser
        .get(
            &format!("{}/api/v1/auth/google/start?return_to={return_to}", t.base),
            None,
        )
        .await;
    assert_eq!(started.status(), 302);
    let flow = format!(
        "caly_oidc={}",
        cookie(&started, "caly_oidc").expect("the flow cookie")
    );
    let at_google = location(&started);
    assert!(
        at_google.contains("code_challenge_method=S256") && at_google.contains("nonce="),
        "{at_google}"
    );
    let back = browser.get(&at_google, None).await;
    assert_eq!(back.status(), 302);
    (flow, location(&back))
}

async fn me(t: &TestApp, token: &str) -> Value {
    t.client
        .get(format!("{}/api/v1/me", t.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn google_sign_in_creates_or_links_an_account_and_refuses_tampering() {
    let google = FakeGoogle::start().await;
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            workers: false,
            google_issuer: Some(google.base.clone()),
            ..Options::default()
        },
    )
    .await;
    let browser = Browser::new();
    // The sign-in page offers Google when it is configured.
    let login = browser.get(&format!("{}/login", t.base), None).await;
    assert!(login.text().await.unwrap().contains("Sign in with Google"));

    // A new Google user gets an account and a store of their own.
    let email = fresh_email("asha");
    google.sign_in_as("google-sub-1", &email, true, "Asha Rao");
    let (flow, callback) = to_callback(&t, &browser, "/calls").await;
    assert!(
        callback.starts_with(&format!("{}/api/v1/auth/google/callback?", t.base)),
        "{callback}"
    );
    let signed_in = browser.get(&callback, Some(&flow)).await;
    assert_eq!(signed_in.status(), 302, "{:?}", signed_in.headers());
    assert_eq!(location(&signed_in), "/calls");
    let token = cookie(&signed_in, "caly_session").expect("the session cookie");
    let who = me(&t, &token).await;
    assert_eq!(who["user"]["email"], email.as_str());
    assert_eq!(who["role"], "owner");
    assert_eq!(who["tenant"]["name"], "Asha Rao's store");
    // The same Google account signs in to the same user.
    let (flow, callback) = to_callback(&t, &browser, "/").await;
    let again = browser.get(&callback, Some(&flow)).await;
    let token = cookie(&again, "caly_session").unwrap();
    assert_eq!(me(&t, &token).await["user"]["id"], who["user"]["id"]);

    // An existing user with the same verified email is linked, keeping their store and role.
    let existing = t.add_user(Role::Supervisor).await;
    google.sign_in_as("google-sub-2", &existing.email.to_uppercase(), true, "Ravi");
    let (flow, callback) = to_callback(&t, &browser, "/").await;
    let linked = browser.get(&callback, Some(&flow)).await;
    let token = cookie(&linked, "caly_session").unwrap();
    let who = me(&t, &token).await;
    assert_eq!(who["user"]["id"], existing.id);
    assert_eq!(who["role"], "supervisor");
    let row = user::Entity::find_by_id(existing.id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.google_sub.as_deref(), Some("google-sub-2"));
    t.login(&existing.email, PASSWORD).await;

    // A replayed code, a tampered state, a missing flow cookie, an unverified email: refused.
    let replay = browser.get(&callback, Some(&flow)).await;
    assert_eq!(replay.status(), 422);
    let (flow, callback) = to_callback(&t, &browser, "/").await;
    let tampered = callback.replace("state=", "state=x");
    let body: Value = browser
        .get(&tampered, Some(&flow))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"]["code"], "google_failed");
    let no_cookie = browser.get(&callback, None).await;
    assert_eq!(no_cookie.status(), 422);
    google.sign_in_as("google-sub-3", &fresh_email("unverified"), false, "U");
    let (flow, callback) = to_callback(&t, &browser, "/").await;
    let unverified: Value = browser
        .get(&callback, Some(&flow))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        unverified["error"]["message"]
            .as_str()
            .unwrap()
            .contains("verified"),
        "{unverified}"
    );
    // Only a path on this site is returned to.
    google.sign_in_as("google-sub-1", &email, true, "Asha Rao");
    let (flow, callback) = to_callback(&t, &browser, "https://evil.example/").await;
    let safe = browser.get(&callback, Some(&flow)).await;
    assert_eq!(location(&safe), "/");
}

#[tokio::test]
async fn google_sign_in_is_refused_clearly_when_not_configured() {
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            workers: false,
            ..Options::default()
        },
    )
    .await;
    let answer = Browser::new()
        .get(&format!("{}/api/v1/auth/google/start", t.base), None)
        .await;
    assert_eq!(answer.status(), 422);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "google_not_configured");
    // And the sign-in page does not offer it.
    let login = Browser::new().get(&format!("{}/login", t.base), None).await;
    assert!(!login.text().await.unwrap().contains("Sign in with Google"));
}
