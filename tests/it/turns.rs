//! Text turns through the real API and workers: the agent answers from the local Shopify store,
//! withholds order data until the caller is verified, remembers across turns, records staff
//! tasks; a second turn while one runs gets 409; an agent that does not answer in time leaves
//! the caller with the fallback line and a person.

use crate::support::shopify::fake_shopify;
use crate::support::{Backend, Options, TestApp};
use caly_core::TenantId;
use caly_core::integrations::shopify::local::{ALL_SCOPES, LocalShopify};
use caly_core::tenancy::profile::{StoreProfile, save_profile};
use caly_core::tenancy::shopify::{NewStore, save_store};
use serde_json::{Value, json};
use std::time::Duration;

const TOKEN: &str = "shpat_turns";

const PROFILE: &str = r#"{
  "policies": {"shipping": "Free shipping over ₹999.", "returns": "7-day returns.",
    "refunds": "Refunds in 5–7 working days.", "cod": "COD up to ₹5,000.",
    "offers": "FESTIVE10: 10% off."},
  "support_hours": {"timezone": "Asia/Kolkata",
    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00", "close": "23:59"},
  "escalation_number": "+919800000000", "bot_name": "Meera",
  "greeting": "Namaste! I'm Meera, Kesar's AI assistant. This call is recorded."
}"#;

/// Connects the test tenant to a local store and sets its profile.
pub(crate) async fn connect(app: &TestApp) -> LocalShopify {
    let store = fake_shopify(TOKEN, &ALL_SCOPES).await;
    let tenant = TenantId(app.tenant.tenant.id);
    let now = chrono::Utc::now();
    let new = NewStore {
        tenant,
        shop: "kesar.myshopify.com".into(),
        api_url: Some(store.base.clone()),
        token: TOKEN.to_string().into(),
        scopes: ALL_SCOPES.map(String::from).to_vec(),
        client: None,
    };
    save_store(&app.app, new, now).await.unwrap();
    let profile = StoreProfile::parse(PROFILE, "json").unwrap();
    save_profile(&app.app.db, tenant, &profile, now)
        .await
        .unwrap();
    store
}

pub(crate) async fn open(app: &TestApp) -> i64 {
    let (code, opened) = app
        .api_post_json(
            "/api/v1/calls",
            &json!({"channel": "text", "caller": "+919812345678"}),
        )
        .await;
    assert_eq!(code, 201, "{opened}");
    opened["id"].as_i64().unwrap()
}

pub(crate) async fn say(app: &TestApp, call: i64, text: &str) -> Value {
    let (code, reply) = app
        .api_post_json(
            &format!("/api/v1/calls/{call}/turns"),
            &json!({"text": text}),
        )
        .await;
    assert_eq!(code, 200, "{reply}");
    reply
}

async fn the_agent_answers_text_turns_from_the_store(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    connect(&app).await;
    let call = open(&app).await;

    // A typed number is not caller ID: the order is found, its details withheld.
    let first = say(&app, call, "mera order kahan hai, two oh four one").await;
    assert_eq!(first["intent"], "order_status", "{first}");
    assert_eq!(first["agent"], "order_status");
    assert_eq!(first["verified"], false);
    assert_eq!(first["handoff"], false);
    let reply = first["reply"].as_str().unwrap();
    assert!(reply.contains("name on the order"), "{reply}");
    for secret in ["Blue Dart", "81234567890", "Verma", "in transit"] {
        assert!(
            !first.to_string().contains(secret),
            "leaked {secret}: {first}"
        );
    }
    let lookup = &first["tool_calls"][0];
    assert_eq!(lookup["name"], "find_order");
    assert_eq!(lookup["arguments"]["order_number"], "2041");
    assert_eq!(
        (lookup["result"].clone(), lookup["withheld"].clone()),
        (Value::Null, json!(true))
    );

    // The name on the order verifies; the remembered question is answered.
    let second = say(&app, call, "Rahul Verma").await;
    assert_eq!(second["verified"], true, "{second}");
    assert_eq!(second["agent"], "order_status");
    assert!(
        second["reply"].as_str().unwrap().contains("Blue Dart"),
        "{second}"
    );
    let latency = &second["latency_ms"];
    for step in ["queue", "shopify", "agent", "total"] {
        assert!(latency[step].is_u64(), "{latency}");
    }

    // The conversation is kept with the call.
    let (code, detail) = app.api_get(&format!("/api/v1/calls/{call}")).await;
    assert_eq!(code, 200);
    let turns = detail["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2, "{detail}");
    assert_eq!(turns[0]["text"], "mera order kahan hai, two oh four one");
    assert_eq!(turns[1]["status"], "answered");
    assert_eq!(turns[0]["tool_calls"][0]["withheld"], true);
    assert!(turns[1]["confidence"].is_f64());
    // Text is never billed.
    assert_eq!(app.charge_count().await, 0);

    // Another tenant sees none of it.
    let other = app.other_tenant().await;
    let (code, _) = app
        .api_post_json_as(
            &other.api_key,
            &format!("/api/v1/calls/{call}/turns"),
            &json!({"text": "hi"}),
        )
        .await;
    assert_eq!(code, 404);
    // A phone call's caller ID is never lent to typed turns.
    app.post_json(
        "status",
        &json!({"CallSid": crate::support::sid(91), "Status": "in-progress", "From": "09812345678"}),
    )
    .await;
    app.drain().await;
    let phone = app.call_by_sid(&crate::support::sid(91)).await;
    let (code, refused) = app
        .api_post_json(
            &format!("/api/v1/calls/{}/turns", phone.id),
            &json!({"text": "track 2041"}),
        )
        .await;
    assert_eq!(
        (code, refused["error"]["code"].clone()),
        (400, json!("invalid_turn")),
        "{refused}"
    );
    app.stop().await;
}

async fn requests_become_tasks_staff_close(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    connect(&app).await;
    let call = open(&app).await;
    say(&app, call, "order cancel karna hai, order 1002").await;
    let cancel = say(&app, call, "pin 411001").await;
    assert!(
        cancel["reply"]
            .as_str()
            .unwrap()
            .contains("request to cancel order #1002"),
        "{cancel}"
    );
    let complaint = say(&app, call, "the kurta arrived damaged").await;
    assert_eq!(complaint["agent"], "complaint");
    assert_eq!(
        complaint["handoff"], true,
        "in support hours a person takes over"
    );

    let (code, open_tasks) = app.api_get("/api/v1/tasks?status=open").await;
    assert_eq!(code, 200);
    assert_eq!(open_tasks["total"], 2, "{open_tasks}");
    let (_, cancellations) = app.api_get("/api/v1/tasks?kind=cancellation").await;
    assert_eq!(cancellations["total"], 1);
    let task = &cancellations["items"][0];
    assert_eq!(task["order_name"], "#1002");
    assert_eq!(task["caller"], "+919812345678");
    assert_eq!(task["call_id"], call);
    let id = task["id"].as_i64().unwrap();

    let close = |note: Value| {
        let path = format!("/api/v1/tasks/{id}/close");
        let app = &app;
        async move { app.api_post_json(&path, &note).await }
    };
    let (code, refused) = close(json!({"note": "  "})).await;
    assert_eq!(
        (code, refused["error"]["code"].clone()),
        (400, json!("invalid_task"))
    );
    let (code, closed) = close(json!({"note": "Called back; cancelled in Shopify."})).await;
    assert_eq!(code, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["note"], "Called back; cancelled in Shopify.");
    let (_, still_open) = app.api_get("/api/v1/tasks?status=open").await;
    assert_eq!(still_open["total"], 1);
    let (code, bad) = app.api_get("/api/v1/tasks?kind=refund").await;
    assert_eq!(
        (code, bad["error"]["code"].clone()),
        (400, json!("invalid_task"))
    );
    let other = app.other_tenant().await;
    let (code, _) = app
        .api_post_json_as(
            &other.api_key,
            &format!("/api/v1/tasks/{id}/close"),
            &json!({"note": "x"}),
        )
        .await;
    assert_eq!(code, 404);
    app.stop().await;
}

async fn a_second_turn_while_one_runs_is_refused_and_a_slow_agent_hands_off(backend: Backend) {
    let options = Options {
        workers: false,
        turn_timeout: Some(Duration::from_millis(300)),
        ..Options::default()
    };
    let mut app = TestApp::spawn_opts(backend, options).await;
    connect(&app).await;
    let call = open(&app).await;
    // No worker answers: after its wait the API says the fallback line and offers a person.
    let slow = say(&app, call, "where is my order 1004").await;
    assert_eq!(slow["status"], "timed_out", "{slow}");
    assert_eq!(slow["handoff"], true);
    assert!(
        slow["reply"].as_str().unwrap().contains("connect you"),
        "{slow}"
    );

    // A turn still being answered blocks the next one.
    let tenant = TenantId(app.tenant.tenant.id);
    let pending = caly_core::calls::turns::start_turn(
        &app.app.db,
        tenant,
        caly_core::CallId(call),
        "hello",
        Duration::from_secs(60),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let (code, busy) = app
        .api_post_json(
            &format!("/api/v1/calls/{call}/turns"),
            &json!({"text": "hello again"}),
        )
        .await;
    assert_eq!(
        (code, busy["error"]["code"].clone()),
        (409, json!("turn_in_progress")),
        "{busy}"
    );
    let too_long = "x".repeat(2001);
    for bad in [
        json!({"text": " "}),
        json!({"text": "hi\u{0}"}),
        json!({"text": too_long}),
    ] {
        let (code, refused) = app
            .api_post_json(&format!("/api/v1/calls/{call}/turns"), &bad)
            .await;
        assert_eq!(
            (code, refused["error"]["code"].clone()),
            (400, json!("invalid_turn"))
        );
    }

    // The late answers arrive: the timed-out turn keeps its fallback, the pending one is answered.
    app.start_workers();
    app.drain().await;
    let (_, detail) = app.api_get(&format!("/api/v1/calls/{call}")).await;
    let turns = detail["turns"].as_array().unwrap();
    assert_eq!(turns[0]["status"], "timed_out", "{detail}");
    assert_eq!(turns[1]["id"], pending.0.id);
    assert_eq!(turns[1]["status"], "answered", "{detail}");
    app.stop().await;
}

async fn a_revoked_token_disconnects_the_store_and_hands_off(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let store = connect(&app).await;
    let call = open(&app).await;
    store.revoke();
    let reply = say(&app, call, "track order 2041").await;
    assert_eq!(reply["handoff"], true, "{reply}");
    let stored = caly_core::tenancy::shopify::store_of(&app.app.db, TenantId(app.tenant.tenant.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.to_string(), "disconnected");
    // The owner sees why.
    let (code, seen) = app.api_get("/api/v1/store").await;
    assert_eq!(code, 200);
    assert_eq!(
        (seen["connected"].clone(), seen["status"].clone()),
        (json!(false), json!("disconnected"))
    );
    assert!(
        seen["last_error"].as_str().unwrap().contains("uninstalled"),
        "{seen}"
    );
    assert!(
        !seen.to_string().contains(TOKEN),
        "the token is never shown"
    );
    assert!(stored.last_error.unwrap().contains("uninstalled"));
    app.stop().await;
}

async fn the_callers_orders_are_prefetched_when_a_conversation_starts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let store = connect(&app).await;
    let call = open(&app).await;
    app.drain().await;
    let (_, detail) = app.api_get(&format!("/api/v1/calls/{call}")).await;
    let prefetch = detail["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "prefetch_caller")
        .cloned()
        .unwrap_or_else(|| panic!("no prefetch run: {detail}"));
    assert_eq!(prefetch["status"], "succeeded", "{prefetch}");
    // A typed number is not caller ID: the first lookup asks Shopify (answering faster from the
    // prefetch would tell a stranger whose order it is) and is withheld.
    let before = store.hits();
    let reply = say(&app, call, "where is my order 2041").await;
    assert!(store.hits() > before);
    assert_eq!(reply["tool_calls"][0]["withheld"], true);
    say(&app, call, "Rahul Verma").await;
    // Once the order is proven, follow-ups about it are answered from the prefetch.
    let before = store.hits();
    let reply = say(&app, call, "and the tracking number?").await;
    assert!(
        reply["reply"].as_str().unwrap().contains("81234567890"),
        "{reply}"
    );
    assert_eq!(store.hits(), before, "answered from the prefetched orders");
    // A phone call to a store with Shopify connected is prefetched too.
    app.passthru_get(&[
        ("CallSid", &crate::support::sid(92)),
        ("CallFrom", "09876543210"),
        ("Direction", "incoming"),
        ("CallType", "call-attempt"),
    ])
    .await;
    app.drain().await;
    let phone = app.call_by_sid(&crate::support::sid(92)).await;
    let (_, detail) = app.api_get(&format!("/api/v1/calls/{}", phone.id)).await;
    assert!(
        detail["stages"].to_string().contains("prefetch_caller"),
        "{detail}"
    );
    app.stop().await;
}

both_backends!(
    the_callers_orders_are_prefetched_when_a_conversation_starts,
    the_agent_answers_text_turns_from_the_store,
    requests_become_tasks_staff_close,
    a_second_turn_while_one_runs_is_refused_and_a_slow_agent_hands_off,
    a_revoked_token_disconnects_the_store_and_hands_off,
);
