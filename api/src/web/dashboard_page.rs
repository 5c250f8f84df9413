//! `/`: the home dashboard for a range of IST days: the KPIs, each against the previous period
//! of the same length, calls per day, intents and the busiest hours. Every number links to the
//! calls behind it on `/calls`.

use super::charts::{day_bars, heatmap, range_form, settled_range, share_bars};
use super::format::{duration, inr};
use super::layout::shell;
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Viewer as AnyRole;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::analytics::DayRange;
use caly_core::analytics::dashboard::{self, Kpis};
use caly_core::billing::money::group_indian;
use maud::{Markup, html};

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/", get(dashboard_page))
}

/// `/calls` for the range, with more filters.
pub(super) fn calls_link(range: &DayRange, more: &str) -> String {
    format!("/calls?from={}&to={}{more}", range.from, range.to)
}

/// How a number compares with the period before: `▲ 12%`, `▼ 3%`, `same`, or `new`.
fn change(current: Option<f64>, previous: Option<f64>, higher_is_better: bool) -> Markup {
    let (Some(now), Some(before)) = (current, previous) else {
        return html! { span.delta.muted { "no comparison" } };
    };
    if before == 0.0 {
        return if now == 0.0 {
            html! { span.delta.muted { "same as before" } }
        } else {
            html! { span.delta.muted { "none before" } }
        };
    }
    let pct = (now - before) / before.abs() * 100.0;
    if pct.abs() < 0.05 {
        return html! { span.delta.muted { "same as before" } };
    }
    let good = (pct > 0.0) == higher_is_better;
    let arrow = if pct > 0.0 { "▲" } else { "▼" };
    html! {
        span.delta.good[good].bad[!good] title="Compared with the previous period" {
            (arrow) " " (format!("{:.1}", pct.abs())) "%"
        }
    }
}

/// One KPI card.
struct Card {
    id: &'static str,
    label: &'static str,
    value: String,
    current: Option<f64>,
    previous: Option<f64>,
    higher_is_better: bool,
    link: Option<String>,
}

fn cards(range: &DayRange, now: &Kpis, before: &Kpis) -> Vec<Card> {
    let count = |n: i64| group_indian(n.unsigned_abs());
    let f = |n: i64| Some(n as f64);
    vec![
        Card {
            id: "kpi-calls",
            label: "Calls",
            value: count(now.calls),
            current: f(now.calls),
            previous: f(before.calls),
            higher_is_better: true,
            link: Some(calls_link(range, "")),
        },
        Card {
            id: "kpi-answered",
            label: "Answered by the AI",
            value: count(now.answered_by_ai),
            current: f(now.answered_by_ai),
            previous: f(before.answered_by_ai),
            higher_is_better: true,
            link: None,
        },
        Card {
            id: "kpi-resolved",
            label: "Resolved by the AI",
            value: now
                .resolved_pct
                .map(|p| format!("{p:.1}%"))
                .unwrap_or_else(|| "—".into()),
            current: now.resolved_pct,
            previous: before.resolved_pct,
            higher_is_better: true,
            link: Some(calls_link(range, "&outcome=resolved")),
        },
        Card {
            id: "kpi-handed-off",
            label: "Handed off",
            value: count(now.handed_off),
            current: f(now.handed_off),
            previous: f(before.handed_off),
            higher_is_better: false,
            link: Some(calls_link(range, "&outcome=handed_off")),
        },
        Card {
            id: "kpi-missed",
            label: "Missed",
            value: count(now.missed),
            current: f(now.missed),
            previous: f(before.missed),
            higher_is_better: false,
            link: Some(calls_link(range, "&state=missed")),
        },
        Card {
            id: "kpi-duration",
            label: "Average duration",
            value: now
                .avg_duration_secs
                .map(|s| duration(Some(s)))
                .unwrap_or_else(|| "—".into()),
            current: now.avg_duration_secs.map(|s| s as f64),
            previous: before.avg_duration_secs.map(|s| s as f64),
            higher_is_better: false,
            link: None,
        },
        Card {
            id: "kpi-minutes",
            label: "Minutes billed",
            value: count(now.minutes_billed),
            current: f(now.minutes_billed),
            previous: f(before.minutes_billed),
            higher_is_better: false,
            link: None,
        },
        Card {
            id: "kpi-spend",
            label: "Spend",
            value: inr(now.spend_paise),
            current: f(now.spend_paise),
            previous: f(before.spend_paise),
            higher_is_better: false,
            link: None,
        },
        Card {
            id: "kpi-latency",
            label: "Median turn latency",
            value: now
                .median_turn_latency_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_else(|| "—".into()),
            current: now.median_turn_latency_ms.map(|s| s as f64),
            previous: before.median_turn_latency_ms.map(|s| s as f64),
            higher_is_better: false,
            link: None,
        },
    ]
}

async fn dashboard_page(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let tenant = viewer.tenant();
    let range = settled_range(&app, tenant, raw).await?;
    // Four independent reads, side by side on the pool.
    let (summary, days, intents, map) = tokio::try_join!(
        dashboard::summary(&app.db, tenant, range),
        dashboard::daily(&app.db, tenant, range),
        dashboard::intents(&app.db, tenant, range),
        dashboard::heatmap(&app.db, tenant, range),
    )?;
    let previous = summary.previous_range;
    let nothing = summary.current.calls == 0;
    let body = html! {
        div.spread { h1 { "Dashboard" } span.muted { (range.label()) " (IST)" } }
        (range_form("/", &range))
        @if nothing {
            div.panel id="empty-state" {
                p { b { "No calls in this period." } }
                @if summary.previous.calls > 0 {
                    p { "There were " (group_indian(summary.previous.calls.unsigned_abs())) " in the period before; pick another range to see them." }
                } @else {
                    p { "When shoppers call your Exotel number, their calls, what they asked and what they cost show up here. "
                        a href="/onboarding" { "Check your setup" } " or try the agent with " code { "caly chat" } "." }
                }
            }
        }
        div.stats.kpis id="kpis" {
            @for card in cards(&range, &summary.current, &summary.previous) {
                div.stat id=(card.id) {
                    span.muted { (card.label) }
                    @if let Some(link) = &card.link { b { a href=(link) { (card.value) } } } @else { b { (card.value) } }
                    (change(card.current, card.previous, card.higher_is_better))
                }
            }
        }
        p.small.muted { "Compared with " (previous.label()) ". Resolved by the AI is a share of the calls it answered; spend is what the calls in the range cost." }
        section.panel aria-labelledby="trend-h" {
            h2 id="trend-h" { "Calls per day" }
            @if nothing { p.empty { "No calls to chart yet." } }
            @else { (day_bars(&days, &range)) }
        }
        div.grid2 {
            section.panel aria-labelledby="intents-h" {
                h2 id="intents-h" { "What callers asked about" }
                @if intents.is_empty() { p.empty { "No conversations in this period." } }
                @else { (share_bars(&intents, &range)) }
                p { a href={ "/analytics?from=" (range.from) "&to=" (range.to) } { "Resolution and handoff rates per intent →" } }
            }
            section.panel aria-labelledby="heat-h" {
                h2 id="heat-h" { "Busiest hours (IST)" }
                @if map.max == 0 { p.empty { "No calls in this period." } }
                @else { (heatmap(&map, &range)) }
            }
        }
    };
    Ok(shell(&viewer, "Dashboard", "/", body).into_response())
}
