//! `/admin/…` (admins): system health, failed stage runs with bulk retry per stage, and the
//! audit log with filters and a CSV export.

use super::format::{chip, when, words};
use super::layout::{pager, shell, status};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Admin;
use crate::calls::query;
use crate::stage_runs::{Filters, filter};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::pipeline::run_view::RunView;
use caly_core::pipeline::runs;
use caly_core::platform::pagination::PageRequest;
use caly_core::platform::{system_health, time};
use caly_core::tenancy::accounts::audit::{self, AuditFilter};
use caly_core::tenancy::accounts::members;
use chrono::{NaiveDate, Utc};
use maud::html;
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn router() -> Router<ApiState> {
    Router::new()
        .route(
            "/admin",
            get(|| async { axum::response::Redirect::to("/admin/health") }),
        )
        .route("/admin/health", get(health))
        .route("/admin/stage-runs", get(stage_runs))
        .route("/admin/audit", get(audit_log))
}

async fn health(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<Admin>,
) -> PageResult {
    let health = system_health::check(&app, viewer.tenant(), Utc::now()).await?;
    let body = html! {
        div.spread { h1 { "System health" } (chip(health.status)) }
        section.panel.table-wrap aria-labelledby="components-h" {
            h2 id="components-h" { "Components" }
            table id="components" {
                thead { tr { th { "Component" } th { "Status" } th.num { "Checked in" } th { "Detail" } } }
                tbody {
                    @for (name, component) in &health.components {
                        tr { td { (words(name)) } td { (chip(component.status)) } td.num { (component.latency_ms) " ms" } td.small { (component.detail.as_deref().unwrap_or("")) } }
                    }
                }
            }
        }
        section.panel.table-wrap aria-labelledby="stages-h" {
            h2 id="stages-h" { "This store's stage runs" }
            @if health.stages.is_empty() { p.empty { "No stage runs yet." } } @else {
                table { thead { tr { th { "Stage" } th.num { "Pending" } th.num { "Running" } th.num { "Failed" } } }
                    tbody { @for s in &health.stages { tr { td { (s.stage) } td.num { (s.pending) } td.num { (s.running) } td.num {
                        @if s.failed > 0 { a href={ "/admin/stage-runs?stage=" (s.stage) } { (s.failed) } } @else { "0" } } } } } }
            }
        }
        section.panel.table-wrap aria-labelledby="workers-h" {
            h2 id="workers-h" { "Workers" }
            @if health.workers.is_empty() { p.empty { "No worker has reported in." } } @else {
                table { thead { tr { th { "Process" } th { "Alive" } th { "Last beat" } th.hide-narrow { "Stages" } } }
                    tbody { @for w in &health.workers { tr { td.mono { (w.node) } td { (chip(if w.alive { "up" } else { "down" })) } td { (when(w.beat_at)) } td.small.hide-narrow { (w.stages.join(", ")) } } } } }
            }
        }
    };
    Ok(shell(&viewer, "System health", "/admin/health", body).into_response())
}

#[derive(Deserialize, Default)]
struct RunParams {
    stage: Option<String>,
    since: Option<String>,
    error_contains: Option<String>,
    page: Option<u64>,
}

async fn stage_runs(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<Admin>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let params: RunParams = query(raw)?;
    let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let filters = Filters {
        stage: given(&params.stage),
        since: given(&params.since),
        until: None,
        error_contains: given(&params.error_contains),
    };
    let failed_filter = filter(&app, viewer.tenant(), filters, Utc::now())?;
    let failed = runs::list_failed(
        &app.db,
        &failed_filter,
        PageRequest::new(params.page, Some(50))?,
    )
    .await?;
    let failed = failed.map(RunView::from);
    let mut stages: Vec<String> = app
        .stages
        .names()
        .into_iter()
        .map(|s| s.to_string())
        .collect();
    stages.sort();
    let kept = [
        ("stage", given(&params.stage).unwrap_or_default()),
        ("since", given(&params.since).unwrap_or_default()),
        (
            "error_contains",
            given(&params.error_contains).unwrap_or_default(),
        ),
    ];
    let body = html! {
        h1 { "Failed stages" }
        p.muted { "A stage that failed for good (a permanent error, or out of attempts) waits here. Retrying runs it again; its effects are idempotent." }
        form.panel.autosubmit method="get" action="/admin/stage-runs" aria-label="Filters" {
            div.filters {
                div { label for="stage" { "Stage" } select id="stage" name="stage" { option value="" { "Any" }
                    @for s in &stages { option value=(s) selected[kept[0].1 == *s] { (s) } } } }
                div { label for="since" { "Since" } input id="since" name="since" placeholder="6h, 2d or 2026-11-22" value=(kept[1].1); }
                div { label for="error_contains" { "Error contains" } input id="error_contains" name="error_contains" value=(kept[2].1); }
                div { button type="submit" { "Apply" } }
            }
        }
        @if let Some(stage) = given(&params.stage) {
            @if failed.total > 0 {
                form.panel id="retry-form" data-api="/api/v1/stage-runs/retry" data-confirm={ "Retry every failed " (stage) " run matching these filters?" } data-success="Retried." {
                    input type="hidden" name="stage" value=(stage);
                    @if let Some(since) = given(&params.since) { input type="hidden" name="since" value=(since); }
                    @if let Some(text) = given(&params.error_contains) { input type="hidden" name="error_contains" value=(text); }
                    button type="submit" { "Retry all " (failed.total) " failed " (stage) " run(s)" }
                    (status())
                }
            }
        } @else if failed.total > 0 {
            p.small.muted { "Pick a stage to retry its failed runs in bulk." }
        }
        div.panel.table-wrap {
            @if failed.items.is_empty() { p.empty { "Nothing failed. Every stage run finished or is still trying." } } @else {
                table id="failed-runs" {
                    thead { tr { th { "Stage" } th { "Call" } th.num { "Attempts" } th { "Why" } th { "Last tried" } } }
                    tbody {
                        @for run in &failed.items {
                            tr {
                                td { (run.stage) }
                                td { @if let Some(call) = run.call_id { a href={ "/calls/" (call) } { "#" (call) } } @else { span.muted { (run.dedupe_key) } } }
                                td.num { (run.attempts) }
                                td.small { @if let Some(e) = &run.error { code { (e.code.as_str()) } " " (e.message) } }
                                td { (when(run.updated_at)) }
                            }
                        }
                    }
                }
            }
        }
        (pager("/admin/stage-runs", &kept, failed.page, failed.per_page, failed.total))
    };
    Ok(shell(&viewer, "Failed stages", "/admin/stage-runs", body).into_response())
}

#[derive(Deserialize, Default)]
struct AuditParams {
    action: Option<String>,
    actor: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
}

fn day(raw: &Option<String>) -> Option<NaiveDate> {
    raw.as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
}

async fn audit_log(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<Admin>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let params: AuditParams = query(raw)?;
    let people = members::list(&app.db, viewer.tenant()).await?;
    let names: HashMap<i64, &str> = people.iter().map(|m| (m.id, m.name.as_str())).collect();
    let from = day(&params.from).map(time::ist_day_start);
    let to = day(&params.to)
        .and_then(|d| d.succ_opt())
        .map(time::ist_day_start);
    let actor = params.actor.as_deref().and_then(|a| a.parse::<i64>().ok());
    let action = params.action.clone().filter(|a| !a.trim().is_empty());
    let audit_filter = AuditFilter {
        action: action.clone(),
        actor_user_id: actor,
        from,
        to,
    };
    let events = audit::list(
        &app.db,
        viewer.tenant().0,
        &audit_filter,
        PageRequest::new(params.page, Some(50))?,
    )
    .await?;
    let mut export: Vec<(&str, String)> =
        vec![("format", "csv".into()), ("per_page", "500".into())];
    if let Some(a) = &action {
        export.push(("action", a.clone()));
    }
    if let Some(a) = actor {
        export.push(("actor", a.to_string()));
    }
    if let Some(f) = from {
        export.push(("from", f.to_rfc3339()));
    }
    if let Some(t) = to {
        export.push(("to", t.to_rfc3339()));
    }
    let export = format!(
        "/api/v1/audit?{}",
        serde_urlencoded::to_string(&export).unwrap_or_default()
    );
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let kept = [
        ("action", text(&params.action)),
        ("actor", text(&params.actor)),
        ("from", text(&params.from)),
        ("to", text(&params.to)),
    ];
    let body = html! {
        div.spread { h1 { "Audit log" } a.button.quiet id="audit-export" href=(export) download="audit.csv" { "Export CSV" } }
        form.panel.autosubmit method="get" action="/admin/audit" aria-label="Filters" {
            div.filters {
                div { label for="action" { "Action" } input id="action" name="action" placeholder="auth. or user.role_changed" value=(kept[0].1); }
                div { label for="actor" { "Who" } select id="actor" name="actor" { option value="" { "Anyone" }
                    @for p in &people { option value=(p.id) selected[actor == Some(p.id)] { (p.name) } } } }
                div { label for="from" { "From (IST)" } input id="from" name="from" type="date" value=(kept[2].1); }
                div { label for="to" { "To (IST)" } input id="to" name="to" type="date" value=(kept[3].1); }
                div { button type="submit" { "Apply" } }
            }
        }
        div.panel.table-wrap {
            @if events.items.is_empty() { p.empty { "No events match." } } @else {
                table id="audit" {
                    thead { tr { th { "When (IST)" } th { "Who" } th { "Action" } th { "Target" } th.hide-narrow { "From" } } }
                    tbody {
                        @for e in &events.items {
                            tr {
                                td { (when(e.created_at)) }
                                td { (e.actor_user_id.and_then(|id| names.get(&id).copied()).unwrap_or(e.actor.as_str())) }
                                td { code { (e.action) } }
                                td.small { (e.target) }
                                td.small.hide-narrow.mono { (e.ip.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        (pager("/admin/audit", &kept, events.page, events.per_page, events.total))
    };
    Ok(shell(&viewer, "Audit log", "/admin/audit", body).into_response())
}
