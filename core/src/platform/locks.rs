//! Named leases in the database, so periodic work runs in one scheduler replica at a time.

use caly_entities::scheduler_lock;
use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::time::Duration;

/// Takes or renews the lease `name` for `holder` until `now + ttl`. True when `holder` has it.
pub async fn try_acquire(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30));
    let inserted = scheduler_lock::Entity::insert(scheduler_lock::ActiveModel {
        name: Set(name.to_string()),
        holder: Set(holder.to_string()),
        expires_at: Set(until),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        return Ok(true);
    }
    let renewed = scheduler_lock::Entity::update_many()
        .col_expr(scheduler_lock::Column::Holder, Expr::value(holder))
        .col_expr(scheduler_lock::Column::ExpiresAt, Expr::value(until))
        .filter(scheduler_lock::Column::Name.eq(name))
        .filter(
            Condition::any()
                .add(scheduler_lock::Column::Holder.eq(holder))
                .add(scheduler_lock::Column::ExpiresAt.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}
