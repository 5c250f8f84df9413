//! The home dashboard's numbers: KPIs against the previous period, calls per day, intents, and
//! the busiest hours, all read from the rollups.

use super::range::DayRange;
use super::read::{Grouping, sums, total};
use super::rollup::{HOUR, INTENT, LATENCY, NO_INTENT, Sums, median_bucket};
use crate::CoreError;
use caly_jobs::TenantId;
use chrono::{Datelike, NaiveDate};
use sea_orm::ConnectionTrait;
use serde::Serialize;

/// The headline numbers of one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    /// Calls that happened.
    pub calls: i64,
    /// Calls the AI answered.
    pub answered_by_ai: i64,
    /// Calls the AI resolved.
    pub resolved_by_ai: i64,
    /// Resolved by the AI, as a percentage of the calls it answered (`None` when it answered none).
    pub resolved_pct: Option<f64>,
    /// Calls handed to a person.
    pub handed_off: i64,
    /// Missed calls.
    pub missed: i64,
    /// Mean duration of the calls with a known one, seconds.
    pub avg_duration_secs: Option<i64>,
    /// Minutes billed.
    pub minutes_billed: i64,
    /// What the calls cost, paise.
    pub spend_paise: i64,
    /// The median answered turn's latency, ms (the lower median, to two significant figures).
    pub median_turn_latency_ms: Option<i64>,
}

impl Kpis {
    /// The KPIs of summed rollups and the period's latency buckets.
    pub fn of(sums: &Sums, latency_buckets: &[(i64, i64)]) -> Self {
        Kpis {
            calls: sums.calls,
            answered_by_ai: sums.answered,
            resolved_by_ai: sums.resolved,
            resolved_pct: percent(sums.resolved, sums.answered),
            handed_off: sums.handed_off,
            missed: sums.missed,
            avg_duration_secs: (sums.durations > 0)
                .then(|| (sums.duration_secs as f64 / sums.durations as f64).round() as i64),
            minutes_billed: sums.minutes,
            spend_paise: sums.spend_paise,
            median_turn_latency_ms: median_bucket(latency_buckets),
        }
    }
}

/// `part` of `whole` in percent, to one decimal (`None` when `whole` is zero).
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// A period's KPIs next to the previous period's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The period asked for.
    pub range: DayRange,
    /// Its KPIs.
    pub current: Kpis,
    /// The same number of days before it.
    pub previous_range: DayRange,
    /// Their KPIs.
    pub previous: Kpis,
}

/// The latency buckets (ms, count) of a range.
pub async fn latency_buckets(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<Vec<(i64, i64)>, CoreError> {
    Ok(sums(db, tenant, LATENCY, range, Grouping::Key)
        .await?
        .into_iter()
        .filter_map(|g| Some((g.key?.parse().ok()?, g.sums.latencies)))
        .collect())
}

/// The KPIs of one range.
pub async fn kpis(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<Kpis, CoreError> {
    let sums = total(db, tenant, HOUR, range).await?;
    let buckets = latency_buckets(db, tenant, range).await?;
    Ok(Kpis::of(&sums, &buckets))
}

/// The KPIs of `range` and of the period before it.
pub async fn summary(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<Summary, CoreError> {
    let previous_range = range.previous();
    let (current, previous) =
        futures::try_join!(kpis(db, tenant, range), kpis(db, tenant, previous_range))?;
    Ok(Summary {
        range,
        current,
        previous_range,
        previous,
    })
}

/// One day of the trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayPoint {
    /// The IST day.
    pub day: NaiveDate,
    /// Calls.
    pub calls: i64,
    /// Calls the AI answered.
    pub answered_by_ai: i64,
    /// Resolved by the AI.
    pub resolved_by_ai: i64,
    /// Handed off.
    pub handed_off: i64,
    /// Missed.
    pub missed: i64,
    /// Spend, paise.
    pub spend_paise: i64,
}

/// Calls per day over the range, every day present (zeroes where there were none).
pub async fn daily(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<Vec<DayPoint>, CoreError> {
    let groups = sums(db, tenant, HOUR, range, Grouping::Day).await?;
    let by_day: std::collections::HashMap<NaiveDate, Sums> = groups
        .into_iter()
        .filter_map(|g| Some((g.day?, g.sums)))
        .collect();
    Ok(range
        .each_day()
        .map(|day| {
            let s = by_day.get(&day).copied().unwrap_or_default();
            DayPoint {
                day,
                calls: s.calls,
                answered_by_ai: s.answered,
                resolved_by_ai: s.resolved,
                handed_off: s.handed_off,
                missed: s.missed,
                spend_paise: s.spend_paise,
            }
        })
        .collect())
}

/// One intent's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentRow {
    /// The intent (`""`: calls with no conversation).
    pub intent: String,
    /// Calls with a turn of this intent.
    pub calls: i64,
    /// Of them, resolved by the AI.
    pub resolved_by_ai: i64,
    /// Of them, handed off.
    pub handed_off: i64,
    /// Resolved by the AI, % of the calls.
    pub resolution_pct: Option<f64>,
    /// Handed off, % of the calls.
    pub handoff_pct: Option<f64>,
    /// Mean turns per call.
    pub avg_turns: Option<f64>,
}

/// Calls per intent over the range, the most frequent first. A call with several intents
/// counts under each, as the call list's intent filter finds it under each.
pub async fn intents(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<Vec<IntentRow>, CoreError> {
    let mut rows: Vec<IntentRow> = sums(db, tenant, INTENT, range, Grouping::Key)
        .await?
        .into_iter()
        .filter(|g| g.sums.calls > 0)
        .map(|g| {
            let s = g.sums;
            IntentRow {
                intent: g.key.unwrap_or_else(|| NO_INTENT.to_string()),
                calls: s.calls,
                resolved_by_ai: s.resolved,
                handed_off: s.handed_off,
                resolution_pct: percent(s.resolved, s.calls),
                handoff_pct: percent(s.handed_off, s.calls),
                avg_turns: (s.calls > 0)
                    .then(|| (s.turns as f64 * 10.0 / s.calls as f64).round() / 10.0),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.intent.cmp(&b.intent)));
    Ok(rows)
}

/// Calls by IST weekday and hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heatmap {
    /// `cells[weekday][hour]`, Monday first, hours 0–23 IST.
    pub cells: Vec<Vec<i64>>,
    /// The busiest cell's count.
    pub max: i64,
}

/// The weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Calls per weekday × hour over the range.
pub async fn heatmap(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<Heatmap, CoreError> {
    let mut cells = vec![vec![0i64; 24]; 7];
    for group in sums(db, tenant, HOUR, range, Grouping::DayKey).await? {
        let (Some(day), Some(hour)) = (group.day, group.key.and_then(|k| k.parse::<usize>().ok()))
        else {
            continue;
        };
        if hour < 24 {
            cells[day.weekday().num_days_from_monday() as usize][hour] += group.sums.calls;
        }
    }
    let max = cells.iter().flatten().copied().max().unwrap_or(0);
    Ok(Heatmap { cells, max })
}
