//! A tenant's money month by month (IST calendar months): what its calls were charged, the
//! adjustments, credits and payments, and the minutes billed. One aggregate query per month, so
//! the page costs the same for a store with ten calls or a million.

use crate::CoreError;
use crate::platform::time;
use caly_entities::ledger_entry;
use caly_entities::status::LedgerKind;
use caly_jobs::TenantId;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, Func, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

/// One IST month of a tenant's ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthSummary {
    /// `YYYY-MM`.
    pub month: String,
    /// Call charges.
    pub charges_paise: i64,
    /// Corrections to charges (either sign).
    pub adjustments_paise: i64,
    /// Credits (negative: they lower the balance).
    pub credits_paise: i64,
    /// Payments (negative: they lower the balance).
    pub payments_paise: i64,
    /// What the month added to the balance.
    pub net_paise: i64,
    /// Minutes billed (charges; adjustments' minutes replace the charge's in the call detail).
    pub minutes: i64,
    /// Calls charged.
    pub calls: i64,
}

/// `SUM(column)` as a BIGINT (PostgreSQL sums BIGINTs as NUMERIC).
fn bigint_sum(column: ledger_entry::Column) -> SimpleExpr {
    Expr::from(Func::cast_as(Func::sum(Expr::col(column)), "BIGINT"))
}

/// The first day of the IST month `back` months before the one holding `date`.
fn month_start(date: NaiveDate, back: u32) -> NaiveDate {
    let index = date.year() * 12 + date.month0() as i32 - back as i32;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .expect("the first of a month exists")
}

/// The tenant's last `months` IST months, newest first, ending with the month holding `now`.
pub async fn monthly(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    months: u32,
    now: DateTime<Utc>,
) -> Result<Vec<MonthSummary>, CoreError> {
    let today = time::ist_date(now);
    let mut summaries = Vec::new();
    for back in 0..months {
        let (start, end) = (
            month_start(today, back),
            month_start(today, back)
                .checked_add_months(chrono::Months::new(1))
                .expect("a month later exists"),
        );
        let rows: Vec<(LedgerKind, Option<i64>, Option<i64>, i64)> = ledger_entry::Entity::find()
            .select_only()
            .column(ledger_entry::Column::Kind)
            .column_as(bigint_sum(ledger_entry::Column::AmountPaise), "amount")
            .column_as(bigint_sum(ledger_entry::Column::Minutes), "minutes")
            .column_as(ledger_entry::Column::Id.count(), "n")
            .filter(ledger_entry::Column::TenantId.eq(tenant.0))
            .filter(ledger_entry::Column::CreatedAt.gte(time::ist_day_start(start)))
            .filter(ledger_entry::Column::CreatedAt.lt(time::ist_day_start(end)))
            .group_by(ledger_entry::Column::Kind)
            .into_tuple()
            .all(db)
            .await?;
        let mut month = MonthSummary {
            month: start.format("%Y-%m").to_string(),
            ..MonthSummary::default()
        };
        for (kind, amount, minutes, n) in rows {
            let amount = amount.unwrap_or(0);
            month.net_paise += amount;
            match kind {
                LedgerKind::Charge => {
                    month.charges_paise += amount;
                    month.minutes += minutes.unwrap_or(0);
                    month.calls += n;
                }
                LedgerKind::Adjustment => month.adjustments_paise += amount,
                LedgerKind::Credit => month.credits_paise += amount,
                LedgerKind::Payment => month.payments_paise += amount,
            }
        }
        summaries.push(month);
    }
    Ok(summaries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_step_back_across_years() {
        let day = NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
        assert_eq!(
            month_start(day, 0),
            NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()
        );
        assert_eq!(
            month_start(day, 2),
            NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()
        );
        assert_eq!(
            month_start(day, 14),
            NaiveDate::from_ymd_opt(2024, 12, 1).unwrap()
        );
    }
}
