//! Issue 29's account attacks, each performed over HTTP the way the security review did: a
//! second sign-up racing the first, parallel code guesses, a tenant's admin disabling a person
//! everywhere, cross-site posts to sign-in, answers that say who has an account, strangers
//! locking an owner out, and everyone sharing one address behind a proxy.

use crate::support::accounts::{Answer, PASSWORD, code_in, fresh_email, mail_to, mails_to};
use crate::support::{Backend, Options, TestApp};
use caly_core::platform::net::Cidr;
use caly_core::platform::security::SecuritySettings;
use caly_core::tenancy::accounts::{Role, members};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const VICTIM_PASSWORD: &str = "Victim-Kettle-42";
const STRANGER_PASSWORD: &str = "Stranger-Lamp-77";

async fn spawn(backend: Backend, security: SecuritySettings) -> TestApp {
    TestApp::spawn_opts(
        backend,
        Options {
            smtp: true,
            workers: false,
            security: Some(security),
            ..Options::default()
        },
    )
    .await
}

/// Deployments' defaults, with this machine as the one trusted proxy (so a test can speak
/// from many client addresses through `X-Forwarded-For`).
fn behind_proxy() -> SecuritySettings {
    SecuritySettings {
        trusted_proxies: Cidr::parse_list("127.0.0.1").unwrap(),
        ..SecuritySettings::default()
    }
}

/// A request with extra headers and a raw body of a content type.
async fn send(
    t: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: String,
) -> Answer {
    let mut request = t
        .client
        .post(format!("{}{path}", t.base))
        .header("content-type", content_type)
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
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

async fn post(t: &TestApp, path: &str, headers: &[(&str, &str)], body: Value) -> Answer {
    send(t, path, headers, "application/json", body.to_string()).await
}

fn signup_body(email: &str, password: &str, company: &str) -> Value {
    json!({"email": email, "password": password, "company": company})
}

#[tokio::test]
async fn a_later_sign_up_for_the_same_address_never_sets_the_password_of_the_first() {
    let t = spawn(Backend::Embedded, SecuritySettings::default()).await;
    let email = fresh_email("victim");
    let victim = post(
        &t,
        "/api/v1/auth/signup",
        &[],
        signup_body(&email, VICTIM_PASSWORD, "Victim Sarees"),
    )
    .await;
    assert_eq!(victim.status, 202, "{}", victim.body);
    let victim_token = victim.body["signup_token"].as_str().unwrap().to_string();
    let cookie = victim
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("caly_signup="))
        .expect("the sign-up's token as a cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/api/v1/auth/signup"));
    // A stranger starts a sign-up for the victim's address 60 s later (no waiting needed).
    let stranger = post(
        &t,
        "/api/v1/auth/signup",
        &[],
        signup_body(&email, STRANGER_PASSWORD, "Victim Sarees"),
    )
    .await;
    assert_eq!(stranger.status, 202, "{}", stranger.body);
    let stranger_token = stranger.body["signup_token"].as_str().unwrap().to_string();
    assert_ne!(victim_token, stranger_token);
    let codes: Vec<String> = mails_to(&email, "sign-up code")
        .await
        .iter()
        .map(|text| code_in(text))
        .collect();
    assert_eq!(codes.len(), 2, "each sign-up mailed its own code");
    let (victim_code, stranger_code) = (&codes[0], &codes[1]);
    let verify =
        |code: &str, token: &str| json!({"email": email, "code": code, "signup_token": token});
    // The newest mail's code (the stranger's) does not open the victim's sign-up, nor the
    // victim's code the stranger's.
    if stranger_code != victim_code {
        let crossed = post(
            &t,
            "/api/v1/auth/signup/verify",
            &[],
            verify(stranger_code, &victim_token),
        )
        .await;
        assert_eq!(
            crossed.body["error"]["code"], "invalid_code",
            "{}",
            crossed.body
        );
    }
    let crossed = post(
        &t,
        "/api/v1/auth/signup/verify",
        &[],
        verify(victim_code, &stranger_token),
    )
    .await;
    assert_ne!(crossed.status, 201, "{}", crossed.body);
    // Without a token there is nothing to verify against.
    let bare = post(
        &t,
        "/api/v1/auth/signup/verify",
        &[],
        json!({"email": email, "code": victim_code}),
    )
    .await;
    assert_eq!(bare.status, 422, "{}", bare.body);
    assert!(bare.body["error"]["fields"]["signup_token"].is_string());
    // The victim's own code with the victim's cookie: the victim's password, the victim in.
    let (name, value) = cookie.split(';').next().unwrap().split_once('=').unwrap();
    let session = post(
        &t,
        "/api/v1/auth/signup/verify",
        &[("cookie", &format!("{name}={value}"))],
        json!({"email": email, "code": victim_code}),
    )
    .await;
    assert_eq!(session.status, 201, "{}", session.body);
    t.login(&email, VICTIM_PASSWORD).await;
    let stolen = post(
        &t,
        "/api/v1/auth/login",
        &[],
        json!({"email": email, "password": STRANGER_PASSWORD}),
    )
    .await;
    assert_eq!(stolen.status, 401, "the stranger's password never works");
    let late = post(
        &t,
        "/api/v1/auth/signup/verify",
        &[],
        verify(stranger_code, &stranger_token),
    )
    .await;
    assert_ne!(late.status, 201, "{}", late.body);
}

#[tokio::test]
async fn a_password_reset_ends_every_session_and_can_revoke_the_keys_the_person_made() {
    let t = spawn(Backend::Embedded, SecuritySettings::default()).await;
    let (admin, session) = t.signed_in(Role::Admin).await;
    let mut keys = Vec::new();
    for name in ["kept", "revoked"] {
        let made = t
            .request(
                Method::POST,
                "/api/v1/api-keys",
                Some(&session),
                Some(json!({"name": name, "scope": "read"})),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        keys.push(made.body["key"].as_str().unwrap().to_string());
    }
    let t = &t;
    let admin = &admin;
    let reset = |revoke: bool| async move {
        let forgot = post(
            t,
            "/api/v1/auth/password/forgot",
            &[],
            json!({"email": admin.email}),
        )
        .await;
        assert_eq!(forgot.status, 202);
        let code = code_in(&mail_to(&admin.email, "Reset your Caly password").await.1);
        let done = post(
            t,
            "/api/v1/auth/password/reset",
            &[],
            json!({"email": admin.email, "code": code, "password": "Fresh-Teapot-91",
                "revoke_api_keys": revoke}),
        )
        .await;
        assert_eq!(done.status, 204, "{}", done.body);
    };
    reset(false).await;
    let gone = t
        .request(Method::GET, "/api/v1/me", Some(&session), None)
        .await;
    assert_eq!(gone.status, 401, "the reset ended the session");
    let still = t
        .request(Method::GET, "/api/v1/calls", Some(&keys[0]), None)
        .await;
    assert_eq!(still.status, 200, "keys stay unless the person asks");
    // A second reset (after the cooldown, moved by the core's clock) revokes them.
    caly_entities::email_code::Entity::delete_many()
        .exec(&t.app.db)
        .await
        .unwrap();
    reset(true).await;
    for key in &keys {
        let revoked = t
            .request(Method::GET, "/api/v1/calls", Some(key), None)
            .await;
        assert_eq!(revoked.status, 401, "{}", revoked.body);
    }
}

#[tokio::test]
async fn parallel_guesses_at_a_code_get_five_tries_in_all() {
    let t = spawn(Backend::Production, SecuritySettings::default()).await;
    let email = fresh_email("guessed");
    let started = post(
        &t,
        "/api/v1/auth/signup",
        &[],
        signup_body(&email, VICTIM_PASSWORD, "Guessed Co"),
    )
    .await;
    let token = started.body["signup_token"].as_str().unwrap().to_string();
    let code = code_in(&mail_to(&email, "sign-up code").await.1);
    let wrong = if code == "123456" { "654321" } else { "123456" };
    let guesses = (0..25).map(|_| {
        post(
            &t,
            "/api/v1/auth/signup/verify",
            &[],
            json!({"email": email, "code": wrong, "signup_token": token}),
        )
    });
    let answers = futures::future::join_all(guesses).await;
    let count = |code: &str| {
        answers
            .iter()
            .filter(|a| a.body["error"]["code"] == code)
            .count()
    };
    assert_eq!(
        count("invalid_code"),
        4,
        "four tries left an answer, the fifth locks"
    );
    assert_eq!(count("code_locked"), 21);
    let right = post(
        &t,
        "/api/v1/auth/signup/verify",
        &[],
        json!({"email": email, "code": code, "signup_token": token}),
    )
    .await;
    assert_eq!(right.body["error"]["code"], "code_locked", "{}", right.body);
}

#[tokio::test]
async fn an_address_gets_a_bounded_number_of_codes_a_day() {
    let t = spawn(
        Backend::Embedded,
        SecuritySettings {
            codes_per_email_per_day: 3,
            ..SecuritySettings::default()
        },
    )
    .await;
    let email = fresh_email("flooded");
    for _ in 0..3 {
        let started = post(
            &t,
            "/api/v1/auth/signup",
            &[],
            signup_body(&email, VICTIM_PASSWORD, "Flooded Co"),
        )
        .await;
        assert_eq!(started.status, 202, "{}", started.body);
    }
    let capped = post(
        &t,
        "/api/v1/auth/signup",
        &[],
        signup_body(&email, VICTIM_PASSWORD, "Flooded Co"),
    )
    .await;
    assert_eq!(capped.status, 429, "{}", capped.body);
    assert!(capped.headers.contains_key("retry-after"));
    assert_eq!(mails_to(&email, "").await.len(), 3);
    // Sign-ups and resets are capped apart: a flood of one cannot stop the other.
    let reset = post(
        &t,
        "/api/v1/auth/password/forgot",
        &[],
        json!({"email": email}),
    )
    .await;
    assert_eq!(reset.status, 202, "{}", reset.body);
}

#[tokio::test]
async fn an_admin_suspends_or_removes_a_person_only_in_their_own_store() {
    let t = spawn(Backend::Embedded, SecuritySettings::default()).await;
    let other = t.other_tenant().await;
    let person = t.add_user(Role::Admin).await;
    members::add_membership(
        &t.app.db,
        other.tenant.id,
        person.id,
        Role::Agent,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let login_to = |tenant: i64| {
        post(
            &t,
            "/api/v1/auth/login",
            &[],
            json!({"email": person.email, "password": PASSWORD, "tenant_id": tenant}),
        )
    };
    let here = login_to(t.tenant.tenant.id).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let there = login_to(other.tenant.id).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // The person made an API key here while they could.
    let key = t
        .request(
            Method::POST,
            "/api/v1/api-keys",
            Some(&here),
            Some(json!({"name": "theirs", "scope": "write"})),
        )
        .await
        .body["key"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, admin) = t.signed_in(Role::Owner).await;
    let suspended = t
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{}", person.id),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    assert_eq!(suspended.body["disabled"], true);
    let tr = &t;
    let me = |token: String| async move {
        tr.request(Method::GET, "/api/v1/me", Some(&token), None)
            .await
            .status
    };
    assert_eq!(me(here.clone()).await, 401, "signed out of this store");
    let calls = t
        .request(Method::GET, "/api/v1/calls", Some(&key), None)
        .await;
    assert_eq!(calls.status, 401, "their API key stopped with them");
    assert_eq!(
        me(there.clone()).await,
        200,
        "the other store's session lives"
    );
    let refused = login_to(t.tenant.tenant.id).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["error"]["code"], "account_disabled");
    assert_eq!(login_to(other.tenant.id).await.status, 200);
    let account = caly_entities::user::Entity::find_by_id(person.id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        account.disabled_at.is_none(),
        "the account itself is untouched"
    );

    let removed = t
        .request(
            Method::DELETE,
            &format!("/api/v1/users/{}", person.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let listed = t
        .request(Method::GET, "/api/v1/users", Some(&admin), None)
        .await;
    assert!(
        !listed.body.to_string().contains(&person.email),
        "{}",
        listed.body
    );
    assert_eq!(me(there.clone()).await, 200, "still in the other store");

    // Only the platform operator disables an account everywhere.
    let refused = t
        .request(
            Method::POST,
            "/api/v1/operator/users/disable",
            Some(&admin),
            Some(json!({"email": person.email, "disabled": true})),
        )
        .await;
    assert_eq!(refused.status, 403);
    let (_, operator) = t.operator_signed_in().await;
    let disabled = t
        .request(
            Method::POST,
            "/api/v1/operator/users/disable",
            Some(&operator),
            Some(json!({"email": person.email, "disabled": true})),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(me(there).await, 401, "signed out everywhere");
    assert_eq!(login_to(other.tenant.id).await.status, 403);
}

#[tokio::test]
async fn another_site_cannot_post_to_sign_in() {
    let t = spawn(Backend::Embedded, SecuritySettings::default()).await;
    let user = t.add_user(Role::Owner).await;
    let credentials = json!({"email": user.email, "password": PASSWORD}).to_string();
    // A form on another site sends text/plain or urlencoded bodies without a preflight.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let answer = send(
            &t,
            "/api/v1/auth/login",
            &[],
            content_type,
            credentials.clone(),
        )
        .await;
        assert_eq!(answer.status, 415, "{content_type}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "unsupported_media_type");
    }
    for headers in [
        [("origin", "https://evil.example"), ("x-none", "")],
        [("sec-fetch-site", "cross-site"), ("x-none", "")],
        [("origin", "null"), ("x-none", "")],
    ] {
        for path in [
            "/api/v1/auth/login",
            "/api/v1/auth/signup",
            "/api/v1/auth/invitations/accept",
        ] {
            let answer = send(&t, path, &headers, "application/json", credentials.clone()).await;
            assert_eq!(answer.status, 403, "{path} {headers:?}: {}", answer.body);
            assert_eq!(answer.body["error"]["code"], "cross_site");
        }
    }
    // Handlers that read their body's bytes refuse a text/plain one too.
    let typed = t
        .client
        .post(format!("{}/api/v1/calls", t.base))
        .bearer_auth(&t.tenant.api_key)
        .header("content-type", "text/plain")
        .body(json!({"channel": "text", "caller": "+919812345678"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(typed.status(), 415);
    // Caly's own pages (same origin) still sign in.
    let own = send(
        &t,
        "/api/v1/auth/login",
        &[("origin", &t.base), ("sec-fetch-site", "same-origin")],
        "application/json",
        credentials,
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
}

#[tokio::test]
async fn sign_up_and_reset_answer_alike_whether_or_not_the_address_has_an_account() {
    let t = spawn(Backend::Production, SecuritySettings::default()).await;
    let known = t.add_user(Role::Agent).await.email;
    let unknown = fresh_email("nobody");
    let mut shapes = Vec::new();
    for email in [&known, &unknown] {
        let started = post(
            &t,
            "/api/v1/auth/signup",
            &[],
            signup_body(email, VICTIM_PASSWORD, "Who Co"),
        )
        .await;
        let mut keys: Vec<String> = started.body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        let forgot = json!({"email": email});
        let first = post(&t, "/api/v1/auth/password/forgot", &[], forgot.clone()).await;
        let second = post(&t, "/api/v1/auth/password/forgot", &[], forgot).await;
        shapes.push((
            started.status,
            keys,
            first.status,
            first.body,
            second.status,
            second.body["error"]["code"].clone(),
        ));
    }
    assert_eq!(shapes[0], shapes[1]);
    assert_eq!(shapes[0].0, 202);
    assert_eq!((shapes[0].2, shapes[0].4), (202, 429));
    // Each got one mail to each request, and only the account holder a code or a link.
    assert!(
        mail_to(&known, "Reset your Caly password")
            .await
            .1
            .contains("reset-password?token=")
    );
    assert!(
        !mail_to(&unknown, "Resetting a Caly password")
            .await
            .1
            .contains("token=")
    );
}

#[tokio::test]
async fn wrong_passwords_slow_the_guesser_and_never_lock_the_owner_out() {
    let t = spawn(Backend::Production, behind_proxy()).await;
    let owner = t.add_user(Role::Owner).await;
    let guess = |from: &'static str| {
        let body = json!({"email": owner.email, "password": "Wrong-Guess-000"});
        let t = &t;
        async move { post(t, "/api/v1/auth/login", &[("x-forwarded-for", from)], body).await }
    };
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let answer = guess("203.0.113.7").await;
        if answer.status == 429 {
            let wait: u64 = answer.headers["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait >= 1);
        }
        statuses.push(answer.status);
    }
    assert_eq!(&statuses[..3], &[401, 401, 401]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    // The owner, from their own address, signs in.
    let owner_in = post(
        &t,
        "/api/v1/auth/login",
        &[("x-forwarded-for", "198.51.100.4")],
        json!({"email": owner.email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(owner_in.status, 200, "{}", owner_in.body);
    // Parallel guesses from one address cannot slip past the wait: three are free in all.
    let burst = futures::future::join_all((0..8).map(|_| guess("203.0.113.77"))).await;
    let tried = burst.iter().filter(|a| a.status == 401).count();
    assert_eq!(
        tried,
        3,
        "{:?}",
        burst.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    // Guessers from more addresses: the owner is told once failures pile up.
    for from in ["203.0.113.8", "203.0.113.9"] {
        for _ in 0..3 {
            assert_eq!(guess(from).await.status, 401);
        }
    }
    let (_, warning) = mail_to(&owner.email, "Failed sign-ins").await;
    assert!(warning.contains("not locked"), "{warning}");
    assert_eq!(
        post(
            &t,
            "/api/v1/auth/login",
            &[("x-forwarded-for", "198.51.100.4")],
            json!({"email": owner.email, "password": PASSWORD}),
        )
        .await
        .status,
        200
    );
}

async fn logins_refused_by_the_ip_limit(t: &TestApp, from: impl Fn(usize) -> String) -> usize {
    let mut refused = 0;
    for n in 0..31 {
        let answer = post(
            t,
            "/api/v1/auth/login",
            &[("x-forwarded-for", &from(n))],
            json!({"email": fresh_email("nobody"), "password": "Wrong-Guess-000"}),
        )
        .await;
        if answer.status == 429 {
            refused += 1;
        }
    }
    refused
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let t = spawn(Backend::Embedded, behind_proxy()).await;
    let refused = logins_refused_by_the_ip_limit(&t, |n| format!("203.0.113.{}", n + 1)).await;
    assert_eq!(refused, 0, "31 clients behind the proxy are 31 addresses");
    let refused =
        logins_refused_by_the_ip_limit(&t, |n| format!("2001:db8:7:7::{:x}", n + 1)).await;
    assert_eq!(refused, 1, "an IPv6 /64 is one client");
    // Without trusted proxies the header is the client's own claim and is ignored.
    let direct = spawn(Backend::Embedded, SecuritySettings::default()).await;
    let refused =
        logins_refused_by_the_ip_limit(&direct, |n| format!("198.51.100.{}", n + 1)).await;
    assert_eq!(refused, 1, "a spoofed header does not escape the limit");
}

#[tokio::test]
async fn over_https_cookies_take_their_prefixes_and_browsers_are_told_to_stay_on_https() {
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            workers: false,
            public_url: Some("https://caly.store.example".into()),
            ..Options::default()
        },
    )
    .await;
    let user = t.add_user(Role::Owner).await;
    let session = post(
        &t,
        "/api/v1/auth/login",
        &[],
        json!({"email": user.email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(session.status, 200, "{}", session.body);
    let hsts = session.headers["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.contains("max-age=31536000"), "{hsts}");
    let cookies: Vec<String> = session
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .collect();
    for (prefix, path) in [
        ("__Host-caly_session=", "Path=/;"),
        ("__Secure-caly_refresh=", "Path=/api/v1/auth;"),
        ("__Host-caly_csrf=", "Path=/;"),
    ] {
        let cookie = cookies
            .iter()
            .find(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {cookies:?}"));
        assert!(
            cookie.contains("Secure") && cookie.contains(path),
            "{cookie}"
        );
    }
    // The prefixed session cookie signs a page request in.
    let token = session.body["access_token"].as_str().unwrap();
    let page = t
        .client
        .get(format!("{}/api/v1/me", t.base))
        .header("cookie", format!("__Host-caly_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let plain = t
        .client
        .get(format!("{}/api/v1/me", t.base))
        .header("cookie", format!("caly_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 401, "an unprefixed cookie could be planted");
    // Over plain http there is no HSTS.
    let http = spawn(Backend::Embedded, SecuritySettings::default()).await;
    let answer = post(&http, "/api/v1/auth/login", &[], json!({})).await;
    assert!(!answer.headers.contains_key("strict-transport-security"));
}
