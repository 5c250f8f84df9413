//! Money as a ledger: one charge per call, one adjustment per better duration, never an edit,
//! and a balance that is always the sum of the entries. A better duration cuts the settle
//! window short; a replayed charge adds nothing; the stranded-charge sweep never loops past
//! the attempt limit.

use crate::support::{Backend, Options, TestApp, sid};
use caly_core::billing::balance_check;
use caly_core::{RunStatus, TenantId};
use caly_entities::{call, stage_run};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::time::Duration;

async fn assert_balance_is_the_ledger_sum(app: &TestApp, expected: i64) {
    let check = balance_check(&app.app.db, TenantId(app.tenant.tenant.id))
        .await
        .unwrap();
    assert!(check.holds(), "{check:?}");
    assert_eq!(check.balance_paise, expected);
}

async fn a_better_duration_after_the_charge_is_one_adjustment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(8100);
    // The last Passthru of the flow: only the dialled leg's 190 s (4 started minutes).
    app.passthru_get(&[
        ("CallSid", &s),
        ("CallType", "completed"),
        ("DialCallDuration", "190"),
    ])
    .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(12000))
    );

    // Minutes later Exotel's StatusCallback brings the conversation's 125 s (3 minutes).
    let status = json!({"CallSid": s, "Status": "completed", "ConversationDuration": 125});
    app.post_json("status", &status).await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(9000))
    );
    let entries = app.ledger().await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        (entries[0].kind.as_str(), entries[0].amount_paise),
        ("charge", 12000)
    );
    assert_eq!(
        (entries[1].kind.as_str(), entries[1].amount_paise),
        ("adjustment", -3000)
    );
    assert_eq!(
        entries[0].duration_source.as_deref(),
        Some("dial_call_duration")
    );
    assert_eq!(
        entries[1].duration_source.as_deref(),
        Some("conversation_duration")
    );
    assert!(
        entries[1].reason.contains("125s") && entries[1].reason.contains("190s"),
        "{}",
        entries[1].reason
    );
    assert_balance_is_the_ledger_sum(&app, 9000).await;

    // The call and the charges list show the charge and its adjustment.
    let (_, detail) = app.api_get(&format!("/api/v1/calls/{}", c.id)).await;
    assert_eq!(detail["charge"]["amount_paise"], 12000);
    assert_eq!(detail["adjustments"][0]["amount_paise"], -3000);
    let (_, charges) = app.api_get("/api/v1/charges").await;
    assert_eq!(charges["balance_paise"], 9000);
    assert_eq!(charges["charges"]["total"], 2);

    // A replayed charge and a redelivered callback add nothing.
    let (code, _) = app
        .api_post(&format!("/api/v1/calls/{}/stages/charge/replay", c.id))
        .await;
    assert_eq!(code, 200);
    app.post_json("status", &status).await;
    app.drain().await;
    assert_eq!(app.ledger().await.len(), 2);
    assert_balance_is_the_ledger_sum(&app, 9000).await;
    app.stop().await;
}

async fn the_settle_window_is_cut_short_when_the_best_duration_arrives(backend: Backend) {
    let app = TestApp::spawn_opts(
        backend,
        Options {
            // Far longer than any test: only the cut-short can charge this call.
            charge_settle: Duration::from_secs(3600),
            ..Options::default()
        },
    )
    .await;
    let s = sid(8200);
    app.passthru_get(&[
        ("CallSid", &s),
        ("CallType", "completed"),
        ("DialCallDuration", "10"),
    ])
    .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(c.billing_status, "pending", "waiting out the settle window");
    app.post_json(
        "status",
        &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 125}),
    )
    .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(9000))
    );
    let entries = app.ledger().await;
    assert_eq!(
        entries.len(),
        1,
        "one charge, on the best duration: {entries:?}"
    );
    assert_eq!(
        entries[0].duration_source.as_deref(),
        Some("conversation_duration")
    );
    app.stop().await;
}

async fn the_stranded_charge_sweep_respects_the_attempt_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(8300);
    app.post_json("status", &json!({"CallSid": s, "Status": "completed"}))
        .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(c.billing_status, "awaiting_duration");
    // The duration landed, but the charge run had failed for good meanwhile.
    app.store_duration(c.id, 61, "conversation_duration").await;
    stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(RunStatus::Failed))
        .col_expr(stage_run::Column::Attempts, Expr::value(3))
        .col_expr(stage_run::Column::LastError, Expr::value("database gone"))
        .filter(stage_run::Column::Stage.eq("charge"))
        .exec(&app.app.db)
        .await
        .unwrap();
    for _ in 0..3 {
        app.drain().await;
    }
    let run = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq("charge"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (run.status.as_str(), run.attempts),
        ("failed", 3),
        "not re-armed"
    );
    assert_eq!(app.charge_count().await, 0);

    // Someone retries it on purpose: then it charges.
    let (code, body) = app
        .api_post_json("/api/v1/stage-runs/retry", &json!({"stage": "charge"}))
        .await;
    assert_eq!((code, body["retried"].as_i64()), (200, Some(1)), "{body}");
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(6000))
    );
    app.stop().await;
}

async fn a_same_source_re_report_settles_without_an_adjustment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(8500);
    app.post_json(
        "status",
        &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 125}),
    )
    .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    // A charge raced a re-report from the same source: the call was left adjustment_due.
    call::Entity::update_many()
        .col_expr(call::Column::DurationSecs, Expr::value(126))
        .col_expr(call::Column::BillingStatus, Expr::value("adjustment_due"))
        .filter(call::Column::Id.eq(c.id))
        .exec(&app.app.db)
        .await
        .unwrap();
    // The sweep re-arms the charge once; it finds nothing better and settles the call.
    app.drain().await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(9000))
    );
    assert_eq!(
        app.ledger().await.len(),
        1,
        "no adjustment for the same source"
    );
    assert_balance_is_the_ledger_sum(&app, 9000).await;
    app.stop().await;
}

async fn a_call_is_on_the_day_it_happened(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 23:50 IST on 20 November, processed now.
    app.post_json(
        "status",
        &json!({"CallSid": sid(8400), "Status": "completed", "ConversationDuration": 30,
            "StartTime": "2026-11-20 23:50:00"}),
    )
    .await;
    // No StartTime: the day the webhook arrived.
    app.post_json(
        "status",
        &json!({"CallSid": sid(8401), "Status": "completed", "ConversationDuration": 30}),
    )
    .await;
    app.drain().await;
    let (_, on_the_20th) = app
        .api_get("/api/v1/calls?from=2026-11-20&to=2026-11-20")
        .await;
    assert_eq!(on_the_20th["total"], 1, "{on_the_20th}");
    assert_eq!(on_the_20th["items"][0]["call_sid"], sid(8400));
    let today = chrono::Utc::now()
        .with_timezone(&caly_core::platform::time::ist())
        .date_naive()
        .to_string();
    let (_, on_arrival_day) = app
        .api_get(&format!("/api/v1/calls?from={today}&to={today}"))
        .await;
    assert_eq!(on_arrival_day["total"], 1, "{on_arrival_day}");
    assert_eq!(on_arrival_day["items"][0]["call_sid"], sid(8401));
    app.stop().await;
}

async fn the_operator_credits_a_store_once_per_reference(backend: Backend) {
    use reqwest::Method;
    let app = TestApp::spawn(backend).await;
    let tenant = app.tenant.tenant.id;
    let path = format!("/api/v1/operator/tenants/{tenant}/ledger");
    let credit = json!({"kind": "credit", "amount_paise": 50000,
                        "reason": "Goodwill for the outage on 3 Dec", "reference": "TICKET-4821"});
    // Neither the store's owner nor its API key may credit it.
    let token = app
        .only_the_operator_may(Method::POST, &path, &credit)
        .await;
    let token = token.as_str();
    let post = |body: serde_json::Value, to: String| {
        let app = &app;
        async move {
            app.request(Method::POST, &to, Some(token), Some(body))
                .await
        }
    };
    let first = post(credit.clone(), path.clone()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["created"], true);
    assert_eq!(first.body["entry"]["kind"], "credit");
    assert_eq!(first.body["entry"]["amount_paise"], -50000);
    assert_eq!(first.body["balance_paise"], -50000);
    // A retried request is the same entry, and the balance moves once.
    let again = post(credit.clone(), path.clone()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["entry"]["id"], first.body["entry"]["id"]);
    assert_eq!(again.body["balance_paise"], -50000);
    // The same reference for another amount is refused.
    let mut other = credit.clone();
    other["amount_paise"] = json!(70000);
    let reused = post(other, path.clone()).await;
    assert_eq!(reused.status, 409, "{}", reused.body);
    assert_eq!(reused.body["error"]["code"], "conflict");
    // So is the same reference for another kind: a mistaken credit is not undone by a payment.
    let mut payment = json!({"kind": "payment", "amount_paise": 120000,
                             "reason": "NEFT received", "reference": "TICKET-4821"});
    let reused = post(payment.clone(), path.clone()).await;
    assert_eq!(reused.status, 409, "{}", reused.body);
    // A payment received, under its own reference; two identical requests at once move the
    // balance once.
    payment["reference"] = json!("NEFT-77120");
    let (paid, twin) = tokio::join!(
        post(payment.clone(), path.clone()),
        post(payment, path.clone())
    );
    let mut statuses = [paid.status, twin.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{} {}", paid.body, twin.body);
    assert_eq!(paid.body["entry"]["id"], twin.body["entry"]["id"]);
    let paid = if paid.status == 201 { paid } else { twin };
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["balance_paise"], -170000);
    // Bad input: a 422 naming the field, or a 404 for no such tenant; nothing moves.
    for (body, field) in [
        (
            json!({"kind": "gift", "amount_paise": 1, "reason": "x", "reference": "a"}),
            "kind",
        ),
        (
            json!({"kind": "credit", "amount_paise": 0, "reason": "x", "reference": "b"}),
            "amount_paise",
        ),
        (
            json!({"kind": "credit", "amount_paise": -5, "reason": "x", "reference": "c"}),
            "amount_paise",
        ),
        (
            json!({"kind": "credit", "amount_paise": 5, "reason": "  ", "reference": "d"}),
            "reason",
        ),
        (
            json!({"kind": "credit", "amount_paise": 5, "reason": "x", "reference": "a b"}),
            "reference",
        ),
    ] {
        let refused = post(body, path.clone()).await;
        assert_eq!(refused.status, 422, "{field}: {}", refused.body);
        assert!(
            refused.body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{}",
            refused.body
        );
    }
    let nobody = post(
        credit.clone(),
        "/api/v1/operator/tenants/999999/ledger".into(),
    )
    .await;
    assert_eq!(nobody.status, 404, "{}", nobody.body);
    let missing = post(json!({"kind": "credit"}), path.clone()).await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert_eq!(
        missing.body["error"]["fields"]["amount_paise"],
        "is required"
    );
    assert_balance_is_the_ledger_sum(&app, -170000).await;
    // The store sees both on its ledger and who gave them in its audit log.
    let (_, charges) = app.api_get("/api/v1/charges").await;
    assert_eq!(charges["charges"]["total"], 2, "{charges}");
    let (_, audit) = app.api_get("/api/v1/audit?action=billing.").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["billing.payment_recorded", "billing.credited"],
        "{audit}"
    );
    app.stop().await;
}

both_backends!(
    the_operator_credits_a_store_once_per_reference,
    a_better_duration_after_the_charge_is_one_adjustment,
    the_settle_window_is_cut_short_when_the_best_duration_arrives,
    the_stranded_charge_sweep_respects_the_attempt_limit,
    a_call_is_on_the_day_it_happened,
    a_same_source_re_report_settles_without_an_adjustment,
);
