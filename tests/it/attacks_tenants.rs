//! Issue 29's attacks by a tenant on what it shares with others: a caller's secrets leaking
//! through exports and tasks, the server fetching what a tenant points it at, and the limits a
//! self-service tenant could otherwise abuse (typed turns, invitations, the Voicebot socket).

use crate::support::voicebot::FakeVoicebot;
use crate::support::{Backend, Options, TestApp, loopback_egress};
use caly_core::platform::security::SecuritySettings;
use caly_core::tenancy::accounts::Role;
use caly_entities::{conversation, stage_run};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const CARD: &str = "4111 1111 1111 1111";
const OTP: &str = "482913";

async fn raw_get(t: &TestApp, path: &str) -> String {
    t.client
        .get(format!("{}{path}", t.base))
        .bearer_auth(&t.tenant.api_key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn open_conversation(t: &TestApp) -> i64 {
    let (code, opened) = t
        .api_post_json(
            "/api/v1/calls",
            &json!({"channel": "text", "caller": "098765 43210"}),
        )
        .await;
    assert_eq!(code, 201, "{opened}");
    opened["id"].as_i64().unwrap()
}

async fn say(t: &TestApp, call: i64, text: &str) -> (u16, Value) {
    t.api_post_json(
        &format!("/api/v1/calls/{call}/turns"),
        &json!({"text": text}),
    )
    .await
}

#[tokio::test]
async fn a_callers_card_and_code_are_redacted_wherever_they_are_stored() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let call = open_conversation(&t).await;
    let words = format!(
        "the saree arrived damaged and my card {CARD} was charged twice, the OTP was {OTP}"
    );
    let (code, answer) = say(&t, call, &words).await;
    assert_eq!(code, 200, "{answer}");
    let shown = |text: &str| !text.contains("4111") && !text.contains(OTP);
    let (_, detail) = t.api_get(&format!("/api/v1/calls/{call}")).await;
    let said = detail["turns"][0]["text"].as_str().unwrap().to_string();
    assert!(shown(&said) && said.contains("[card]"), "{said}");
    for format in ["json", "csv"] {
        let export = raw_get(&t, &format!("/api/v1/exports/turns?format={format}")).await;
        assert!(
            shown(&export),
            "the {format} export carries the raw words: {export}"
        );
        assert!(export.contains("[card]"), "{export}");
    }
    let (_, tasks) = t.api_get("/api/v1/tasks").await;
    assert!(
        tasks["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty()),
        "the complaint left a task: {tasks}"
    );
    assert!(shown(&tasks.to_string()), "{tasks}");
    let memory = conversation::Entity::find_by_id(call)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .memory;
    assert!(shown(&memory), "{memory}");
    let stored = caly_entities::turn::Entity::find()
        .filter(caly_entities::turn::Column::CallId.eq(call))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(shown(&stored.input), "{}", stored.input);
    t.stop().await;
}

/// A loopback server that counts the connections it gets.
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (format!("http://{address}"), seen)
}

#[tokio::test]
async fn a_tenant_cannot_point_caly_at_its_own_network() {
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            // As deployed: no tenant-supplied Shopify address, loopback not allowed.
            security: Some(SecuritySettings::default()),
            egress: Some(caly_core::platform::egress::EgressSettings {
                allow_loopback: false,
                ..loopback_egress()
            }),
            ..Options::default()
        },
    )
    .await;
    let (inside, seen) = counting_server().await;
    let (_, admin) = t.signed_in(Role::Admin).await;
    let pointed = t
        .request(
            Method::PUT,
            "/api/v1/integrations/shopify",
            Some(&admin),
            Some(
                json!({"shop": "victim.myshopify.com", "token": "shpat_stolen",
                "api_url": format!("{inside}/x?")}),
            ),
        )
        .await;
    assert_eq!(pointed.status, 422, "{}", pointed.body);
    assert!(pointed.body["error"]["fields"]["api_url"].is_string());
    assert_eq!(seen.load(Ordering::SeqCst), 0, "Caly never connected");

    // A webhook's recording address on this machine (allowed by host, even over https on
    // 443) is refused by its address (the IPv4-mapped IPv6 form is refused too: it is on no
    // allow-list, and the resolver and the address check see through it; unit-tested).
    for (n, (url, why)) in [
        ("https://127.0.0.1/rec.mp3", "private, loopback"),
        ("https://[::ffff:127.0.0.1]/rec.mp3", "refused"),
    ]
    .into_iter()
    .enumerate()
    {
        let sid = crate::support::sid(900 + n as u32);
        let answer = t
            .post_json(
                "status",
                &json!({"CallSid": sid, "Status": "completed", "ConversationDuration": 30,
                    "RecordingUrl": url}),
            )
            .await;
        assert_eq!(answer.status(), 200);
        t.drain().await;
        let call = t.call_by_sid(&sid).await;
        let upload = stage_run::Entity::find()
            .filter(stage_run::Column::CallId.eq(call.id))
            .filter(stage_run::Column::Stage.eq("recording_upload"))
            .one(&t.app.db)
            .await
            .unwrap()
            .expect("an upload run");
        let error = upload.last_error.unwrap_or_default();
        assert!(error.contains(why), "{url}: {:?} {error}", upload.status);
    }
    t.stop().await;
}

#[tokio::test]
async fn typed_turns_and_invitations_are_limited_per_tenant() {
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            security: Some(SecuritySettings {
                text_turns_per_min: 6,
                invitations_per_day: 2,
                ..SecuritySettings::default()
            }),
            ..Options::default()
        },
    )
    .await;
    let calls = [
        open_conversation(&t).await,
        open_conversation(&t).await,
        open_conversation(&t).await,
    ];
    let mut statuses = Vec::new();
    for (call, turns) in [(calls[0], 3), (calls[1], 2), (calls[2], 2)] {
        for _ in 0..turns {
            let (code, answer) = say(&t, call, "what are your store hours").await;
            if code == 429 {
                assert_eq!(answer["error"]["code"], "rate_limited");
            }
            statuses.push(code);
        }
    }
    // A conversation may send a third of the tenant's 6 a minute; the tenant 6 in all.
    assert_eq!(statuses, [200, 200, 429, 200, 200, 200, 429]);

    let (_, admin) = t.signed_in(Role::Admin).await;
    let mut invited = Vec::new();
    for n in 0..3 {
        let answer = t
            .request(
                Method::POST,
                "/api/v1/invitations",
                Some(&admin),
                Some(json!({"email": format!("invitee{n}@store.example"), "role": "agent"})),
            )
            .await;
        invited.push(answer.status);
    }
    assert_eq!(invited, [201, 201, 429]);
    t.stop().await;
}

fn socket_url(t: &TestApp) -> String {
    format!(
        "{}/voice/exotel/{}/{}",
        t.base.replacen("http", "ws", 1),
        t.tenant.tenant.id,
        t.tenant.webhook_secret
    )
}

#[tokio::test]
async fn the_voicebot_socket_refuses_huge_messages_and_floods() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let mut huge = FakeVoicebot::connect(&socket_url(&t), None).await;
    let padding = "a".repeat(70 * 1024);
    huge.send_text(json!({"event": "connected", "pad": padding}).to_string())
        .await;
    assert!(
        huge.closed_within(Duration::from_secs(10)).await,
        "a 70 KiB message closes the socket"
    );
    let mut flood = FakeVoicebot::connect(&socket_url(&t), None).await;
    for _ in 0..400 {
        if !flood
            .send_text(json!({"event": "connected"}).to_string())
            .await
        {
            break;
        }
    }
    assert!(
        flood.closed_within(Duration::from_secs(10)).await,
        "400 messages at once close the socket"
    );
    t.stop().await;
}
