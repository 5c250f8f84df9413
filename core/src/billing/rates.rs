//! Billing rules: per-minute rates in integer paise, ceil to the minute, rates with history.

use crate::CoreError;
use caly_entities::tenant_rate;
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// The default rate: ₹30 per minute.
pub const DEFAULT_RATE_PAISE_PER_MIN: i64 = 3000;

/// Billable minutes: any started minute counts; 0 seconds is 0 minutes.
pub fn billable_minutes(seconds: i64) -> i64 {
    if seconds <= 0 {
        0
    } else {
        seconds / 60 + i64::from(seconds % 60 != 0)
    }
}

/// The amount for a call in paise, saturating rather than overflowing on absurd input.
pub fn charge_paise(seconds: i64, rate_paise_per_min: i64) -> i64 {
    billable_minutes(seconds).saturating_mul(rate_paise_per_min.max(0))
}

/// One entry of a tenant's rate history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePoint {
    /// Rate in paise per started minute.
    pub paise_per_min: i64,
    /// The instant from which this rate applies.
    pub effective_from: DateTime<Utc>,
}

/// The rate in force at `at`: the latest entry whose `effective_from` is not after `at`.
/// Falls back to the earliest entry (a call before any rate existed) or the default.
pub fn rate_at(history: &[RatePoint], at: DateTime<Utc>) -> i64 {
    history
        .iter()
        .filter(|r| r.effective_from <= at)
        .max_by_key(|r| r.effective_from)
        .or_else(|| history.iter().min_by_key(|r| r.effective_from))
        .map_or(DEFAULT_RATE_PAISE_PER_MIN, |r| r.paise_per_min)
}

/// A tenant's rate history.
pub async fn rate_history(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<RatePoint>, CoreError> {
    Ok(tenant_rate::Entity::find()
        .filter(tenant_rate::Column::TenantId.eq(tenant.0))
        .all(db)
        .await?
        .into_iter()
        .map(|r| RatePoint {
            paise_per_min: r.paise_per_min,
            effective_from: r.effective_from,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn minutes_are_ceiled() {
        for (secs, mins) in [
            (0, 0),
            (1, 1),
            (59, 1),
            (60, 1),
            (61, 2),
            (3600, 60),
            (-5, 0),
        ] {
            assert_eq!(billable_minutes(secs), mins, "{secs}s");
        }
        assert_eq!(charge_paise(61, 3000), 6000);
        assert_eq!(charge_paise(i64::MAX, 3000), i64::MAX);
    }

    #[test]
    fn rate_history_picks_the_rate_in_force() {
        let t = |d| Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap();
        let history = [
            RatePoint {
                paise_per_min: 3000,
                effective_from: t(1),
            },
            RatePoint {
                paise_per_min: 2500,
                effective_from: t(15),
            },
        ];
        assert_eq!(rate_at(&history, t(10)), 3000);
        assert_eq!(rate_at(&history, t(15)), 2500);
        assert_eq!(rate_at(&history, t(20)), 2500);
        assert_eq!(rate_at(&[], t(20)), DEFAULT_RATE_PAISE_PER_MIN);
    }
}
