//! `/analytics`: per intent (calls, AI resolution and handoff rates, turns), the AI agents
//! (in total, and their turns day by day), the human team per person and per team, and the
//! downloads: every table as CSV or JSON, and the raw calls, turns and charges.

use super::charts::{intent_label, range_form, settled_range};
use super::dashboard_page::calls_link;
use super::layout::shell;
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Viewer as AnyRole;
use crate::analytics::table_path;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::analytics::people::{self, AgentRow};
use caly_core::analytics::{DayRange, dashboard};
use caly_core::billing::money::group_indian;
use maud::{Markup, html};
use std::collections::BTreeMap;

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/analytics", get(analytics_page))
}

fn pct(value: Option<f64>) -> String {
    value
        .map(|p| format!("{p:.1}%"))
        .unwrap_or_else(|| "—".into())
}

fn count(n: i64) -> String {
    group_indian(n.unsigned_abs())
}

/// CSV and JSON links for one analytics table.
fn downloads(name: &str, range: &DayRange) -> Markup {
    let base = format!("{}?from={}&to={}", table_path(name), range.from, range.to);
    html! {
        span.small.downloads {
            a href={ (base) "&format=csv" } download { "CSV" } " · "
            a href=(base) { "JSON" }
        }
    }
}

/// Each agent's turns per day as a sparkline.
fn sparkline(points: &[i64]) -> Markup {
    let most = points.iter().copied().max().unwrap_or(0).max(1);
    let step = 100.0 / (points.len().max(2) - 1) as f64;
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                20.0 - *n as f64 * 18.0 / most as f64
            )
        })
        .collect();
    html! {
        svg.spark viewBox="0 0 100 22" width="120" height="22" preserveAspectRatio="none" role="img" aria-label="Turns per day" {
            polyline points=(line.join(" ")) fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" {}
        }
    }
}

fn agents_table(agents: &[AgentRow], daily: &[AgentRow], range: &DayRange) -> Markup {
    let mut series: BTreeMap<&str, BTreeMap<chrono::NaiveDate, i64>> = BTreeMap::new();
    for row in daily {
        if let Some(day) = row.day {
            series.entry(&row.agent).or_default().insert(day, row.turns);
        }
    }
    html! {
        table id="agents" {
            thead { tr { th { "Agent" } th.num { "Calls" } th.num { "Turns" } th.num { "Resolved by AI" } th.num { "Handoff turns" } th.num { "Fallbacks" } th.num { "Avg latency" } th.hide-narrow { "Turns per day" } } }
            tbody {
                @for a in agents {
                    @let points: Vec<i64> = range.each_day().map(|d| series.get(a.agent.as_str()).and_then(|s| s.get(&d)).copied().unwrap_or(0)).collect();
                    tr data-agent=(a.agent) {
                        td { (intent_label(&a.agent)) }
                        td.num { (count(a.calls)) }
                        td.num { (count(a.turns)) }
                        td.num { (pct(dashboard::percent(a.resolved_by_ai, a.calls))) }
                        td.num { (count(a.handoff_turns)) }
                        td.num { (count(a.error_turns)) }
                        td.num { (a.avg_latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())) }
                        td.hide-narrow { (sparkline(&points)) }
                    }
                }
            }
        }
    }
}

async fn analytics_page(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let tenant = viewer.tenant();
    let range = settled_range(&app, tenant, raw).await?;
    let (intents, agents, daily, team) = tokio::try_join!(
        dashboard::intents(&app.db, tenant, range),
        people::agents(&app.db, tenant, range),
        people::agents_daily(&app.db, tenant, range),
        people::team(&app.db, tenant, range),
    )?;
    let export = |kind: &str, format: &str| {
        format!(
            "/api/v1/exports/{kind}?from={}&to={}&format={format}",
            range.from, range.to
        )
    };
    let body = html! {
        div.spread { h1 { "Analytics" } span.muted { (range.label()) " (IST)" } }
        (range_form("/analytics", &range))
        section.panel aria-labelledby="intent-h" {
            div.spread { h2 id="intent-h" { "Per intent" } (downloads("intents", &range)) }
            @if intents.is_empty() { p.empty { "No calls in this period." } }
            @else {
                div.table-wrap { table id="intent-table" {
                    thead { tr { th { "Intent" } th.num { "Calls" } th.num { "Resolved by AI" } th.num { "Handed off" } th.num { "Avg turns" } } }
                    tbody {
                        @for row in &intents {
                            tr data-intent=(row.intent) {
                                td { @if row.intent.is_empty() { (intent_label(&row.intent)) } @else { a href=(calls_link(&range, &format!("&intent={}", row.intent))) { (intent_label(&row.intent)) } } }
                                td.num { (count(row.calls)) }
                                td.num { (pct(row.resolution_pct)) }
                                td.num { (pct(row.handoff_pct)) }
                                td.num { (row.avg_turns.map(|t| format!("{t:.1}")).unwrap_or_else(|| "—".into())) }
                            }
                        }
                    }
                } }
                p.small.muted { "A call with turns of several intents counts under each. Rates are shares of that intent's calls." }
            }
        }
        section.panel aria-labelledby="agents-h" {
            div.spread { h2 id="agents-h" { "AI agents" } span { (downloads("agents", &range)) " · per day: " (downloads("agents_daily", &range)) } }
            @if agents.is_empty() { p.empty { "The agents have answered no turns in this period." } }
            @else { div.table-wrap { (agents_table(&agents, &daily, &range)) } }
        }
        section.panel aria-labelledby="people-h" {
            div.spread { h2 id="people-h" { "Your team" } (downloads("people", &range)) }
            p.small.muted { "Handoffs are matched to a person by the phone number in their profile (Settings → Notifications)." }
            @if team.people.is_empty() { p.empty { "No team members yet." } }
            @else {
                div.table-wrap { table id="people" {
                    thead { tr { th { "Person" } th { "Phone" } th.num { "Handoffs" } th.num { "Minutes" } th.num { "Tasks closed" } th.num { "Open tasks" } } }
                    tbody {
                        @for p in &team.people {
                            tr { td { (p.name) } td.mono { (p.phone.as_deref().unwrap_or("—")) } td.num { (count(p.handoffs)) } td.num { (count(p.handoff_minutes)) } td.num { (count(p.tasks_closed)) } td.num { (count(p.tasks_open)) } }
                        }
                    }
                } }
            }
            div.spread { h3 { "Per team" } (downloads("teams", &range)) }
            @if team.teams.is_empty() { p.empty { "No teams yet. " a href="/settings/team" { "Make one" } " to see its numbers here." } }
            @else {
                div.table-wrap { table id="teams" {
                    thead { tr { th { "Team" } th.num { "Members" } th.num { "Handoffs" } th.num { "Minutes" } th.num { "Tasks closed" } th.num { "Open tasks" } } }
                    tbody {
                        @for t in &team.teams {
                            tr { td { (t.name) } td.num { (t.members) } td.num { (count(t.handoffs)) } td.num { (count(t.handoff_minutes)) } td.num { (count(t.tasks_closed)) } td.num { (count(t.tasks_open)) } }
                        }
                    }
                } }
            }
        }
        section.panel aria-labelledby="export-h" {
            h2 id="export-h" { "Export" }
            p { "Every row in the range, streamed (large exports start at once)." }
            ul id="exports" {
                li { "Calls: " a href=(export("calls", "csv")) download { "CSV" } " · " a href=(export("calls", "json")) download { "JSON" } }
                li { "Turns: " a href=(export("turns", "csv")) download { "CSV" } " · " a href=(export("turns", "json")) download { "JSON" } }
                li { "Charges and adjustments: " a href=(export("charges", "csv")) download { "CSV" } " · " a href=(export("charges", "json")) download { "JSON" } }
            }
        }
    };
    Ok(shell(&viewer, "Analytics", "/analytics", body).into_response())
}
