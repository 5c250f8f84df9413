//! Reading rollups: the sums of one dimension over a range of IST days, grouped by key, by day,
//! or both. Every read is one indexed aggregate over the rollup rows, never over calls.

use super::range::DayRange;
use super::rollup::Sums;
use crate::CoreError;
use caly_entities::analytics_rollup::{self, Column};
use caly_jobs::TenantId;
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, Func, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

/// The summed columns, in [`Sums`] order.
const SUMMED: [(Column, &str); 14] = [
    (Column::Calls, "calls"),
    (Column::Answered, "answered"),
    (Column::Resolved, "resolved"),
    (Column::HandedOff, "handed_off"),
    (Column::Callbacks, "callbacks"),
    (Column::Missed, "missed"),
    (Column::DurationSecs, "duration_secs"),
    (Column::Durations, "durations"),
    (Column::Minutes, "minutes"),
    (Column::SpendPaise, "spend_paise"),
    (Column::Turns, "turns"),
    (Column::LatencyMs, "latency_ms"),
    (Column::Latencies, "latencies"),
    (Column::Errors, "errors"),
];

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One total.
    Total,
    /// Per key.
    Key,
    /// Per day.
    Day,
    /// Per day and key.
    DayKey,
}

/// A row as the aggregate reads it.
#[derive(FromQueryResult)]
struct SumRow {
    day: Option<NaiveDate>,
    key: Option<String>,
    calls: i64,
    answered: i64,
    resolved: i64,
    handed_off: i64,
    callbacks: i64,
    missed: i64,
    duration_secs: i64,
    durations: i64,
    minutes: i64,
    spend_paise: i64,
    turns: i64,
    latency_ms: i64,
    latencies: i64,
    errors: i64,
}

/// One grouped sum: its day and key where grouped by them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The day, when grouped by day.
    pub day: Option<NaiveDate>,
    /// The key, when grouped by key.
    pub key: Option<String>,
    /// The sums.
    pub sums: Sums,
}

fn summed(column: Column) -> SimpleExpr {
    // PostgreSQL sums BIGINT to NUMERIC; both backends read back a BIGINT.
    let sum = Expr::from(Func::sum(Expr::col(column)));
    Func::cast_as(Func::coalesce([sum, Expr::val(0i64)]), Alias::new("BIGINT")).into()
}

fn scoped(tenant: TenantId, dimension: &str, range: DayRange) -> Select<analytics_rollup::Entity> {
    analytics_rollup::Entity::find()
        .select_only()
        .filter(Column::TenantId.eq(tenant.0))
        .filter(Column::Dimension.eq(dimension))
        .filter(Column::Day.gte(range.from))
        .filter(Column::Day.lte(range.to))
}

/// The sums of `dimension` over `range`, grouped as asked, ordered by day then key.
pub async fn sums(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    dimension: &str,
    range: DayRange,
    grouping: Grouping,
) -> Result<Vec<Group>, CoreError> {
    let mut query = scoped(tenant, dimension, range);
    let by_day = matches!(grouping, Grouping::Day | Grouping::DayKey);
    let by_key = matches!(grouping, Grouping::Key | Grouping::DayKey);
    // Ungrouped, day and key are read as MIN(…): every row has both, typed, on both backends.
    query = if by_day {
        query.column(Column::Day).group_by(Column::Day)
    } else {
        query.column_as(Column::Day.min(), "day")
    };
    query = if by_key {
        query.column(Column::Key).group_by(Column::Key)
    } else {
        query.column_as(Column::Key.min(), "key")
    };
    for (column, alias) in SUMMED {
        query = query.column_as(summed(column), alias);
    }
    if by_day {
        query = query.order_by_asc(Column::Day);
    }
    if by_key {
        query = query.order_by_asc(Column::Key);
    }
    let rows = query.into_model::<SumRow>().all(db).await?;
    let groups = rows
        .into_iter()
        .map(|r| Group {
            day: r.day.filter(|_| by_day),
            key: r.key.filter(|_| by_key),
            sums: Sums {
                calls: r.calls,
                answered: r.answered,
                resolved: r.resolved,
                handed_off: r.handed_off,
                callbacks: r.callbacks,
                missed: r.missed,
                duration_secs: r.duration_secs,
                durations: r.durations,
                minutes: r.minutes,
                spend_paise: r.spend_paise,
                turns: r.turns,
                latency_ms: r.latency_ms,
                latencies: r.latencies,
                errors: r.errors,
            },
        })
        .collect();
    Ok(groups)
}

/// The one total of `dimension` over `range` (zeroes when there is nothing).
pub async fn total(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    dimension: &str,
    range: DayRange,
) -> Result<Sums, CoreError> {
    Ok(sums(db, tenant, dimension, range, Grouping::Total)
        .await?
        .into_iter()
        .next()
        .map(|g| g.sums)
        .unwrap_or_default())
}
