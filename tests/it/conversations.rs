//! Text conversations: opened through the API, listed with a `channel`, never billed, and
//! behind the same tenant wall as calls.

use crate::support::{Backend, TestApp, sid};
use serde_json::json;

async fn a_text_conversation_is_opened_listed_and_never_billed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (code, opened) = app
        .api_post_json(
            "/api/v1/calls",
            &json!({"channel": "text", "caller": "098765 43210"}),
        )
        .await;
    assert_eq!(code, 201, "{opened}");
    assert_eq!(opened["channel"], "text");
    assert_eq!(opened["caller"], "+919876543210");
    let id = opened["id"].as_i64().unwrap();

    // A phone call beside it.
    app.post_json(
        "status",
        &json!({"CallSid": sid(77), "Status": "completed", "ConversationDuration": 30}),
    )
    .await;
    app.drain().await;
    let (_, text) = app.api_get("/api/v1/calls?channel=text").await;
    assert_eq!(text["total"], 1, "{text}");
    assert_eq!(text["items"][0]["id"], id);
    let (_, phone) = app.api_get("/api/v1/calls?channel=phone").await;
    assert_eq!(phone["total"], 1);
    assert_eq!(phone["items"][0]["channel"], "phone");

    let (_, detail) = app.api_get(&format!("/api/v1/calls/{id}")).await;
    assert_eq!(detail["call"]["channel"], "text");
    assert_eq!(detail["call"]["billing_status"], "not_final");
    assert_eq!(detail["stages"].as_array().unwrap().len(), 0);
    assert!(detail["charge"].is_null());
    assert_eq!(
        app.charge_count().await,
        1,
        "only the phone call is charged"
    );

    let other = app.other_tenant().await;
    let (code, _) = app
        .api_get_as(&other.api_key, &format!("/api/v1/calls/{id}"))
        .await;
    assert_eq!(code, 404);

    for (body, status, code) in [
        (
            json!({"channel": "text", "caller": "call me"}),
            400,
            "invalid_caller",
        ),
        (
            json!({"channel": "phone", "caller": "+919876543210"}),
            400,
            "invalid_channel",
        ),
        (json!({"channel": "text"}), 400, "invalid_json"),
    ] {
        let (got, answer) = app.api_post_json("/api/v1/calls", &body).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let (code, answer) = app.api_get("/api/v1/calls?channel=fax").await;
    assert_eq!(
        (code, answer["error"]["code"].as_str()),
        (400, Some("invalid_channel"))
    );
    app.stop().await;
}

both_backends!(a_text_conversation_is_opened_listed_and_never_billed);
