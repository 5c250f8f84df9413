//! `/billing`: the balance, the rate, the month-by-month summary (with its bars drawn as SVG on
//! the server) and the ledger of charges, adjustments, credits and payments.

use super::format::{inr, when, words};
use super::layout::{pager, shell};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Viewer as AnyRole;
use crate::calls::query;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::billing::{self, money::group_indian, summary};
use caly_core::platform::pagination::PageRequest;
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/billing", get(billing_page))
}

#[derive(Deserialize, Default)]
struct Params {
    page: Option<u64>,
}

/// Months shown in the summary.
const MONTHS: u32 = 12;

/// Bars of each month's charges, oldest on the left.
fn bars(months: &[summary::MonthSummary]) -> Markup {
    let most = months
        .iter()
        .map(|m| m.charges_paise)
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, height, gap) = (40i64, 120i64, 8i64);
    let total_width = months.len() as i64 * (width + gap);
    html! {
        svg.bars viewBox={ "0 0 " (total_width) " " (height + 20) } role="img"
            aria-label="Charges per month" width="100%" height="160" preserveAspectRatio="xMinYMid meet" {
            @for (i, month) in months.iter().rev().enumerate() {
                @let bar = month.charges_paise.max(0) * height / most;
                rect x=(i as i64 * (width + gap)) y=(height - bar) width=(width) height=(bar.max(1)) {
                    title { (month.month) ": " (inr(month.charges_paise)) }
                }
                text x=(i as i64 * (width + gap) + width / 2) y=(height + 15) text-anchor="middle"
                    font-size="10" fill="currentColor" { (&month.month[5..]) }
            }
        }
    }
}

async fn billing_page(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let params: Params = query(raw)?;
    let tenant = viewer.tenant();
    let now = Utc::now();
    let entries =
        billing::list_entries(&app.db, tenant, PageRequest::new(params.page, Some(25))?).await?;
    let months = summary::monthly(&app.db, tenant, MONTHS, now).await?;
    let rates = billing::rates::rate_history(&app.db, tenant).await?;
    let t = &viewer.principal.tenant;
    let body = html! {
        h1 { "Billing" }
        div.stats {
            @if t.balance_paise < 0 {
                div.stat { span.muted { "In credit" } b id="balance" { (inr(-t.balance_paise)) } }
            } @else {
                div.stat { span.muted { "Balance due" } b id="balance" { (inr(t.balance_paise)) } }
            }
            div.stat { span.muted { "Rate" } b { (inr(billing::rate_at(&rates, now))) "/min" } }
            div.stat { span.muted { "Credit limit" } b { (t.credit_limit_paise.map(inr).unwrap_or_else(|| "none".into())) } }
        }
        p.small.muted { "Calls are billed per started minute. Times and months are IST." }
        section.panel aria-labelledby="months-h" {
            h2 id="months-h" { "Month by month" }
            (bars(&months))
            div.table-wrap {
                table id="months" {
                    thead { tr { th { "Month" } th.num { "Calls" } th.num { "Minutes" } th.num { "Charges" } th.num { "Adjustments" } th.num { "Credits and payments" } th.num { "Net" } } }
                    tbody {
                        @for m in &months {
                            tr {
                                td { (m.month) }
                                td.num { (group_indian(m.calls.unsigned_abs())) }
                                td.num { (group_indian(m.minutes.unsigned_abs())) }
                                td.num { (inr(m.charges_paise)) }
                                td.num { (inr(m.adjustments_paise)) }
                                td.num { (inr(m.credits_paise + m.payments_paise)) }
                                td.num { b { (inr(m.net_paise)) } }
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="ledger-h" {
            h2 id="ledger-h" { "Ledger" }
            @if entries.items.is_empty() {
                p.empty { "No charges yet. Each finished call is charged once, here." }
            } @else {
                div.table-wrap {
                    table id="ledger" {
                        thead { tr { th { "When (IST)" } th { "What" } th { "Call" } th.num { "Minutes" } th.num { "Amount" } } }
                        tbody {
                            @for e in &entries.items {
                                tr {
                                    td { (when(e.created_at)) }
                                    td { (words(e.kind.as_str())) @if !e.reason.is_empty() { br; span.small.muted { (e.reason) } } }
                                    td { @if let Some(call) = e.call_id { a href={ "/calls/" (call) } { "#" (call) } } @else { "—" } }
                                    td.num { (e.minutes.map(|m| m.to_string()).unwrap_or_else(|| "—".into())) }
                                    td.num { (inr(e.amount_paise)) }
                                }
                            }
                        }
                    }
                }
                (pager("/billing", &[], entries.page, entries.per_page, entries.total))
            }
        }
    };
    Ok(shell(&viewer, "Billing", "/billing", body).into_response())
}
