//! Charts drawn on the server as SVG (no script, no inline styles), and the date-range picker
//! the dashboard and analytics share. Every mark links to the calls behind it.

use super::dashboard_page::calls_link;
use super::format::words;
use super::page::PageError;
use crate::analytics::RangeParams;
use crate::calls::query;
use caly_core::analytics::dashboard::{DayPoint, Heatmap, IntentRow, WEEKDAYS};
use caly_core::analytics::range::ist_today;
use caly_core::analytics::{DayRange, settle};
use caly_core::billing::money::group_indian;
use caly_core::{App, TenantId};
use chrono::{Datelike, Duration, Utc};
use maud::{Markup, html};

/// The IST range a page asks for (the last 30 days by default), with the tenant's rollups
/// settled first so the page counts every change committed before it.
pub(super) async fn settled_range(
    app: &App,
    tenant: TenantId,
    raw: Option<String>,
) -> Result<DayRange, PageError> {
    let params: RangeParams = query(raw)?;
    let range = params.range()?;
    settle::settle_for_read(&app.db, tenant, Utc::now()).await?;
    Ok(range)
}

/// The range picker: two IST dates and the usual ranges, as a plain GET form.
pub(super) fn range_form(action: &str, range: &DayRange) -> Markup {
    let today = ist_today(Utc::now());
    let last = |days: i64| (today - Duration::days(days - 1), today);
    let month_start = today.with_day(1).unwrap_or(today);
    let quick = [
        ("Last 7 days", last(7)),
        ("Last 30 days", last(30)),
        ("Last 90 days", last(90)),
        ("This month", (month_start, today)),
    ];
    html! {
        form.panel method="get" action=(action) id="range" aria-label="Date range" {
            div.filters {
                div { label for="from" { "From (IST)" } input id="from" name="from" type="date" value=(range.from) required; }
                div { label for="to" { "To (IST)" } input id="to" name="to" type="date" value=(range.to) required; }
                div.row { button type="submit" { "Show" } }
            }
            p.small.quick {
                @for (label, (from, to)) in quick {
                    @let on = range.from == from && range.to == to;
                    a.on[on] href={ (action) "?from=" (from) "&to=" (to) } { (label) }
                    " "
                }
            }
        }
    }
}

/// Calls per day as bars (resolved by the AI darker), each linking to that day's calls.
pub(super) fn day_bars(days: &[DayPoint], range: &DayRange) -> Markup {
    let most = days.iter().map(|d| d.calls).max().unwrap_or(0).max(1);
    let width = (720 / days.len().max(1) as i64).clamp(2, 40);
    let gap = if width > 6 { 2 } else { 0 };
    let height = 140i64;
    let total = days.len() as i64 * width;
    let label_every = (days.len() / 8).max(1);
    html! {
        svg.bars.trend id="trend" viewBox={ "0 0 " (total) " " (height + 18) } role="img"
            aria-label="Calls per day" width="100%" height="180" preserveAspectRatio="none" {
            @for (i, day) in days.iter().enumerate() {
                @let x = i as i64 * width;
                @let bar = day.calls * height / most;
                @let solved = day.resolved_by_ai * height / most;
                a href=(calls_link(&DayRange { from: day.day, to: day.day }, "")) data-day=(day.day) {
                    rect x=(x) y=(height - bar) width=((width - gap).max(1)) height=(bar.max(if day.calls > 0 { 1 } else { 0 })) {
                        title { (day.day.format("%a %-d %b")) ": " (day.calls) " calls, " (day.resolved_by_ai) " resolved by the AI, " (day.handed_off) " handed off" }
                    }
                    rect.solved x=(x) y=(height - solved) width=((width - gap).max(1)) height=(solved) {}
                }
                @if i % label_every == 0 {
                    text x=(x) y=(height + 14) font-size="10" fill="currentColor" { (day.day.format("%-d %b")) }
                }
            }
        }
        p.small.muted { "Most in a day: " (group_indian(most.unsigned_abs())) ". Darker: resolved by the AI. "
            "From " (range.from.format("%-d %b")) " to " (range.to.format("%-d %b %Y")) "." }
    }
}

/// What an intent is called on a page.
pub(super) fn intent_label(intent: &str) -> String {
    if intent.is_empty() {
        "No conversation".to_string()
    } else {
        words(intent)
    }
}

/// Calls per intent as horizontal bars, each linking to those calls.
pub(super) fn share_bars(rows: &[IntentRow], range: &DayRange) -> Markup {
    let most = rows.iter().map(|r| r.calls).max().unwrap_or(0).max(1);
    html! {
        table.shares id="intents" {
            tbody {
                @for row in rows {
                    tr data-intent=(row.intent) {
                        td {
                            @if row.intent.is_empty() { (intent_label(&row.intent)) }
                            @else { a href=(calls_link(range, &format!("&intent={}", row.intent))) { (intent_label(&row.intent)) } }
                        }
                        td.bar {
                            svg viewBox="0 0 100 10" width="100%" height="12" preserveAspectRatio="none" role="presentation" {
                                rect x="0" y="0" width=((row.calls * 100 / most).max(1)) height="10" {}
                            }
                        }
                        td.num { (group_indian(row.calls.unsigned_abs())) }
                    }
                }
            }
        }
    }
}

/// Calls per weekday × IST hour, darker where busier; each cell links to its calls.
pub(super) fn heatmap(map: &Heatmap, range: &DayRange) -> Markup {
    let (cell, left, top) = (22i64, 34i64, 14i64);
    let max = map.max.max(1) as f64;
    html! {
        svg.heat id="heatmap" viewBox={ "0 0 " (left + 24 * cell) " " (top + 7 * cell) } role="img"
            aria-label="Calls by weekday and hour" width="100%" {
            @for hour in (0..24).step_by(3) {
                text x=(left + hour * cell + 2) y="10" font-size="9" fill="currentColor" { (format!("{hour:02}")) }
            }
            @for (d, hours) in map.cells.iter().enumerate() {
                text x="0" y=(top + d as i64 * cell + 15) font-size="10" fill="currentColor" { (WEEKDAYS[d]) }
                @for (h, n) in hours.iter().enumerate() {
                    @let weekday = WEEKDAYS[d].to_lowercase();
                    a href=(calls_link(range, &format!("&weekday={weekday}&hour={h}"))) {
                        rect x=(left + h as i64 * cell) y=(top + d as i64 * cell) width=(cell - 2) height=(cell - 2) rx="3"
                            fill-opacity=(format!("{:.2}", if *n == 0 { 0.05 } else { 0.15 + 0.85 * *n as f64 / max })) {
                            title { (WEEKDAYS[d]) " " (format!("{h:02}:00")) "–" (format!("{:02}:00", (h + 1) % 24)) ": " (n) " calls" }
                        }
                    }
                }
            }
        }
    }
}
