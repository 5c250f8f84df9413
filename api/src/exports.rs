//! `GET /api/v1/exports/{calls|turns|charges}` (viewers and up): every row of the tenant's
//! calls (by the IST day they happened), turns (by when they were spoken) or charges and
//! adjustments (by when they were written) in `from..=to`, as CSV (`format=csv`, the default)
//! or a JSON array (`format=json`). The body streams: rows are read a batch at a time in id
//! order and written as they come, so an export of any size keeps the api's memory flat.

use crate::access::{Access, Viewer};
use crate::analytics::RangeParams;
use crate::calls::query;
use crate::{ApiError, ApiState};
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use bytes::Bytes;
use caly_core::analytics::DayRange;
use caly_core::analytics::export::{ExportKind, batch, csv_header, csv_line, json_object};
use caly_core::tenancy::accounts::audit;
use caly_core::{App, TenantId};
use chrono::Utc;
use serde_json::json;

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/exports/calls", serve(ExportKind::Calls))
        .route("/api/v1/exports/turns", serve(ExportKind::Turns))
        .route("/api/v1/exports/charges", serve(ExportKind::Charges))
}

/// The GET handler of one kind.
fn serve(kind: ExportKind) -> MethodRouter<ApiState> {
    get(
        move |state: State<ApiState>, access: Access<Viewer>, raw: RawQuery| {
            export(state, access, kind, raw)
        },
    )
}

/// Where a streaming export is.
struct Cursor {
    app: App,
    tenant: TenantId,
    kind: ExportKind,
    range: DayRange,
    csv: bool,
    after: i64,
    rows: u64,
    started: bool,
    done: bool,
}

impl Cursor {
    /// The next piece of the body, or `None` once it is all written.
    async fn next(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.done {
            return None;
        }
        let columns = self.kind.columns();
        let mut out = String::new();
        if !self.started {
            self.started = true;
            out.push_str(&if self.csv {
                csv_header(columns)
            } else {
                "[".to_string()
            });
        }
        let rows = match batch(&self.app.db, self.tenant, self.kind, self.range, self.after).await {
            Ok(rows) => rows,
            Err(err) => {
                // Headers are sent: the only way left to say it failed is to cut the body short.
                tracing::error!(error = %err, kind = self.kind.name(), "export failed mid-stream");
                self.done = true;
                return Some(Err(std::io::Error::other("export failed")));
            }
        };
        for row in &rows {
            if self.csv {
                out.push_str(&csv_line(&row.values));
            } else {
                if self.rows > 0 {
                    out.push(',');
                }
                out.push('\n');
                out.push_str(&json_object(columns, &row.values).to_string());
            }
            self.rows += 1;
        }
        if let Some(last) = rows.last() {
            self.after = last.id;
        }
        if (rows.len() as u64) < caly_core::analytics::export::BATCH {
            self.done = true;
            if !self.csv {
                out.push_str("\n]\n");
            }
        }
        Some(Ok(Bytes::from(out)))
    }
}

async fn export(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
    kind: ExportKind,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params: RangeParams = query(raw)?;
    let range = params.range()?;
    // CSV unless JSON is asked for.
    let asked = params.format.as_deref().map(str::trim).unwrap_or_default();
    let csv = asked.is_empty() || params.csv()?;
    audit::record(
        &app.db,
        &access.actor(),
        "export.downloaded",
        &format!("export:{}", kind.name()),
        json!({"from": range.from, "to": range.to, "format": if csv { "csv" } else { "json" }}),
        Utc::now(),
    )
    .await?;
    let cursor = Cursor {
        app,
        tenant: access.tenant_id(),
        kind,
        range,
        csv,
        after: 0,
        rows: 0,
        started: false,
        done: false,
    };
    let stream = futures::stream::unfold(cursor, |mut cursor| async move {
        let piece = cursor.next().await?;
        Some((piece, cursor))
    });
    let (content_type, extension) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/json", "json")
    };
    let filename = format!(
        "attachment; filename=\"{}-{}-{}.{extension}\"",
        kind.name(),
        range.from,
        range.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
