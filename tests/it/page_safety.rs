//! Every page, for two stores. One store's callers, people and operator type markup into
//! everything they can (the store's name, a caller's words, a transcript, a task comment, a
//! team, a person's name, an API key's name, the greeting and a policy, a credit's reason). Each
//! shows as text on the pages that show it, and none of it (nor the store's callers, calls or
//! numbers) shows on any page of the other store.

use crate::support::accounts::PASSWORD;
use crate::support::{Backend, TestApp, sid};
use crate::web_pages::{get, pages};
use caly_core::tenancy::accounts::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Something a person typed, with a word found nowhere else, and the pages that must show it.
struct Typed {
    /// As typed: markup.
    raw: &'static str,
    /// A word of it that no page has otherwise.
    word: &'static str,
    /// Pages (paths; `TEXT` stands for the text conversation's id) that show it.
    shown_on: &'static [&'static str],
}

const STORE_NAME: Typed = Typed {
    raw: "<b onmouseover=alert(1)>Zqstore Kesar</b>",
    word: "Zqstore",
    shown_on: &[
        "/",
        "/calls",
        "/tasks",
        "/billing",
        "/settings/team",
        "/admin/audit",
    ],
};

const TYPED: [Typed; 9] = [
    STORE_NAME,
    Typed {
        raw: "<script>alert(2)</script> zqcaller",
        word: "zqcaller",
        shown_on: &["/calls/TEXT"],
    },
    Typed {
        raw: "<script>alert(3)</script> zqtranscript",
        word: "zqtranscript",
        shown_on: &["/calls/TEXT"],
    },
    Typed {
        raw: "<img src=x onerror=alert(4)> zqcomment",
        word: "zqcomment",
        shown_on: &["/tasks"],
    },
    Typed {
        raw: "<i onclick=alert(5)>Zqteam</i>",
        word: "Zqteam",
        shown_on: &["/settings/team", "/analytics"],
    },
    Typed {
        raw: "<u onclick=alert(6)>Zqperson</u>",
        word: "Zqperson",
        shown_on: &["/settings/team", "/tasks", "/admin/audit"],
    },
    Typed {
        raw: "<s onclick=alert(7)>zqkey</s>",
        word: "zqkey",
        shown_on: &["/settings/api-keys"],
    },
    Typed {
        raw: "<em onclick=alert(8)>zqgreeting</em>",
        word: "zqgreeting",
        shown_on: &["/settings/store"],
    },
    Typed {
        raw: "<big onclick=alert(9)>zqcredit</big> goodwill",
        word: "zqcredit",
        shown_on: &["/billing"],
    },
];

/// What a policy says (shown on the store profile page).
const POLICY: &str = "<marquee>zqpolicy</marquee> 7-day returns.";

/// What maud writes for `text`.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn path_of(page: &str) -> &str {
    page.split('?').next().unwrap_or(page)
}

fn shows(typed: &Typed, page: &str, text_call: i64) -> bool {
    let path = path_of(page);
    typed
        .shown_on
        .iter()
        .any(|on| path == on.replace("TEXT", &text_call.to_string()))
}

/// `method path` as the bearer of `token`, which must succeed; its answer.
async fn succeeds(
    t: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let answer = t.request(method, path, Some(token), body).await;
    assert!(
        answer.status < 300,
        "{path}: {} {}",
        answer.status,
        answer.body
    );
    answer.body
}

/// Store A's calls, as ids: a text conversation that became a cancellation task, and a phone
/// call with a charge, an adjustment and a failed recording upload.
struct StoreA {
    text_call: i64,
    voice_call: i64,
    emails: Vec<String>,
}

/// Fills store A (the test app's own tenant) with everything its people can type.
async fn a_store_full_of_markup(t: &TestApp) -> StoreA {
    crate::turns::connect(t).await;
    let first = format!("{} order cancel karna hai, order 1002", TYPED[1].raw);
    let text_call = crate::web_pages::a_cancellation(t, "+919876501234", &first).await;
    let (owner, token) = t.signed_in(Role::Owner).await;
    let token = token.as_str();
    use sea_orm::{ActiveModelTrait, Set};
    caly_entities::tenant::ActiveModel {
        id: Set(t.tenant.tenant.id),
        name: Set(STORE_NAME.raw.into()),
        ..Default::default()
    }
    .update(&t.app.db)
    .await
    .unwrap();
    // The post-call transcript, as the transcribe stage stores it.
    let segments = json!([
        {"start_ms": 0, "end_ms": 1500, "speaker": "bot", "text": "Namaste, Kesar here."},
        {"start_ms": 1600, "end_ms": 4000, "speaker": "caller", "text": TYPED[2].raw},
    ]);
    caly_entities::transcript::ActiveModel {
        tenant_id: Set(t.tenant.tenant.id),
        call_id: Set(text_call),
        source: Set("caly".into()),
        engine: Set("test".into()),
        redacted: Set(false),
        duration_ms: Set(4000),
        segments: Set(segments.to_string()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    succeeds(
        t,
        Method::PATCH,
        "/api/v1/me",
        token,
        Some(json!({"name": TYPED[5].raw})),
    )
    .await;
    let (_, tasks) = t.api_get("/api/v1/tasks").await;
    let task = tasks["items"][0]["id"].as_i64().expect("a task");
    let comment = json!({"body": TYPED[3].raw});
    let comments = format!("/api/v1/tasks/{task}/comments");
    succeeds(t, Method::POST, &comments, token, Some(comment)).await;
    let team = succeeds(
        t,
        Method::POST,
        "/api/v1/teams",
        token,
        Some(json!({"name": TYPED[4].raw})),
    )
    .await;
    let members = format!("/api/v1/teams/{}/members/{}", team["id"], owner.id);
    succeeds(t, Method::PUT, &members, token, Some(json!({}))).await;
    let key = json!({"name": TYPED[6].raw, "scope": "read"});
    succeeds(t, Method::POST, "/api/v1/api-keys", token, Some(key)).await;
    let mut profile = succeeds(t, Method::GET, "/api/v1/store/profile", token, None).await;
    profile["profile"]["greeting"] = json!(TYPED[7].raw);
    profile["profile"]["policies"]["returns"] = json!(POLICY);
    succeeds(
        t,
        Method::PUT,
        "/api/v1/store/profile",
        token,
        Some(profile["profile"].clone()),
    )
    .await;

    // A phone call: 190 s charged, then 125 s adjusts it; its recording cannot be fetched.
    let call_sid = sid(7700);
    t.passthru_get(&[
        ("CallSid", &call_sid),
        ("CallFrom", "09812340077"),
        ("CallType", "completed"),
        ("DialCallDuration", "190"),
    ])
    .await;
    t.drain().await;
    let ended = json!({"CallSid": call_sid, "Status": "completed", "ConversationDuration": 125,
                       "RecordingUrl": t.exotel.url("broken", &call_sid)});
    t.post_json("status", &ended).await;
    t.drain().await;
    let voice_call = t.call_by_sid(&call_sid).await.id;

    // The platform's operator credits the store, with a reason.
    let (operator, operator_token) = t.operator_signed_in().await;
    let credit = json!({"kind": "credit", "amount_paise": 50000,
                        "reason": TYPED[8].raw, "reference": "goodwill-1"});
    let path = format!("/api/v1/operator/tenants/{}/ledger", t.tenant.tenant.id);
    succeeds(t, Method::POST, &path, &operator_token, Some(credit)).await;
    StoreA {
        text_call,
        voice_call,
        emails: vec![owner.email, operator.email],
    }
}

#[tokio::test]
async fn every_page_shows_what_people_typed_as_text() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let a = a_store_full_of_markup(&t).await;
    let (_, token) = t.signed_in(Role::Owner).await;
    let mut seen = vec![false; TYPED.len()];
    let mut visited = pages(a.text_call);
    visited.push(format!("/calls/{}", a.voice_call));
    for page in &visited {
        let (status, _, body) = get(&t, page, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{page}: {body}");
        for (i, typed) in TYPED.iter().enumerate() {
            assert!(
                !body.contains(typed.raw),
                "{page} writes {} as markup",
                typed.raw
            );
            let as_text = body.contains(&escaped(typed.raw));
            seen[i] |= as_text;
            if shows(typed, page, a.text_call) && !page.contains('=') {
                assert!(as_text, "{page} shows {} as text", typed.word);
            }
        }
        assert!(!body.contains(POLICY), "{page} writes the policy as markup");
        assert!(!body.contains("<script>alert"), "{page}");
    }
    for (typed, seen) in TYPED.iter().zip(seen) {
        assert!(seen, "{} is shown somewhere", typed.word);
    }
    let (_, _, store) = get(&t, "/settings/store", Some(&token)).await;
    assert!(store.contains(&escaped(POLICY)), "the policy as text");
    let (_, _, voice) = get(&t, &format!("/calls/{}", a.voice_call), Some(&token)).await;
    assert!(voice.contains("Adjusted"), "the adjustment is on the call");
    // The timeline: both webhooks and each stage's status, the failed upload among them.
    let timeline = &voice[voice.find("id=\"timeline-h\"").expect("a timeline")..];
    for moment in [
        "Exotel <b>passthru</b>",
        "Exotel <b>status callback</b>",
        "Stage <b>charge</b>",
    ] {
        assert!(timeline.contains(moment), "{moment} in {timeline}");
    }
    assert!(
        timeline.contains("Stage <b>recording_upload</b> <span class=\"chip bad\">failed"),
        "{timeline}"
    );
    // The ₹500 credit is more than the call cost: the store is in credit, not owing a minus.
    let (_, charges) = t.api_get("/api/v1/charges").await;
    let balance = charges["balance_paise"].as_i64().unwrap();
    assert!(balance < 0, "{charges}");
    let (_, _, billing) = get(&t, "/billing", Some(&token)).await;
    let in_credit = format!(
        "In credit</span><b id=\"balance\">{}",
        caly_core::billing::money::inr(-balance)
    );
    assert!(billing.contains(&in_credit), "{in_credit} in {billing}");
    let (_, _, runs) = get(&t, "/admin/stage-runs", Some(&token)).await;
    assert!(
        runs.contains(&format!("href=\"/calls/{}\"", a.voice_call)),
        "the failed upload is listed"
    );
    // What a stranger puts in a link's query is echoed as text too.
    for page in [
        "/login?email=%3Cscript%3Ealert(10)%3C%2Fscript%3E",
        "/login?next=%22%3E%3Cscript%3Ealert(11)%3C%2Fscript%3E",
        "/signup?email=%3Cscript%3Ealert(12)%3C%2Fscript%3E",
        "/reset-password?token=%22%3E%3Cscript%3Ealert(13)%3C%2Fscript%3E",
        "/accept-invite?token=%22%3E%3Cscript%3Ealert(14)%3C%2Fscript%3E",
    ] {
        let (status, _, body) = get(&t, page, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(!body.contains("<script>alert"), "{page}: {body}");
    }
    t.stop().await;
}

#[tokio::test]
async fn no_page_of_one_store_shows_anything_of_another() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let a = a_store_full_of_markup(&t).await;
    let other = t.other_tenant().await;
    let stranger = t.add_user_to(other.tenant.id, Role::Owner).await;
    let session = t.login(&stranger.email, PASSWORD).await;
    let token = session["access_token"].as_str().unwrap();
    let a_calls = [a.text_call, a.voice_call];
    for call in a_calls {
        let (status, _, _) = get(&t, &format!("/calls/{call}"), Some(token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another store's call");
    }
    let mut words: Vec<String> = TYPED.iter().map(|typed| typed.word.to_string()).collect();
    words.extend(["zqpolicy", "919876501234", "9812340077", "1002"].map(String::from));
    words.extend(a.emails.iter().cloned());
    words.extend(a_calls.map(|call| format!("/calls/{call}\"")));
    for page in pages(0).into_iter().filter(|p| p != "/calls/0") {
        let (status, _, body) = get(&t, &page, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for word in &words {
            assert!(!body.contains(word.as_str()), "{page} shows {word}");
        }
    }
    // Its numbers are the other store's own: no calls, nothing billed.
    let (_, _, dashboard) = get(&t, "/", Some(token)).await;
    assert!(
        dashboard.contains("id=\"empty-state\""),
        "a fresh store's dashboard"
    );
    let (_, _, billing) = get(&t, "/billing", Some(token)).await;
    assert!(billing.contains("₹0.00"), "nothing owed");
    assert!(!billing.contains("₹500.00"), "not the other store's credit");

    // Nor can its people read or act on the other store's task, or be given it.
    let (_, tasks) = t.api_get("/api/v1/tasks").await;
    assert_eq!(tasks["total"], 1, "{tasks}");
    let task = tasks["items"][0]["id"].as_i64().unwrap();
    let acts = [
        (Method::GET, format!("/api/v1/tasks/{task}"), None),
        (
            Method::POST,
            format!("/api/v1/tasks/{task}/assign"),
            Some(json!({"assignee_id": stranger.id})),
        ),
        (
            Method::POST,
            format!("/api/v1/tasks/{task}/comments"),
            Some(json!({"body": "mine now"})),
        ),
        (
            Method::POST,
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
            Method::POST,
            &format!("/api/v1/tasks/{task}/assign"),
            Some(&owner_token),
            Some(json!({"assignee_id": stranger.id})),
        )
        .await;
    assert_eq!(given.status, 400, "not a member here: {}", given.body);
    let (_, history) = t.api_get(&format!("/api/v1/tasks/{task}")).await;
    let events = history["history"].as_array().unwrap();
    assert_eq!(events.len(), 1, "only its own owner's comment: {history}");
    assert_eq!(history["assignee_id"], Value::Null);
    t.stop().await;
}
