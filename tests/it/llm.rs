//! The LLM brain through the real API and workers, against a scripted OpenAI-compatible
//! server: tool calling, privacy (the model never receives withheld order data), memory,
//! a person on request, the fallback on a failing or slow provider, and a tenant's own model.

use crate::support::openai::{ScriptedModel, Step};
use crate::support::process::run_caly;
use crate::support::{Backend, Options, TestApp};
use crate::turns::{connect, open, say};
use caly_core::agent::brain::FALLBACK_LINE;
use caly_core::integrations::llm::LlmConfig;
use serde_json::json;
use std::time::Duration;

fn config(model: &ScriptedModel, key: &str) -> LlmConfig {
    LlmConfig {
        base_url: model.base.clone(),
        api_key: key.to_string().into(),
        model: "support-bot".into(),
    }
}

async fn with_model(model: &ScriptedModel, key: &str) -> TestApp {
    let options = Options {
        llm: Some(config(model, key)),
        agent_timeout: Some(Duration::from_millis(800)),
        ..Options::default()
    };
    TestApp::spawn_opts(Backend::Embedded, options).await
}

const SECRETS: &[&str] = &[
    "Blue Dart",
    "81234567890",
    "Bengaluru",
    "1798",
    "IN_TRANSIT",
];

#[tokio::test]
async fn the_model_calls_tools_and_never_receives_withheld_order_data() {
    let model = ScriptedModel::start("sk-local-test").await;
    let app = with_model(&model, "sk-local-test").await;
    connect(&app).await;
    let call = open(&app).await;

    model.script([
        Step::Call("find_order", json!({"order_number": "2041"})),
        Step::Say("I found order 2041. To protect your privacy, what is the name on the order?"),
    ]);
    let first = say(&app, call, "where is my order 2041").await;
    assert_eq!(
        first["reply"],
        "I found order 2041. To protect your privacy, what is the name on the order?"
    );
    assert_eq!(first["intent"], "order_status");
    assert_eq!(first["verified"], false);
    assert_eq!(first["tool_calls"][0]["name"], "find_order");
    assert_eq!(first["tool_calls"][0]["withheld"], true);
    assert!(first["tool_calls"][0]["result"].is_null());
    let sent = model.requests();
    assert_eq!(sent.len(), 2);
    let tools: Vec<&str> = sent[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    for tool in [
        "find_order",
        "verify_caller",
        "search_products",
        "create_task",
        "transfer_to_human",
    ] {
        assert!(tools.contains(&tool), "{tools:?}");
    }
    let tool_message = &sent[1]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(tool_message["role"], "tool");
    assert!(
        tool_message["content"]
            .as_str()
            .unwrap()
            .contains("withheld")
    );
    for secret in SECRETS {
        assert!(
            !sent[1].to_string().contains(secret),
            "the model was sent {secret}"
        );
    }

    model.script([
        Step::Call(
            "verify_caller",
            json!({"order_number": "2041", "name": "Rahul Verma"}),
        ),
        Step::Call("find_order", json!({"order_number": "2041"})),
        Step::Say("Thank you, Rahul. Order 2041 is in transit with Blue Dart."),
    ]);
    let second = say(&app, call, "Rahul Verma").await;
    assert_eq!(second["verified"], true, "{second}");
    assert_eq!(second["tool_calls"][0]["result"]["verified"], true);
    assert!(
        second["tool_calls"][1]["result"]
            .to_string()
            .contains("81234567890")
    );
    let sent = model.requests();
    assert_eq!(sent.len(), 5);
    // The conversation so far travels with the next turn.
    assert!(
        sent[2]
            .to_string()
            .contains("what is the name on the order?")
    );
    assert!(
        sent[4].to_string().contains("81234567890"),
        "verified: the model sees the order"
    );

    model.script([
        Step::Call("transfer_to_human", json!({"reason": "wants a person"})),
        Step::Say("Connecting you to our team now."),
    ]);
    let third = say(&app, call, "please let me talk to a human").await;
    assert_eq!(
        (third["handoff"].clone(), third["agent"].clone()),
        (json!(true), json!("handoff"))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failing_or_slow_model_says_the_fallback_and_offers_a_person() {
    let model = ScriptedModel::start("sk-local-test").await;
    let app = with_model(&model, "sk-local-test").await;
    connect(&app).await;
    let call = open(&app).await;
    model.script([Step::Fail(500)]);
    let failed = say(&app, call, "where is my order 2041").await;
    assert_eq!(
        (failed["reply"].as_str(), failed["handoff"].as_bool()),
        (Some(FALLBACK_LINE), Some(true)),
        "{failed}"
    );
    assert!(
        failed["error"].as_str().unwrap().contains("model"),
        "{failed}"
    );
    assert!(
        !failed["error"]
            .as_str()
            .unwrap()
            .contains("server had an error"),
        "the provider's own text stays in the logs: {failed}"
    );
    model.script([Step::Slow(
        Duration::from_secs(3),
        Box::new(Step::Say("too late")),
    )]);
    let slow = say(&app, call, "hello?").await;
    assert_eq!(
        (slow["reply"].as_str(), slow["handoff"].as_bool()),
        (Some(FALLBACK_LINE), Some(true)),
        "{slow}"
    );
    assert!(
        slow["error"].as_str().unwrap().contains("did not answer"),
        "{slow}"
    );
    // A model refusing the key is a failure too, never a hang.
    let wrong = ScriptedModel::start("sk-other").await;
    let app2 = with_model(&wrong, "sk-local-test").await;
    let call2 = open(&app2).await;
    let refused = say(&app2, call2, "hello").await;
    assert_eq!(refused["handoff"], true);
    app.stop().await;
    app2.stop().await;
}

#[tokio::test]
async fn a_tenant_can_have_its_own_model() {
    let platform = ScriptedModel::start("sk-platform").await;
    let own = ScriptedModel::start("sk-own").await;
    let app = with_model(&platform, "sk-platform").await;
    let id = app.tenant.tenant.id.to_string();
    let call = open(&app).await;
    let (ok, out) = run_caly(
        &app,
        &[
            "tenant",
            "set-llm",
            "--tenant",
            &id,
            "--base-url",
            &own.base,
            "--api-key",
            "sk-own",
            "--model",
            "own-bot",
        ],
    )
    .await;
    assert!(
        ok && out.contains("key stored encrypted") && !out.contains("sk-own"),
        "{out}"
    );
    own.script([Step::Say("Hello from the store's own model.")]);
    let reply = say(&app, call, "hello").await;
    assert_eq!(reply["reply"], "Hello from the store's own model.");
    assert_eq!(own.requests()[0]["model"], "own-bot");
    assert!(platform.requests().is_empty());
    let (ok, out) = run_caly(&app, &["tenant", "set-llm", "--tenant", &id, "--clear"]).await;
    assert!(ok && out.contains("own model removed"), "{out}");
    platform.script([Step::Say("Hello from the platform's model.")]);
    let reply = say(&app, call, "hello again").await;
    assert_eq!(reply["reply"], "Hello from the platform's model.");
    let (ok, out) = run_caly(
        &app,
        &[
            "tenant",
            "set-llm",
            "--tenant",
            &id,
            "--base-url",
            "http://10.0.0.1/v1",
            "--api-key",
            "k",
            "--model",
            "m",
        ],
    )
    .await;
    assert!(!ok && out.contains("refused"), "{out}");
    app.stop().await;
}
