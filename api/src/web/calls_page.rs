//! `/calls`: the call list with filters (IST dates, state, channel, intent, outcome, caller),
//! counts of how the filtered calls ended, and pages.

use super::format::{chip, duration, inr, when, words};
use super::layout::{pager, shell};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Viewer as AnyRole;
use crate::calls::{ListParams, query};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::CallState;
use caly_core::billing::money::group_indian;
use caly_core::calls::{self, OUTCOMES};
use caly_core::platform::pagination::PageRequest;
use maud::html;

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/calls", get(list))
}

fn select(
    name: &str,
    label: &str,
    current: Option<&str>,
    options: &[(String, String)],
) -> maud::Markup {
    html! {
        div {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { "Any" }
                @for (value, text) in options {
                    option value=(value) selected[current == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

fn named(values: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<(String, String)> {
    values
        .into_iter()
        .map(|v| (v.as_ref().to_string(), words(v.as_ref())))
        .collect()
}

/// `Mondays, 14:00–15:00 IST` for the weekday and hour filters, when set.
fn slot_label(filter: &calls::CallFilter) -> Option<String> {
    let day = filter.weekday.map(|d| {
        format!(
            "{}s",
            caly_core::analytics::dashboard::WEEKDAYS[d as usize % 7]
        )
    });
    let hour = filter
        .hour
        .map(|h| format!("{h:02}:00–{:02}:00 IST", (h + 1) % 24));
    match (day, hour) {
        (None, None) => None,
        (Some(d), Some(h)) => Some(format!("{d}, {h}")),
        (Some(d), None) => Some(d),
        (None, Some(h)) => Some(h),
    }
}

async fn list(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let params: ListParams = query(raw)?;
    let filter = params.filter()?;
    // 25 a page (the pager's links carry only the page number).
    let page = PageRequest::new(params.page, Some(25))?;
    let tenant = viewer.tenant();
    let found = calls::list_calls(&app.db, tenant, &filter, page).await?;
    let outcomes = calls::count_outcomes(&app.db, tenant, &filter).await?;
    let intents = calls::known_intents(&app.db, tenant).await?;
    let count = |name: &str| -> i64 {
        outcomes
            .iter()
            .filter(|(o, _)| o.as_deref() == Some(name))
            .map(|(_, n)| n)
            .sum()
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let kept = [
        ("from", text(&params.from)),
        ("to", text(&params.to)),
        ("state", text(&params.state)),
        ("channel", text(&params.channel)),
        ("intent", text(&params.intent)),
        ("outcome", text(&params.outcome)),
        ("caller", text(&params.caller)),
        ("weekday", text(&params.weekday)),
        ("hour", text(&params.hour)),
    ];
    let filtered = kept.iter().any(|(_, v)| !v.is_empty());
    let body = html! {
        div.spread { h1 { "Calls" } }
        form.panel.autosubmit method="get" action="/calls" aria-label="Filters" {
            div.filters {
                div { label for="from" { "From (IST)" } input id="from" name="from" type="date" value=(kept[0].1); }
                div { label for="to" { "To (IST)" } input id="to" name="to" type="date" value=(kept[1].1); }
                (select("state", "State", params.state.as_deref(), &named(CallState::ALL.iter().map(|s| s.as_str()))))
                (select("channel", "Channel", params.channel.as_deref(), &named(["phone", "text"])))
                (select("intent", "Intent", params.intent.as_deref(), &named(&intents)))
                (select("outcome", "Resolved or handed off", params.outcome.as_deref(), &named(OUTCOMES)))
                div { label for="caller" { "Caller number" } input id="caller" name="caller" type="search" inputmode="tel" placeholder="98123…" value=(kept[6].1); }
                @if let Some(slot) = slot_label(&filter) {
                    div id="slot" { label { "Time slot" } span { (slot) " " }
                        input type="hidden" name="weekday" value=(kept[7].1); input type="hidden" name="hour" value=(kept[8].1); }
                }
                div.row {
                    button type="submit" { "Apply" }
                    @if filtered { a.button.quiet href="/calls" { "Clear" } }
                }
            }
        }
        div.stats {
            div.stat { span.muted { "Calls" } b id="count-total" { (group_indian(found.total)) } }
            div.stat { span.muted { "Resolved by AI" } b id="count-resolved" { (group_indian(count("resolved") as u64)) } }
            div.stat { span.muted { "Handed off" } b id="count-handed-off" { (group_indian(count("handed_off") as u64)) } }
            div.stat { span.muted { "Callbacks" } b id="count-callback" { (group_indian(count("callback") as u64)) } }
        }
        div.panel.table-wrap {
            @if found.items.is_empty() {
                p.empty {
                    @if filtered { "No calls match these filters." }
                    @else { "No calls yet. When a shopper calls your Exotel number, the call shows up here within seconds." }
                }
            } @else {
                table id="calls" {
                    thead { tr {
                        th { "When (IST)" } th { "Caller" } th.hide-narrow { "Channel" } th { "State" }
                        th { "Outcome" } th.num.hide-narrow { "Duration" } th.num { "Cost" }
                    } }
                    tbody {
                        @for call in &found.items {
                            tr {
                                td { a href={ "/calls/" (call.id) } { (when(call.happened_at)) } }
                                td.mono { (call.from_number.as_deref().or(call.from_raw.as_deref()).unwrap_or("unknown")) }
                                td.hide-narrow { (call.channel.as_str()) }
                                td { (chip(call.state.as_str())) }
                                td { @if let Some(outcome) = &call.outcome { (chip(outcome)) } @else { span.muted { "—" } } }
                                td.num.hide-narrow { (duration(call.duration_secs)) }
                                td.num { @if let Some(cost) = call.cost_paise { (inr(cost)) } @else { span.muted { "—" } } }
                            }
                        }
                    }
                }
            }
        }
        (pager("/calls", &kept, found.page, found.per_page, found.total))
    };
    Ok(shell(&viewer, "Calls", "/calls", body).into_response())
}
