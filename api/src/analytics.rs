//! The numbers over HTTP (viewers and up), each for an IST range (`from`, `to`: `2026-11-01`;
//! the last 30 days by default) as JSON or, with `format=csv`, as a CSV download:
//! - `GET /api/v1/analytics/summary`: the KPIs and the previous period's;
//! - `GET /api/v1/analytics/daily`: calls per day;
//! - `GET /api/v1/analytics/intents`: per intent: calls, AI resolution and handoff rates, turns;
//! - `GET /api/v1/analytics/heatmap`: calls per weekday × hour;
//! - `GET /api/v1/analytics/agents` and `…/agents/daily`: the AI agents, in total and per day;
//! - `GET /api/v1/analytics/people` and `…/teams`: the human team on handoffs and tasks.
//!
//! Each first settles the tenant's pending rollup changes, so it counts every change committed
//! before the request.

use crate::access::{Access, Viewer};
use crate::calls::{given, ist_date, query};
use crate::{ApiError, ApiState};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use caly_core::analytics::dashboard::{self, WEEKDAYS};
use caly_core::analytics::export::{csv_header, csv_line};
use caly_core::analytics::{DayRange, people, settle};
use caly_core::{App, TenantId};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/analytics/summary", serve("summary"))
        .route("/api/v1/analytics/daily", serve("daily"))
        .route("/api/v1/analytics/intents", serve("intents"))
        .route("/api/v1/analytics/heatmap", serve("heatmap"))
        .route("/api/v1/analytics/agents", serve("agents"))
        .route("/api/v1/analytics/agents/daily", serve("agents_daily"))
        .route("/api/v1/analytics/people", serve("people"))
        .route("/api/v1/analytics/teams", serve("teams"))
}

/// The GET handler of one table.
fn serve(name: &'static str) -> MethodRouter<ApiState> {
    get(
        move |state: State<ApiState>, access: Access<Viewer>, raw: RawQuery| {
            table(state, access, name, raw)
        },
    )
}

/// `/api/v1/analytics/agents/daily` for `agents_daily`.
pub(crate) fn table_path(name: &str) -> String {
    format!("/api/v1/analytics/{}", name.replace('_', "/"))
}

/// The range and format a request asks for.
#[derive(Deserialize, Default)]
pub(crate) struct RangeParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
}

impl RangeParams {
    /// The IST days asked for (the last 30 by default), or a 400.
    pub(crate) fn range(&self) -> Result<DayRange, ApiError> {
        let from = ist_date("from", given(&self.from))?;
        let to = ist_date("to", given(&self.to))?;
        DayRange::asked(from, to, Utc::now())
            .map_err(|e| ApiError::bad_request("invalid_range", e.to_string()))
    }

    /// True for CSV, false for JSON, or a 400.
    pub(crate) fn csv(&self) -> Result<bool, ApiError> {
        match self.format.as_deref().map(str::trim) {
            None | Some("") | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(_) => Err(ApiError::bad_request(
                "invalid_format",
                "'format' must be 'json' or 'csv'.",
            )),
        }
    }
}

/// The analytics tables, by name.
pub(crate) const TABLES: [&str; 8] = [
    "summary",
    "daily",
    "intents",
    "heatmap",
    "agents",
    "agents_daily",
    "people",
    "teams",
];

/// Settles the tenant's rollups, then reads one table: its JSON and its CSV columns and rows.
pub(crate) async fn read_table(
    app: &App,
    tenant: TenantId,
    name: &str,
    range: DayRange,
) -> Result<(Value, Vec<&'static str>, Vec<Value>), ApiError> {
    settle::settle_for_read(&app.db, tenant, Utc::now()).await?;
    let db = &app.db;
    Ok(match name {
        "summary" => {
            let summary = dashboard::summary(db, tenant, range).await?;
            let columns = vec![
                "period",
                "from",
                "to",
                "calls",
                "answered_by_ai",
                "resolved_by_ai",
                "resolved_pct",
                "handed_off",
                "missed",
                "avg_duration_secs",
                "minutes_billed",
                "spend_paise",
                "median_turn_latency_ms",
            ];
            let line = |period: &str, r: &DayRange, k: &dashboard::Kpis| {
                let mut v = json!(k);
                v["period"] = json!(period);
                v["from"] = json!(r.from);
                v["to"] = json!(r.to);
                v
            };
            let lines = vec![
                line("current", &summary.range, &summary.current),
                line("previous", &summary.previous_range, &summary.previous),
            ];
            (json!(summary), columns, lines)
        }
        "daily" => {
            let items = to_values(&dashboard::daily(db, tenant, range).await?);
            let columns = vec![
                "day",
                "calls",
                "answered_by_ai",
                "resolved_by_ai",
                "handed_off",
                "missed",
                "spend_paise",
            ];
            (
                json!({"range": range, "days": items}),
                columns,
                items.clone(),
            )
        }
        "intents" => {
            let items = to_values(&dashboard::intents(db, tenant, range).await?);
            let columns = vec![
                "intent",
                "calls",
                "resolved_by_ai",
                "handed_off",
                "resolution_pct",
                "handoff_pct",
                "avg_turns",
            ];
            (
                json!({"range": range, "intents": items}),
                columns,
                items.clone(),
            )
        }
        "heatmap" => {
            let map = dashboard::heatmap(db, tenant, range).await?;
            let lines: Vec<Value> =
                map.cells
                    .iter()
                    .enumerate()
                    .flat_map(|(d, hours)| {
                        hours.iter().enumerate().map(
                            move |(h, n)| json!({"weekday": WEEKDAYS[d], "hour": h, "calls": n}),
                        )
                    })
                    .collect();
            let body =
                json!({"range": range, "weekdays": WEEKDAYS, "cells": map.cells, "max": map.max});
            (body, vec!["weekday", "hour", "calls"], lines)
        }
        "agents" | "agents_daily" => {
            let items = if name == "agents" {
                to_values(&people::agents(db, tenant, range).await?)
            } else {
                to_values(&people::agents_daily(db, tenant, range).await?)
            };
            let mut columns = vec![
                "agent",
                "calls",
                "resolved_by_ai",
                "turns",
                "handoff_turns",
                "error_turns",
                "avg_latency_ms",
            ];
            if name == "agents_daily" {
                columns.insert(0, "day");
            }
            (
                json!({"range": range, "agents": items}),
                columns,
                items.clone(),
            )
        }
        "people" | "teams" => {
            let report = people::team(db, tenant, range).await?;
            if name == "people" {
                let items = to_values(&report.people);
                let columns = vec![
                    "user_id",
                    "name",
                    "phone",
                    "handoffs",
                    "handoff_minutes",
                    "tasks_closed",
                    "tasks_open",
                ];
                (
                    json!({"range": range, "people": items}),
                    columns,
                    items.clone(),
                )
            } else {
                let items = to_values(&report.teams);
                let columns = vec![
                    "team_id",
                    "name",
                    "members",
                    "handoffs",
                    "handoff_minutes",
                    "tasks_closed",
                    "tasks_open",
                ];
                (
                    json!({"range": range, "teams": items}),
                    columns,
                    items.clone(),
                )
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "unknown_table",
                format!(
                    "No analytics table '{name}'; there are {}.",
                    TABLES.join(", ")
                ),
            ));
        }
    })
}

fn to_values<T: Serialize>(items: &[T]) -> Vec<Value> {
    items.iter().map(|i| json!(i)).collect()
}

/// A CSV download of `rows` under `columns`.
pub(crate) fn csv_response(filename: &str, columns: &[&str], rows: &[Value]) -> Response {
    let mut body = csv_header(columns);
    for row in rows {
        let values: Vec<Value> = columns
            .iter()
            .map(|c| row.get(*c).cloned().unwrap_or(Value::Null))
            .collect();
        body.push_str(&csv_line(&values));
    }
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

async fn table(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
    name: &'static str,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params: RangeParams = query(raw)?;
    let range = params.range()?;
    let csv = params.csv()?;
    let (body, columns, rows) = read_table(&app, access.tenant_id(), name, range).await?;
    if csv {
        let filename = format!("{name}-{}-{}.csv", range.from, range.to);
        return Ok(csv_response(&filename, &columns, &rows));
    }
    Ok(Json(body).into_response())
}
