//! Accounts over the real HTTP API: sign-up with the code read from mail delivered over SMTP
//! (maildev), login, refresh-token rotation and reuse, logout, cookie sessions with CSRF,
//! password reset by code and by link, roles on every endpoint, API keys, tenant walls, people
//! administration and the audit log.

use crate::support::accounts::{PASSWORD, code_in, fresh_email, mail_count, mail_to};
use crate::support::{Backend, Options, TestApp};
use caly_core::tenancy::accounts::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_opts(
        backend,
        Options {
            smtp: true,
            workers: false,
            ..Options::default()
        },
    )
    .await
}

const STRONG: &str = "Blue-Kettle-42";

#[tokio::test]
async fn signing_up_with_the_emailed_code_makes_the_owner_of_a_new_tenant() {
    let t = spawn(Backend::Embedded).await;
    let email = fresh_email("meera");
    let signup = |password: &str| json!({"email": email.to_uppercase(), "password": password, "company": "Chai & Co", "name": "Meera"});
    // A weak password is named field by field and nothing is mailed.
    let weak = t
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(signup("short")),
        )
        .await;
    assert_eq!(weak.status, 422, "{}", weak.body);
    assert_eq!(weak.body["error"]["code"], "weak_password");
    assert!(weak.body["error"]["fields"]["password"].is_string());
    assert!(weak.body["error"]["request_id"].is_string());
    let missing = t
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": email})),
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(
        missing.body["error"]["fields"]["password"].is_string(),
        "{}",
        missing.body
    );
    assert_eq!(mail_count(&email).await, 0);

    let started = t
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(signup(STRONG)),
        )
        .await;
    assert_eq!(started.status, 202, "{}", started.body);
    assert_eq!(
        started.body["email"],
        email.as_str(),
        "the address is lowercased"
    );
    assert_eq!(started.body["expires_in"], 600);
    let token = started.body["signup_token"].as_str().unwrap().to_string();
    let (_, text) = mail_to(&email, "sign-up code").await;
    let code = code_in(&text);
    // Asking again at once is refused with Retry-After.
    let resend = t
        .request(
            Method::POST,
            "/api/v1/auth/signup/resend",
            None,
            Some(json!({"email": email, "signup_token": token})),
        )
        .await;
    assert_eq!(resend.status, 429);
    assert!(
        resend.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );

    // A wrong code counts down; the right one signs the owner in.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let verify = |code: &str| json!({"email": email, "code": code, "signup_token": token});
    let answer = t
        .request(
            Method::POST,
            "/api/v1/auth/signup/verify",
            None,
            Some(verify(wrong)),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"]["code"], "invalid_code");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4 attempt")
    );
    let session = t
        .request(
            Method::POST,
            "/api/v1/auth/signup/verify",
            None,
            Some(verify(&code)),
        )
        .await;
    assert_eq!(session.status, 201, "{}", session.body);
    assert_eq!(session.body["role"], "owner");
    assert_eq!(session.body["tenant"]["name"], "Chai & Co");
    assert_eq!(session.body["user"]["name"], "Meera");
    let new_tenant = session.body["tenant"]["id"].as_i64().unwrap();
    assert_ne!(new_tenant, t.tenant.tenant.id);
    let cookies: Vec<&str> = session
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(cookies.iter().any(|c| c.starts_with("caly_session=")
        && c.contains("HttpOnly")
        && c.contains("SameSite=Lax")));
    assert!(cookies.iter().any(|c| c.starts_with("caly_refresh=")
        && c.contains("HttpOnly")
        && c.contains("SameSite=Strict")));
    let token = session.body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let me = t
        .request(Method::GET, "/api/v1/me", Some(token), None)
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"]["email"], email.as_str());
    assert_eq!(me.body["memberships"][0]["role"], "owner");
    // The new tenant sees its own (empty) data, not the test tenant's.
    let calls = t
        .request(Method::GET, "/api/v1/calls", Some(token), None)
        .await;
    assert_eq!(calls.status, 200);
    assert_eq!(calls.body["total"], 0);

    // The code is spent; signing up again only mails a notice.
    let again = t
        .request(
            Method::POST,
            "/api/v1/auth/signup/verify",
            None,
            Some(verify(&code)),
        )
        .await;
    assert_eq!(again.body["error"]["code"], "code_expired");
    let login = t.login(&email, STRONG).await;
    assert_eq!(login["tenant"]["id"], new_tenant);
    let bad = t
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": "Blue-Kettle-43"})),
        )
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.body["error"]["code"], "invalid_credentials");
    let unknown = t
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": fresh_email("nobody"), "password": STRONG})),
        )
        .await;
    assert_eq!(
        unknown.body,
        json!({"error": {"code": "invalid_credentials", "message": bad.body["error"]["message"], "request_id": unknown.body["error"]["request_id"]}})
    );
}

#[tokio::test]
async fn a_code_locks_after_five_wrong_guesses_and_a_resend_after_the_cooldown_works() {
    let t = spawn(Backend::Production).await;
    let email = fresh_email("arjun");
    let started = t
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": email, "password": STRONG, "company": "Arjun Tea"})),
        )
        .await;
    assert_eq!(started.status, 202);
    let token = started.body["signup_token"].as_str().unwrap().to_string();
    let code = code_in(&mail_to(&email, "sign-up code").await.1);
    let wrong = if code == "999999" { "999998" } else { "999999" };
    for left in (0..5).rev() {
        let answer = t
            .request(
                Method::POST,
                "/api/v1/auth/signup/verify",
                None,
                Some(json!({"email": email, "code": wrong, "signup_token": token})),
            )
            .await;
        let expected = if left == 0 {
            "code_locked"
        } else {
            "invalid_code"
        };
        assert_eq!(answer.body["error"]["code"], expected, "{}", answer.body);
    }
    let locked = t
        .request(
            Method::POST,
            "/api/v1/auth/signup/verify",
            None,
            Some(json!({"email": email, "code": code, "signup_token": token})),
        )
        .await;
    assert_eq!(
        locked.body["error"]["code"], "code_locked",
        "the right code no longer works"
    );
    // After the cooldown a new code is mailed (the clock moved forward by the core's API).
    let later = chrono::Utc::now() + chrono::Duration::seconds(61);
    caly_core::tenancy::accounts::signup::resend(&t.app, &email, &token, later)
        .await
        .unwrap();
    let (_, text) = mail_to(&email, "sign-up code").await;
    let fresh = code_in(&text);
    let session = t
        .request(
            Method::POST,
            "/api/v1/auth/signup/verify",
            None,
            Some(json!({"email": email, "code": fresh, "signup_token": token})),
        )
        .await;
    assert_eq!(session.status, 201, "{}", session.body);
    // Codes expire after ten minutes.
    use caly_core::tenancy::accounts::codes::{self, CodeFor, Purpose};
    let now = chrono::Utc::now();
    let which = CodeFor::address(Purpose::Reset, &email);
    let issued = codes::issue(&t.app.db, &t.app.key, which, None, 10, now)
        .await
        .unwrap();
    let expired = codes::consume(
        &t.app.db,
        &t.app.key,
        which,
        &issued.code,
        now + chrono::Duration::minutes(11),
    )
    .await;
    assert!(matches!(
        expired,
        Err(caly_core::CoreError::Rejected(
            caly_core::Rejection::CodeExpired
        ))
    ));
}

#[tokio::test]
async fn refresh_tokens_rotate_a_reused_one_signs_the_session_out_and_logout_revokes() {
    let t = spawn(Backend::Production).await;
    let user = t.add_user(Role::Viewer).await;
    let first = t.login(&user.email, PASSWORD).await;
    let refresh = |token: &Value| json!({"refresh_token": token});
    let second = t
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(refresh(&first["refresh_token"])),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    let access = second.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        t.request(Method::GET, "/api/v1/me", Some(&access), None)
            .await
            .status,
        200
    );
    // The first token again: the whole family is revoked.
    let reused = t
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(refresh(&first["refresh_token"])),
        )
        .await;
    assert_eq!(reused.status, 401);
    assert_eq!(reused.body["error"]["code"], "refresh_token_reused");
    let third = t
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(refresh(&second.body["refresh_token"])),
        )
        .await;
    assert_eq!(
        third.status, 401,
        "the newest token of the family is dead too"
    );
    assert_eq!(
        t.request(Method::GET, "/api/v1/me", Some(&access), None)
            .await
            .status,
        401
    );

    // Logout revokes the session's access and refresh tokens.
    let session = t.login(&user.email, PASSWORD).await;
    let access = session["access_token"].as_str().unwrap();
    let out = t
        .request(Method::POST, "/api/v1/auth/logout", Some(access), None)
        .await;
    assert_eq!(out.status, 204);
    assert_eq!(
        t.request(Method::GET, "/api/v1/me", Some(access), None)
            .await
            .status,
        401
    );
    let after = t
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(refresh(&session["refresh_token"])),
        )
        .await;
    assert_eq!(after.status, 401);
    // A forged or tampered token is refused.
    let mut forged = access.to_string();
    forged.replace_range(forged.len() - 4.., "AAAA");
    assert_eq!(
        t.request(Method::GET, "/api/v1/me", Some(&forged), None)
            .await
            .status,
        401
    );
    let audit = t
        .request(
            Method::GET,
            "/api/v1/audit?action=auth.",
            Some(&t.tenant.api_key),
            None,
        )
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in ["auth.login", "auth.refresh_reused", "auth.logout"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
}

fn cookies_of(answer: &crate::support::accounts::Answer) -> (String, String) {
    let mut jar = Vec::new();
    let mut csrf = String::new();
    for value in answer.headers.get_all("set-cookie") {
        let pair = value
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        if let Some(token) = pair.strip_prefix("caly_csrf=") {
            csrf = token.to_string();
        }
        jar.push(pair);
    }
    (jar.join("; "), csrf)
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_for_changes() {
    let t = spawn(Backend::Embedded).await;
    let user = t.add_user(Role::Agent).await;
    let login = t
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": user.email, "password": PASSWORD})),
        )
        .await;
    let (cookie, csrf) = cookies_of(&login);
    assert_eq!(csrf, login.body["csrf_token"].as_str().unwrap());
    let send = |method: Method, path: &str, csrf: Option<&str>| {
        let mut request = t
            .client
            .request(method, format!("{}{path}", t.base))
            .header("cookie", &cookie);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.json(&json!({"note": "called back"})).send()
    };
    assert_eq!(
        send(Method::GET, "/api/v1/me", None)
            .await
            .unwrap()
            .status(),
        200
    );
    let refused = send(Method::POST, "/api/v1/tasks/1/close", None)
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    let wrong = send(Method::POST, "/api/v1/tasks/1/close", Some("nope"))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    // With the token the request is authorised (and finds no such task).
    let allowed = send(Method::POST, "/api/v1/tasks/1/close", Some(&csrf))
        .await
        .unwrap();
    assert_eq!(allowed.status(), 404);
    // The refresh cookie needs the CSRF token too.
    let refresh = |csrf: Option<&str>| {
        let mut request = t
            .client
            .post(format!("{}/api/v1/auth/refresh", t.base))
            .header("cookie", &cookie);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send()
    };
    assert_eq!(refresh(None).await.unwrap().status(), 403);
    assert_eq!(refresh(Some(&csrf)).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_password_is_reset_by_the_mailed_code_or_link_and_old_sessions_end() {
    let t = spawn(Backend::Embedded).await;
    let user = t.add_user(Role::Admin).await;
    let old = t.login(&user.email, PASSWORD).await;
    let forgot = t
        .request(
            Method::POST,
            "/api/v1/auth/password/forgot",
            None,
            Some(json!({"email": user.email})),
        )
        .await;
    assert_eq!(forgot.status, 202);
    let unknown = t
        .request(
            Method::POST,
            "/api/v1/auth/password/forgot",
            None,
            Some(json!({"email": fresh_email("ghost")})),
        )
        .await;
    assert_eq!(unknown.status, 202, "no account: the same answer");
    let (_, text) = mail_to(&user.email, "Reset your Caly password").await;
    let code = code_in(&text);
    let weak = t
        .request(
            Method::POST,
            "/api/v1/auth/password/reset",
            None,
            Some(json!({"email": user.email, "code": code, "password": "weak"})),
        )
        .await;
    assert_eq!(weak.status, 422);
    let reset = t
        .request(
            Method::POST,
            "/api/v1/auth/password/reset",
            None,
            Some(json!({"email": user.email, "code": code, "password": STRONG})),
        )
        .await;
    assert_eq!(reset.status, 204, "{}", reset.body);
    let old_access = old["access_token"].as_str().unwrap();
    assert_eq!(
        t.request(Method::GET, "/api/v1/me", Some(old_access), None)
            .await
            .status,
        401
    );
    let stale = t
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": user.email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(stale.status, 401);
    t.login(&user.email, STRONG).await;

    // By link: a second person (the cooldown is per address).
    let other = t.add_user(Role::Viewer).await;
    t.request(
        Method::POST,
        "/api/v1/auth/password/forgot",
        None,
        Some(json!({"email": other.email})),
    )
    .await;
    let (_, text) = mail_to(&other.email, "Reset your Caly password").await;
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/reset-password?token="))
        .expect("a link");
    assert!(link.starts_with(&t.base), "{link}");
    let token = link.split("token=").nth(1).unwrap();
    let by_link = t
        .request(
            Method::POST,
            "/api/v1/auth/password/reset",
            None,
            Some(json!({"token": token, "password": "Green-Teapot-77"})),
        )
        .await;
    assert_eq!(by_link.status, 204, "{}", by_link.body);
    t.login(&other.email, "Green-Teapot-77").await;
    let twice = t
        .request(
            Method::POST,
            "/api/v1/auth/password/reset",
            None,
            Some(json!({"token": token, "password": "Green-Teapot-78"})),
        )
        .await;
    assert_eq!(twice.body["error"]["code"], "code_expired");
}

/// Who an operation of the OpenAPI document allows (`x-caly-least-role`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Least {
    Role(Role),
    /// A person of this role or above, never an API key.
    Person(Role),
    Operator,
}

/// Every operation of the api's OpenAPI document that needs credentials, with the least role
/// it documents and a request for it (path parameters filled in, the documented example as its
/// body). Generated from the document, so a new route is in the matrix as soon as it is
/// documented (and `api_docs` fails for an undocumented one).
async fn documented_operations(t: &TestApp) -> Vec<(Method, String, Least, Option<Value>)> {
    let doc = t
        .request(Method::GET, "/api/openapi.json", None, None)
        .await
        .body;
    let mut operations = Vec::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        let filled: Vec<String> = path
            .split('/')
            .map(|part| match part {
                "{stage}" => "charge".to_string(),
                p if p.starts_with('{') => "999999".to_string(),
                p => p.to_string(),
            })
            .collect();
        for (method, operation) in methods.as_object().unwrap() {
            let people_only = operation["x-caly-people-only"] == true;
            let least = match operation["x-caly-least-role"].as_str().unwrap() {
                "operator" => Least::Operator,
                "none" | "webhook secret" => continue,
                role if people_only => Least::Person(Role::parse(role).unwrap()),
                role => Least::Role(Role::parse(role).unwrap()),
            };
            let body = operation["requestBody"]["content"]["application/json"]["example"].clone();
            operations.push((
                method.to_uppercase().parse().unwrap(),
                filled.join("/"),
                least,
                (!body.is_null()).then_some(body),
            ));
        }
    }
    operations
}

#[tokio::test]
async fn every_documented_operation_enforces_its_role_for_people_keys_and_the_operator() {
    let t = spawn(Backend::Embedded).await;
    let mut callers = Vec::new();
    for role in Role::ALL {
        let (_, token) = t.signed_in(role).await;
        callers.push((role.as_str().to_string(), Some(role), token));
    }
    for (scope, role) in [("read", Role::Viewer), ("write", Role::Admin)] {
        let created = t
            .request(
                Method::POST,
                "/api/v1/api-keys",
                Some(&t.tenant.api_key),
                Some(json!({"name": scope, "scope": scope})),
            )
            .await;
        callers.push((
            format!("key:{scope}"),
            Some(role),
            created.body["key"].as_str().unwrap().to_string(),
        ));
    }
    let (_, operator) = t.operator_signed_in().await;
    callers.push(("operator".into(), None, operator));
    let operations = documented_operations(&t).await;
    assert!(operations.len() > 50, "{} operations", operations.len());
    for needed in [
        "/api/v1/analytics/summary",
        "/api/v1/exports/turns",
        "/api/v1/store",
        "/api/v1/tasks/999999/assign",
        "/api/v1/tasks/999999/comments",
        "/api/v1/operator/tenants",
        "/api/v1/users/999999",
    ] {
        assert!(
            operations.iter().any(|(_, path, _, _)| path == needed),
            "{needed} is in the matrix"
        );
    }
    for (method, path, least, body) in operations {
        let anonymous = t.request(method.clone(), &path, None, body.clone()).await;
        assert_eq!(anonymous.status, 401, "{method} {path} without credentials");
        for (who, role, token) in &callers {
            let key = who.starts_with("key:");
            let allowed = match (least, role) {
                (Least::Role(least), Some(role)) => *role >= least,
                (Least::Person(least), Some(role)) => !key && *role >= least,
                // The operator's person is a viewer of the test store.
                (Least::Role(least) | Least::Person(least), None) => least == Role::Viewer,
                (Least::Operator, role) => role.is_none(),
            };
            let answer = t
                .request(method.clone(), &path, Some(token), body.clone())
                .await;
            if allowed {
                assert!(
                    ![401, 403].contains(&answer.status),
                    "{who} may {method} {path}: {} {}",
                    answer.status,
                    answer.body
                );
            } else {
                assert_eq!(
                    answer.status, 403,
                    "{who} may not {method} {path}: {}",
                    answer.body
                );
                assert_eq!(answer.body["error"]["code"], "forbidden");
            }
        }
    }
}

#[tokio::test]
async fn api_keys_are_shown_once_stored_hashed_revocable_and_note_their_last_use() {
    let t = spawn(Backend::Production).await;
    let (_, admin) = t.signed_in(Role::Admin).await;
    let created = t
        .request(
            Method::POST,
            "/api/v1/api-keys",
            Some(&admin),
            Some(json!({"name": "warehouse sync", "scope": "read"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.body["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("caly_key_"));
    let id = created.body["id"].as_i64().unwrap();
    let listed = t
        .request(Method::GET, "/api/v1/api-keys", Some(&admin), None)
        .await;
    let text = listed.body.to_string();
    assert!(!text.contains(&key), "never shown again");
    assert!(!text.contains("key_hash"));
    let row = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(row["scope"], "read");
    assert!(row["last_used_at"].is_null());
    // The tenant's original key is listed too: the migration path keeps it working.
    assert!(listed.body["items"].as_array().unwrap().len() >= 2);

    assert_eq!(
        t.request(Method::GET, "/api/v1/calls", Some(&key), None)
            .await
            .status,
        200
    );
    let by_header = t
        .client
        .get(format!("{}/api/v1/calls", t.base))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    let listed = t
        .request(Method::GET, "/api/v1/api-keys", Some(&admin), None)
        .await;
    let row = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap()
        .clone();
    assert!(row["last_used_at"].is_string(), "{row}");
    let bad_scope = t
        .request(
            Method::POST,
            "/api/v1/api-keys",
            Some(&admin),
            Some(json!({"name": "x", "scope": "root"})),
        )
        .await;
    assert_eq!(bad_scope.status, 422);
    assert!(bad_scope.body["error"]["fields"]["scope"].is_string());

    let revoked = t
        .request(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert!(revoked.body["revoked_at"].is_string());
    let refused = t
        .request(Method::GET, "/api/v1/calls", Some(&key), None)
        .await;
    assert_eq!(refused.status, 401);
    let audit = t
        .request(
            Method::GET,
            "/api/v1/audit?action=api_key.",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(audit.body["total"], 2, "{}", audit.body);
}

#[tokio::test]
async fn another_tenants_people_get_404_for_this_tenants_resources() {
    let t = spawn(Backend::Embedded).await;
    // Tenant A (the test tenant) has a call, a task, a person and an API key.
    let opened = t
        .request(
            Method::POST,
            "/api/v1/calls",
            Some(&t.tenant.api_key),
            Some(json!({"channel": "text", "caller": "+919812345678"})),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let call = opened.body["call_id"]
        .as_i64()
        .or(opened.body["id"].as_i64())
        .unwrap();
    let person = t.add_user(Role::Agent).await;
    let key = t
        .request(
            Method::POST,
            "/api/v1/api-keys",
            Some(&t.tenant.api_key),
            Some(json!({"name": "a", "scope": "read"})),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let task = {
        use sea_orm::{ActiveModelTrait, Set};
        caly_entities::task::ActiveModel {
            tenant_id: Set(t.tenant.tenant.id),
            call_id: Set(call),
            turn_id: Set(0),
            kind: Set("callback".into()),
            status: Set("open".into()),
            order_name: Set(None),
            caller: Set(Some("+919812345678".into())),
            details: Set("call me back".into()),
            note: Set(None),
            created_at: Set(chrono::Utc::now()),
            closed_at: Set(None),
            closed_by: Set(None),
            ..Default::default()
        }
        .insert(&t.app.db)
        .await
        .unwrap()
        .id
    };
    // An owner of tenant B.
    let b = t.other_tenant().await;
    let b_owner = t.add_user_to(b.tenant.id, Role::Owner).await;
    let b_token = t.login(&b_owner.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let probes = [
        (Method::GET, format!("/api/v1/calls/{call}"), None),
        (Method::GET, format!("/api/v1/calls/{call}/recording"), None),
        (
            Method::POST,
            format!("/api/v1/calls/{call}/turns"),
            Some(json!({"text": "where is my order"})),
        ),
        (
            Method::POST,
            format!("/api/v1/calls/{call}/stages/charge/replay"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{}", person.id),
            Some(json!({"role": "viewer"})),
        ),
        (Method::DELETE, format!("/api/v1/api-keys/{key}"), None),
        (
            Method::POST,
            format!("/api/v1/tasks/{task}/close"),
            Some(json!({"note": "mine now"})),
        ),
    ];
    for (method, path, body) in probes {
        for token in [b_token.as_str(), b.api_key.as_str()] {
            let answer = t
                .request(method.clone(), &path, Some(token), body.clone())
                .await;
            assert_eq!(answer.status, 404, "{method} {path}: {}", answer.body);
        }
    }
    // Lists show only B's own rows.
    let users = t
        .request(Method::GET, "/api/v1/users", Some(&b_token), None)
        .await;
    let emails: Vec<&str> = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, vec![b_owner.email.as_str()]);
    let keys = t
        .request(Method::GET, "/api/v1/api-keys", Some(&b_token), None)
        .await;
    assert!(
        keys.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["tenant_id"] == b.tenant.id)
    );
    let calls = t
        .request(Method::GET, "/api/v1/calls", Some(&b_token), None)
        .await;
    assert_eq!(calls.body["total"], 0);
    let tasks = t
        .request(Method::GET, "/api/v1/tasks", Some(&b_token), None)
        .await;
    assert_eq!(tasks.body["total"], 0);
    let audit = t
        .request(Method::GET, "/api/v1/audit", Some(&b_token), None)
        .await;
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["tenant_id"] == b.tenant.id),
        "{}",
        audit.body
    );
    let teams = t
        .request(Method::GET, "/api/v1/teams", Some(&b_token), None)
        .await;
    assert_eq!(teams.body["items"], json!([]));
    // A's person and key are untouched.
    let a_users = t
        .request(Method::GET, "/api/v1/users", Some(&t.tenant.api_key), None)
        .await;
    assert!(
        a_users.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == person.id && u["role"] == "agent")
    );
}

#[tokio::test]
async fn admins_change_roles_and_disable_people_and_every_change_is_audited() {
    let t = spawn(Backend::Production).await;
    let (owner, owner_token) = t.signed_in(Role::Owner).await;
    let (_, admin_token) = t.signed_in(Role::Admin).await;
    let (agent, agent_token) = t.signed_in(Role::Agent).await;
    let patch = |id: i64, body: Value| (Method::PATCH, format!("/api/v1/users/{id}"), body);
    // An admin may make an agent a supervisor, but not an owner.
    let (m, p, b) = patch(agent.id, json!({"role": "supervisor"}));
    let promoted = t.request(m, &p, Some(&admin_token), Some(b)).await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(promoted.body["role"], "supervisor");
    let (m, p, b) = patch(agent.id, json!({"role": "owner"}));
    assert_eq!(
        t.request(m, &p, Some(&admin_token), Some(b)).await.status,
        403
    );
    let (m, p, b) = patch(owner.id, json!({"disabled": true}));
    assert_eq!(
        t.request(m, &p, Some(&admin_token), Some(b)).await.status,
        403,
        "admins cannot act on owners"
    );
    // The last owner stays an owner.
    let (m, p, b) = patch(owner.id, json!({"role": "admin"}));
    let last = t.request(m, &p, Some(&owner_token), Some(b)).await;
    assert_eq!(last.status, 409, "{}", last.body);
    let (m, p, b) = patch(owner.id, json!({"role": "nobody"}));
    assert_eq!(
        t.request(m, &p, Some(&owner_token), Some(b)).await.status,
        422
    );
    // The new role applies to the agent's live session at once.
    let failed = t
        .request(
            Method::GET,
            "/api/v1/stage-runs/failed",
            Some(&agent_token),
            None,
        )
        .await;
    assert_eq!(failed.status, 403);
    // Disabling signs the person out and stops their logins.
    let (m, p, b) = patch(agent.id, json!({"disabled": true}));
    let disabled = t.request(m, &p, Some(&admin_token), Some(b)).await;
    assert_eq!(disabled.body["disabled"], true);
    assert_eq!(
        t.request(Method::GET, "/api/v1/me", Some(&agent_token), None)
            .await
            .status,
        401
    );
    let login = t
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": agent.email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(login.status, 403);
    assert_eq!(login.body["error"]["code"], "account_disabled");
    // A person sets their phone number (the number Exotel dials for them) and mail preferences.
    let me = t
        .request(
            Method::PATCH,
            "/api/v1/me",
            Some(&owner_token),
            Some(json!({"phone": "098123 45678", "notifications": {"daily_report": false}})),
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["phone"], "+919812345678");
    assert_eq!(me.body["notifications"]["daily_report"], false);
    let bad_phone = t
        .request(
            Method::PATCH,
            "/api/v1/me",
            Some(&owner_token),
            Some(json!({"phone": "call me"})),
        )
        .await;
    assert_eq!(bad_phone.status, 422);
    assert!(bad_phone.body["error"]["fields"]["phone"].is_string());

    let audit = t
        .request(
            Method::GET,
            "/api/v1/audit?action=member.",
            Some(&owner_token),
            None,
        )
        .await;
    let items = audit.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", audit.body);
    // The owner's new phone number (calls handed to it are attributed to them) is audited.
    assert_eq!(items[0]["action"], "member.phone_changed");
    assert!(
        items[0]["details"]
            .as_str()
            .unwrap()
            .contains("+919812345678")
    );
    assert_eq!(items[1]["action"], "member.disabled");
    assert_eq!(items[1]["target"], format!("user:{}", agent.id));
    assert!(items[1]["actor"].as_str().unwrap().starts_with("admin."));
    assert!(items[1]["ip"].as_str().unwrap() == "127.0.0.1");
    assert!(items[1]["request_id"].is_string());
    assert_eq!(items[2]["action"], "member.role_changed");
    let csv = t
        .client
        .get(format!("{}/api/v1/audit?format=csv&action=member.", t.base))
        .bearer_auth(&owner_token)
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains(",member.disabled,"), "{text}");
}

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(header["alg"], "HS256");
    header["kid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_rotated_signing_key_signs_new_tokens_while_the_previous_one_still_verifies() {
    use caly_core::tenancy::accounts::tokens;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let t = spawn(Backend::Embedded).await;
    let user = t.add_user(Role::Viewer).await;
    let rotate = || async {
        let grace = t.app.settings.accounts.access_ttl;
        let kid = tokens::rotate(&t.app.db, &t.app.key, grace, chrono::Utc::now())
            .await
            .unwrap();
        t.app.signing_keys.forget();
        kid
    };
    let first = t.login(&user.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let second_kid = rotate().await;
    let second = t.login(&user.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(kid_of(&first), kid_of(&second));
    assert_eq!(kid_of(&second), second_kid);
    for token in [&first, &second] {
        assert_eq!(
            t.request(Method::GET, "/api/v1/me", Some(token), None)
                .await
                .status,
            200
        );
    }
    // One more rotation retires the first key: its tokens stop working.
    let third_kid = rotate().await;
    assert_eq!(
        t.request(Method::GET, "/api/v1/me", Some(&first), None)
            .await
            .status,
        401
    );
    assert_eq!(
        t.request(Method::GET, "/api/v1/me", Some(&second), None)
            .await
            .status,
        200
    );
    // The second key retires an access-token lifetime (and one cache period) after it was
    // replaced, in every process: one whose cache still holds it refuses its tokens then.
    let retires = caly_entities::signing_key::Entity::find()
        .filter(caly_entities::signing_key::Column::Kid.eq(second_kid.as_str()))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .retired_at
        .expect("retiring");
    let lifetime =
        chrono::Duration::from_std(t.app.settings.accounts.access_ttl + tokens::RELOAD_EVERY)
            .unwrap();
    assert!(
        (retires - chrono::Utc::now() - lifetime)
            .num_seconds()
            .abs()
            < 60
    );
    let later = retires + chrono::Duration::seconds(1);
    let stale = t
        .app
        .signing_keys
        .verify(&t.app.db, &t.app.key, &second, later)
        .await;
    assert!(stale.is_err(), "a retired key stops verifying at its time");
    let third = t.login(&user.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(kid_of(&third), third_kid);
    // Tokens carry their audience; one made for anything else is refused.
    use base64::Engine;
    let body = third.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "caly-api");
}

#[tokio::test]
async fn the_single_tenant_key_of_an_existing_deployment_becomes_a_write_api_key() {
    use caly_core::platform::crypto::hash_secret;
    use caly_migrations::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let before = caly_migrations::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261203_000002_accounts")
        .unwrap() as u32;
    // A deployment as it was before accounts: one tenant with its one key.
    caly_migrations::Migrator::up(&db, Some(before))
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(&format!(
        "INSERT INTO tenants (name, exotel_sid, exotel_key_enc, exotel_token_enc, exotel_subdomain, \
         api_key_hash, webhook_secret_hash, balance_paise, created_at) VALUES \
         ('Old Store', 'old', 'x', 'x', 'in', '{}', 'h', 0, '2026-11-01T00:00:00Z')",
        hash_secret("caly_key_old")
    ))
    .await
    .unwrap();
    caly_migrations::Migrator::up(&db, None).await.unwrap();
    let principal = caly_core::tenancy::accounts::api_keys::authenticate(
        &db,
        "caly_key_old",
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .expect("the old key still works");
    assert_eq!(principal.tenant.name, "Old Store");
    assert_eq!(principal.role, Role::Admin);
    let keys = caly_core::tenancy::accounts::api_keys::list(&db, principal.tenant_id())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "tenant key (migrated)");
    assert_eq!(keys[0].scope, "write");
}

#[tokio::test]
async fn failed_logins_and_webhook_guesses_are_rate_limited_but_valid_webhooks_never_are() {
    let t = spawn(Backend::Production).await;
    let user = t.add_user(Role::Viewer).await;
    let wrong = json!({"email": user.email, "password": "Wrong-Password-1"});
    for _ in 0..3 {
        let answer = t
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(wrong.clone()),
            )
            .await;
        assert_eq!(answer.status, 401);
    }
    // The guesser's address now waits before each try (the owner elsewhere is not locked out:
    // attacks_accounts tests that).
    let limited = t
        .request(Method::POST, "/api/v1/auth/login", None, Some(wrong))
        .await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    assert!(
        limited.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );

    let guess = format!(
        "{}/hooks/exotel/{}/wrong-secret/status",
        t.base, t.tenant.tenant.id
    );
    for _ in 0..20 {
        let answer = t
            .post_raw(&guess, "application/x-www-form-urlencoded", "CallSid=x")
            .await;
        assert_eq!(answer.status(), 404);
    }
    let answer = t
        .post_raw(&guess, "application/x-www-form-urlencoded", "CallSid=x")
        .await;
    assert_eq!(answer.status(), 429);
    assert!(answer.headers().contains_key("retry-after"));
    // Exotel's valid delivery from the same address still goes through.
    let valid = t
        .post_form(
            "status",
            &[
                ("CallSid", "limit-1"),
                ("Status", "completed"),
                ("DialCallDuration", "10"),
            ],
        )
        .await;
    assert_eq!(valid.status(), 200);
    // Every response carries the security headers.
    for header in [
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
    ] {
        assert!(valid.headers().contains_key(header), "{header}");
    }
}

#[tokio::test]
async fn cors_allows_only_configured_origins_and_bodies_are_capped() {
    let t = spawn(Backend::Embedded).await;
    let preflight = |origin: &'static str| {
        t.client
            .request(Method::OPTIONS, format!("{}/api/v1/calls", t.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.store.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.store.example"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    let huge = "x".repeat(2 * 1024 * 1024);
    let answer = t
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "a@b.example", "password": huge})),
        )
        .await;
    assert_eq!(answer.status, 413);
}
