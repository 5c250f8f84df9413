//! Raw exports of calls, turns and charges over a range, read in id order a batch at a time so
//! an export of any size holds one batch in memory. The api streams the batches as CSV or JSON.

use super::range::DayRange;
use super::settle::day_bounds;
use crate::CoreError;
use crate::platform::time::ist_text;
use caly_entities::status::LedgerKind;
use caly_entities::{call, ledger_entry, turn};
use caly_jobs::TenantId;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

/// Rows read per batch.
pub const BATCH: u64 = 1000;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// Calls that happened in the range (their IST day).
    Calls,
    /// Turns spoken in the range.
    Turns,
    /// Charges and adjustments written in the range.
    Charges,
}

impl ExportKind {
    /// Parses `calls`, `turns` or `charges`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "calls" => Some(ExportKind::Calls),
            "turns" => Some(ExportKind::Turns),
            "charges" => Some(ExportKind::Charges),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            ExportKind::Calls => "calls",
            ExportKind::Turns => "turns",
            ExportKind::Charges => "charges",
        }
    }

    /// The columns, in order (CSV header and JSON keys).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ExportKind::Calls => &[
                "id",
                "call_sid",
                "channel",
                "state",
                "happened_at",
                "happened_ist",
                "from_number",
                "to_number",
                "direction",
                "bot_answered",
                "duration_secs",
                "outcome",
                "outcome_reason",
                "dialed_number",
                "billing_status",
                "cost_paise",
            ],
            ExportKind::Turns => &[
                "id",
                "call_id",
                "seq",
                "created_at",
                "source",
                "status",
                "input",
                "reply",
                "intent",
                "agent",
                "verified",
                "handoff",
                "latency_ms",
                "error",
            ],
            ExportKind::Charges => &[
                "id",
                "created_at",
                "kind",
                "call_id",
                "amount_paise",
                "billable_seconds",
                "minutes",
                "rate_paise_per_min",
                "duration_source",
                "reason",
            ],
        }
    }
}

/// One exported row: its id (the cursor) and its values, in [`ExportKind::columns`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    /// Row id.
    pub id: i64,
    /// Values.
    pub values: Vec<Value>,
}

/// The next batch after row `after` (0 to start), at most [`BATCH`] rows, in id order.
pub async fn batch(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: ExportKind,
    range: DayRange,
    after: i64,
) -> Result<Vec<ExportRow>, CoreError> {
    let (start, _) = day_bounds(range.from);
    let (_, end) = day_bounds(range.to);
    Ok(match kind {
        ExportKind::Calls => call::Entity::find()
            .filter(call::Column::TenantId.eq(tenant.0))
            .filter(call::Column::Id.gt(after))
            .filter(call::Column::HappenedAt.gte(start))
            .filter(call::Column::HappenedAt.lt(end))
            .order_by_asc(call::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?
            .into_iter()
            .map(|c| ExportRow {
                id: c.id,
                values: vec![
                    json!(c.id),
                    json!(c.call_sid),
                    json!(c.channel.as_str()),
                    json!(c.state.as_str()),
                    json!(c.happened_at.to_rfc3339()),
                    json!(ist_text(c.happened_at)),
                    json!(c.from_number),
                    json!(c.to_number),
                    json!(c.direction),
                    json!(c.bot_answered),
                    json!(c.duration_secs),
                    json!(c.outcome),
                    json!(c.outcome_reason),
                    json!(c.dialed_number),
                    json!(c.billing_status.as_str()),
                    json!(c.cost_paise),
                ],
            })
            .collect(),
        ExportKind::Turns => turn::Entity::find()
            .filter(turn::Column::TenantId.eq(tenant.0))
            .filter(turn::Column::Id.gt(after))
            .filter(turn::Column::CreatedAt.gte(start))
            .filter(turn::Column::CreatedAt.lt(end))
            .order_by_asc(turn::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?
            .into_iter()
            .map(|t| {
                let latency = t
                    .answered_at
                    .map(|a| (a - t.created_at).num_milliseconds().max(0));
                ExportRow {
                    id: t.id,
                    values: vec![
                        json!(t.id),
                        json!(t.call_id),
                        json!(t.seq),
                        json!(t.created_at.to_rfc3339()),
                        json!(t.source),
                        json!(t.status),
                        json!(t.input),
                        json!(t.reply),
                        json!(t.intent),
                        json!(t.agent),
                        json!(t.verified),
                        json!(t.handoff),
                        json!(latency),
                        json!(t.error),
                    ],
                }
            })
            .collect(),
        ExportKind::Charges => ledger_entry::Entity::find()
            .filter(ledger_entry::Column::TenantId.eq(tenant.0))
            .filter(ledger_entry::Column::Id.gt(after))
            .filter(ledger_entry::Column::Kind.is_in([LedgerKind::Charge, LedgerKind::Adjustment]))
            .filter(ledger_entry::Column::CreatedAt.gte(start))
            .filter(ledger_entry::Column::CreatedAt.lt(end))
            .order_by_asc(ledger_entry::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?
            .into_iter()
            .map(|e| ExportRow {
                id: e.id,
                values: vec![
                    json!(e.id),
                    json!(e.created_at.to_rfc3339()),
                    json!(e.kind.as_str()),
                    json!(e.call_id),
                    json!(e.amount_paise),
                    json!(e.billable_seconds),
                    json!(e.minutes),
                    json!(e.rate_paise_per_min),
                    json!(e.duration_source),
                    json!(e.reason),
                ],
            })
            .collect(),
    })
}

/// One CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-`,
/// `@`, tab or carriage return is prefixed with `'` so a spreadsheet does not run it as a formula.
pub fn csv_field(value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => return other.to_string(),
    };
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !looks_numeric(&text) {
        format!("'{text}")
    } else {
        text
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// `+919812345678` and `-12` are data, not formulas.
fn looks_numeric(text: &str) -> bool {
    text.len() > 1 && text[1..].chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// One CSV line (with its `\r\n`).
pub fn csv_line(values: &[Value]) -> String {
    let mut line = values.iter().map(csv_field).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The CSV header line of a kind.
pub fn csv_header(columns: &[&str]) -> String {
    let values: Vec<Value> = columns.iter().map(|c| json!(c)).collect();
    csv_line(&values)
}

/// One row as a JSON object keyed by the columns.
pub fn json_object(columns: &[&str], values: &[Value]) -> Value {
    Value::Object(
        columns
            .iter()
            .zip(values)
            .map(|(c, v)| ((*c).to_string(), v.clone()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        assert_eq!(csv_field(&json!("plain")), "plain");
        assert_eq!(csv_field(&json!("a, \"b\"")), "\"a, \"\"b\"\"\"");
        assert_eq!(csv_field(&json!("two\nlines")), "\"two\nlines\"");
        assert_eq!(csv_field(&json!("=HYPERLINK(1)")), "'=HYPERLINK(1)");
        assert_eq!(csv_field(&json!("\t=1+1")), "'\t=1+1");
        assert_eq!(csv_field(&json!("+919812345678")), "+919812345678");
        assert_eq!(csv_field(&json!(null)), "");
        assert_eq!(csv_field(&json!(6000)), "6000");
        assert_eq!(csv_field(&json!(true)), "true");
        assert_eq!(csv_line(&[json!(1), json!(null)]), "1,\r\n");
    }
}
