//! The web app's pages over plain HTTP: every page sends a stranger to the sign-in page (with
//! the way back) and answers a signed-in person with a small HTML page; admin pages stop below
//! admin. Escaping and the wall between stores, page by page, are in `page_safety`.

use crate::support::{Backend, TestApp};
use caly_core::tenancy::accounts::Role;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::json;

/// Every signed-in page, with an example of each parameter.
pub(crate) fn pages(call: i64) -> Vec<String> {
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

/// A page as `bearer` (or nobody) gets it: its status, its type (or where it redirects) and body.
pub(crate) async fn get(
    t: &TestApp,
    path: &str,
    bearer: Option<&str>,
) -> (StatusCode, String, String) {
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
