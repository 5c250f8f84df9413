//! The dashboard in headless Chromium: a seeded store's owner picks a range, sees the KPIs the
//! API counts, clicks an intent and a heatmap cell through to the filtered call list, sees an
//! honest empty state for a quiet range, and opens the analytics page. Screenshots land with the
//! other browser tests' (`target/tmp/screenshots/`).

use crate::browser::sign_in;
use crate::support::browser::Tab;
use crate::support::{Backend, TestApp};
use caly_core::TenantId;
use caly_core::analytics::seed::{SeedPlan, seed};
use caly_core::platform::time::ist;
use caly_core::tenancy::accounts::Role;
use chrono::{Duration, Utc};
use serde_json::json;

#[tokio::test]
async fn an_owner_picks_a_range_and_clicks_a_breakdown_through_to_its_calls() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let plan = SeedPlan {
        tenant: TenantId(t.tenant.tenant.id),
        calls: 600,
        days: 60,
        rate_paise_per_min: 3000,
        handoff_numbers: vec!["+919800000101".into()],
        staff: vec![],
        seed: 3,
    };
    seed(&t.app.db, &plan, Utc::now(), |_| {}).await.unwrap();
    let owner = t.add_user(Role::Owner).await;
    let tab = Tab::open(&t.base).await;
    sign_in(&tab, &owner.email, "/").await;
    assert_eq!(tab.count("#kpis .stat").await, 9, "nine KPIs");

    // Pick the last 14 days.
    let today = Utc::now().with_timezone(&ist()).date_naive();
    let from = today - Duration::days(13);
    tab.choose("#from", &from.to_string()).await;
    tab.choose("#to", &today.to_string()).await;
    tab.click("#range button[type=submit]").await;
    tab.wait_for(
        &format!("location.search.includes('from={from}')"),
        "the range applied",
    )
    .await;
    tab.loaded().await;
    let (_, summary) = t
        .api_get(&format!("/api/v1/analytics/summary?from={from}&to={today}"))
        .await;
    let calls = summary["current"]["calls"].as_i64().unwrap();
    assert!(calls > 0, "{summary}");
    assert_eq!(
        tab.text("#kpi-calls b").await.replace(',', ""),
        calls.to_string()
    );
    assert!(
        tab.text("#kpi-calls .delta").await.contains('%')
            || tab.text("#kpi-calls .delta").await.contains("same")
    );
    assert_eq!(tab.count("#trend a").await, 14, "a bar per day");
    tab.screenshot("dashboard").await;

    // The busiest intent, clicked through: the call list filtered to it, with the same count.
    let (_, intents) = t
        .api_get(&format!("/api/v1/analytics/intents?from={from}&to={today}"))
        .await;
    let top = intents["intents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["intent"] != "")
        .unwrap()
        .clone();
    let intent = top["intent"].as_str().unwrap();
    tab.click(&format!("#intents tr[data-intent='{intent}'] a"))
        .await;
    tab.wait_for("location.pathname === '/calls'", "the call list")
        .await;
    tab.loaded().await;
    let search = tab.eval("location.search").await;
    let search = search.as_str().unwrap();
    assert!(
        search.contains(&format!("intent={intent}")) && search.contains(&format!("from={from}")),
        "{search}"
    );
    assert_eq!(
        tab.text("#count-total").await.replace(',', ""),
        top["calls"].to_string(),
        "the list holds the calls the breakdown counted"
    );
    tab.screenshot("dashboard-intent-clicked").await;

    // The busiest hour of the week, clicked through.
    tab.goto(&format!("/?from={from}&to={today}")).await;
    let (_, heat) = t
        .api_get(&format!("/api/v1/analytics/heatmap?from={from}&to={today}"))
        .await;
    let max = heat["max"].as_i64().unwrap();
    let href = tab
        .eval(&format!(
            "Array.from(document.querySelectorAll('#heatmap a')).find(a => a.querySelector('title').textContent.endsWith(': {max} calls')).getAttribute('href')"
        ))
        .await;
    tab.goto(href.as_str().unwrap()).await;
    assert_eq!(
        tab.text("#count-total").await.replace(',', ""),
        max.to_string()
    );
    assert!(tab.text("#slot").await.contains("IST"));

    // A quiet range says so, and shows no made-up ratios.
    tab.goto("/?from=2025-01-01&to=2025-01-31").await;
    assert!(
        tab.text("#empty-state")
            .await
            .contains("No calls in this period")
    );
    assert_eq!(tab.text("#kpi-resolved b").await, "—");
    assert_eq!(tab.text("#kpi-latency b").await, "—");
    tab.screenshot("dashboard-empty").await;

    // Analytics: per intent, agents, the team, and the downloads.
    tab.goto(&format!("/analytics?from={from}&to={today}"))
        .await;
    assert!(tab.count("#intent-table tbody tr").await > 3);
    assert!(tab.count("#agents tbody tr").await > 3);
    assert!(tab.text("#people").await.contains("+919800000101"));
    let csv = tab
        .eval("document.querySelector('#exports a').getAttribute('href')")
        .await;
    assert_eq!(
        csv,
        json!(format!(
            "/api/v1/exports/calls?from={from}&to={today}&format=csv"
        ))
    );
    tab.screenshot("analytics").await;

    tab.viewport(390, 844, true).await;
    tab.goto(&format!("/?from={from}&to={today}")).await;
    let overflow = tab
        .eval("document.documentElement.scrollWidth > window.innerWidth")
        .await;
    assert_eq!(overflow, json!(false), "no sideways scroll on a phone");
    tab.screenshot("dashboard-phone").await;
    tab.close().await;
    t.stop().await;
}
