//! The web app's pages over plain HTTP: every page sends a stranger to the sign-in page (with
//! the way back) and answers a signed-in person with a small HTML page; admin pages stop below
//! admin; one store's pages never show another store's calls or tasks; and whatever a caller, a
//! store or a colleague typed is shown as text, never as markup.

use crate::support::accounts::PASSWORD;
use crate::support::{Backend, TestApp};
use caly_core::tenancy::accounts::Role;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::json;

/// Every signed-in page, with an example of each parameter.
fn pages(call: i64) -> Vec<String> {
    [
        "/",
        "/?from=2026-11-01&to=2026-11-30",
        "/analytics",
        "/analytics?from=2026-11-01&to=2026-11-30",
        "/calls?from=2026-11-01&to=2026-11-30&weekday=fri&hour=23",
        "/calls",
        "/calls?from=2026-01-01&to=2030-12-31&state=completed&channel=text&intent=order_status&outcome=resolved&caller=98123",
        "/tasks",
        "/tasks?status=all&kind=cancellation",
        "/billing",
        "/onboarding",
        "/settings/team",
        "/settings/api-keys",
        "/settings/store",
        "/settings/notifications",
        "/admin/health",
        "/admin/stage-runs",
        "/admin/stage-runs?stage=charge&since=2d",
        "/admin/audit",
        "/admin/audit?action=auth.&from=2026-01-01",
    ]
    .iter()
    .map(|p| p.to_string())
    .chain([format!("/calls/{call}")])
    .collect()
}

const ADMIN_PAGES: [&str; 5] = [
    "/onboarding",
    "/settings/api-keys",
    "/admin/health",
    "/admin/stage-runs",
    "/admin/audit",
];

const PUBLIC_PAGES: [&str; 5] = [
    "/login",
    "/signup",
    "/forgot-password",
    "/reset-password?token=abc",
    "/accept-invite?token=abc",
];

/// A client that does not follow redirects.
fn browserless() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get(t: &TestApp, path: &str, bearer: Option<&str>) -> (StatusCode, String, String) {
    let mut request = browserless().get(format!("{}{path}", t.base));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .or(response.headers().get(LOCATION))
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

/// A text conversation from `caller` that cancels order 1002 (its PIN code verifies the caller),
/// after `first` words: a cancellation task for staff. The store must be connected.
pub(crate) async fn a_cancellation(t: &TestApp, caller: &str, first: &str) -> i64 {
    let (code, opened) = t
        .api_post_json(
            "/api/v1/calls",
            &json!({"channel": "text", "caller": caller}),
        )
        .await;
    assert_eq!(code, 201, "{opened}");
    let call = opened["id"].as_i64().unwrap();
    crate::turns::say(t, call, first).await;
    let cancelled = crate::turns::say(t, call, "pin 411001").await;
    assert!(
        cancelled["reply"].as_str().unwrap_or("").contains("cancel"),
        "{cancelled}"
    );
    t.drain().await;
    call
}

async fn a_conversation(t: &TestApp, text: &str) -> i64 {
    crate::turns::connect(t).await;
    let call = crate::turns::open(t).await;
    crate::turns::say(t, call, text).await;
    t.drain().await;
    call
}

#[tokio::test]
async fn strangers_go_to_sign_in_with_the_way_back_and_people_get_small_pages() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let call = a_conversation(&t, "where is my order 1004").await;
    for page in pages(call) {
        let (status, location, _) = get(&t, &page, None).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let back: String = url::form_urlencoded::byte_serialize(page.as_bytes()).collect();
        assert_eq!(location, format!("/login?next={back}"), "{page}");
    }
    for page in PUBLIC_PAGES {
        let (status, kind, body) = get(&t, page, None).await;
        assert_eq!(status, 200, "{page}");
        assert!(kind.starts_with("text/html"), "{page}: {kind}");
        assert!(body.contains("<form"), "{page}");
    }
    let (_, token) = t.signed_in(Role::Owner).await;
    // The first load of any page: the page, its stylesheet, its script and its icon.
    let assets: usize = {
        let page = get(&t, "/calls", Some(&token)).await.2;
        let mut total = 0;
        for asset in ["app.css", "app.js", "icon.svg"] {
            let at = page.find(asset).unwrap_or_else(|| panic!("{asset} linked"));
            let start = page[..at].rfind('"').unwrap() + 1;
            let (status, _, body) = get(&t, &page[start..at + asset.len()], None).await;
            assert_eq!(status, 200, "{asset}");
            total += body.len();
        }
        total
    };
    for page in pages(call) {
        let (status, kind, body) = get(&t, &page, Some(&token)).await;
        assert_eq!(status, 200, "{page}: {body}");
        assert!(kind.starts_with("text/html"), "{page}: {kind}");
        assert!(body.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(
            body.contains("aria-label=\"Main\""),
            "{page} has the navigation"
        );
        assert!(
            body.len() + assets < 200 * 1024,
            "{page}: {} bytes with its assets",
            body.len() + assets
        );
    }
    // A bad filter is a clear 400 page, not a 500.
    let (status, _, body) = get(&t, "/calls?state=sideways", Some(&token)).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("&#39;state&#39; must be one of") || body.contains("'state' must be one of"),
        "{body}"
    );
    let (status, _, _) = get(&t, "/calls/999999", Some(&token)).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&t, "/calls/nope", Some(&token)).await;
    assert_eq!(status, 404);
    // A signed-in person on the sign-in page goes on to where they were going.
    let (status, location, _) = get(&t, "/login?next=%2Fbilling", Some(&token)).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/billing")
    );
    let (_, location, _) = get(&t, "/login?next=%2F%2Fevil.example", Some(&token)).await;
    assert_eq!(location, "/", "never to another site");
    for sneaky in [
        "%2F%09%2Fevil.example",
        "%2F%5Cevil.example",
        "https%3A%2F%2Fevil.example",
    ] {
        let (_, location, _) = get(&t, &format!("/login?next={sneaky}"), Some(&token)).await;
        assert_eq!(location, "/", "{sneaky}");
    }
    t.stop().await;
}

#[tokio::test]
async fn admin_pages_stop_below_admin_and_only_admins_see_replays_and_tool_calls() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let call = a_conversation(&t, "where is my order 1004").await;
    for role in [Role::Viewer, Role::Agent, Role::Supervisor] {
        let (_, token) = t.signed_in(role).await;
        for page in ADMIN_PAGES {
            let (status, _, body) = get(&t, page, Some(&token)).await;
            assert_eq!(status, 403, "{role:?} {page}");
            assert!(body.contains("Not for your role"), "{page}");
        }
        let (status, _, body) = get(&t, &format!("/calls/{call}"), Some(&token)).await;
        assert_eq!(status, 200);
        assert!(
            !body.contains("class=\"quiet replay\""),
            "{role:?} sees no replay button"
        );
        assert!(!body.contains("tool-calls"), "{role:?} sees no tool calls");
        assert!(
            !body.contains("href=\"/admin/health\""),
            "{role:?} has no admin links"
        );
    }
    let (_, token) = t.signed_in(Role::Admin).await;
    let (_, _, body) = get(&t, &format!("/calls/{call}"), Some(&token)).await;
    assert!(body.contains("class=\"quiet replay\""));
    assert!(body.contains("tool-calls"));
    for page in ADMIN_PAGES {
        assert_eq!(get(&t, page, Some(&token)).await.0, 200, "{page}");
    }
    t.stop().await;
}

#[tokio::test]
async fn one_stores_pages_never_show_another_stores_calls_or_tasks() {
    let t = TestApp::spawn(Backend::Embedded).await;
    crate::turns::connect(&t).await;
    let call = a_cancellation(&t, "+919812345678", "order cancel karna hai, order 1002").await;
    let (_, tasks) = t.api_get("/api/v1/tasks").await;
    assert_eq!(tasks["total"], 1, "{tasks}");
    let other = t.other_tenant().await;
    let stranger = t.add_user_to(other.tenant.id, Role::Owner).await;
    let session = t.login(&stranger.email, PASSWORD).await;
    let token = session["access_token"].as_str().unwrap();
    let (status, _, _) = get(&t, &format!("/calls/{call}"), Some(token)).await;
    assert_eq!(status, 404, "another store's call is not found");
    // Nor can its people read or act on the other store's task, or be given it.
    let task = tasks["items"][0]["id"].as_i64().unwrap();
    let acts = [
        (reqwest::Method::GET, format!("/api/v1/tasks/{task}"), None),
        (
            reqwest::Method::POST,
            format!("/api/v1/tasks/{task}/assign"),
            Some(json!({"assignee_id": stranger.id})),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/tasks/{task}/comments"),
            Some(json!({"body": "mine now"})),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/tasks/{task}/close"),
            Some(json!({"note": "mine now"})),
        ),
    ];
    for (method, path, body) in acts {
        let answer = t.request(method, &path, Some(token), body).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    let (_, owner_token) = t.signed_in(Role::Owner).await;
    let given = t
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tasks/{task}/assign"),
            Some(&owner_token),
            Some(json!({"assignee_id": stranger.id})),
        )
        .await;
    assert_eq!(given.status, 400, "not a member here: {}", given.body);
    let (_, history) = t.api_get(&format!("/api/v1/tasks/{task}")).await;
    assert_eq!(history["history"], json!([]), "nothing happened to it");
    assert_eq!(history["assignee_id"], serde_json::Value::Null);
    for page in [
        "/calls",
        "/tasks?status=all",
        "/billing",
        "/settings/team",
        "/admin/audit",
    ] {
        let (status, _, body) = get(&t, page, Some(token)).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            !body.contains("+919812345678"),
            "{page} shows the other store's caller"
        );
        assert!(
            !body.contains(&format!("/calls/{call}\"")),
            "{page} links the other store's call"
        );
        assert!(
            !body.contains("1002"),
            "{page} shows the other store's task"
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn what_callers_stores_and_colleagues_typed_renders_as_text() {
    let t = TestApp::spawn(Backend::Embedded).await;
    crate::turns::connect(&t).await;
    let call = a_cancellation(
        &t,
        "+919812345678",
        "<script>alert('caller')</script> order cancel karna hai, order 1002",
    )
    .await;
    let (owner, token) = t.signed_in(Role::Owner).await;
    let _ = owner;
    // The store's name and a colleague's comment carry markup too.
    use sea_orm::{ActiveModelTrait, Set};
    caly_entities::tenant::ActiveModel {
        id: Set(t.tenant.tenant.id),
        name: Set("<b onmouseover=alert(1)>Kesar</b>".into()),
        ..Default::default()
    }
    .update(&t.app.db)
    .await
    .unwrap();
    let (_, tasks) = t.api_get("/api/v1/tasks").await;
    let task = tasks["items"][0]["id"].as_i64().expect("a task");
    let comment = t
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tasks/{task}/comments"),
            Some(&token),
            Some(json!({"body": "<img src=x onerror=alert('staff')>"})),
        )
        .await;
    assert_eq!(comment.status, 201, "{}", comment.body);
    for page in [format!("/calls/{call}"), "/tasks".into(), "/calls".into()] {
        let (status, _, body) = get(&t, &page, Some(&token)).await;
        assert_eq!(status, 200, "{page}");
        assert!(!body.contains("<script>alert"), "{page}");
        assert!(!body.contains("<img src=x"), "{page}");
        assert!(!body.contains("<b onmouseover"), "{page}");
        assert!(
            body.contains("&lt;b onmouseover=alert(1)&gt;Kesar&lt;/b&gt;"),
            "{page}: the store's name as text"
        );
    }
    let (_, _, detail) = get(&t, &format!("/calls/{call}"), Some(&token)).await;
    assert!(
        detail.contains("&lt;script&gt;alert("),
        "the caller's words as text"
    );
    let (_, _, inbox) = get(&t, "/tasks", Some(&token)).await;
    assert!(
        inbox.contains("&lt;img src=x onerror=alert("),
        "the comment as text"
    );
    t.stop().await;
}
