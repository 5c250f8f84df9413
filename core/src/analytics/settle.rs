//! Keeping the rollups true. Triggers on `calls` and `turns` (migration
//! `m20261204_000001_analytics`) note every call whose counted facts changed in
//! `rollup_changes`, in the same commit as the change. Settling takes those notes, recounts
//! every IST day they touch from scratch (the day a call is in now, and the day it was last
//! counted in, `calls.rolled_day`), and deletes exactly the notes it read: a note committed
//! meanwhile stays for the next settle, so nothing is missed and a recount is never wrong,
//! only sometimes repeated.

use super::rollup::{CallFact, RollupRow, TurnFact, day_rows};
use crate::CoreError;
use crate::platform::db::portable_statement;
use crate::platform::time::{ist_date, ist_day_start};
use caly_entities::status::LedgerKind;
use caly_entities::{analytics_rollup, call, ledger_entry, turn};
use caly_jobs::TenantId;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Notes taken per settle transaction.
const NOTES_PER_ROUND: u64 = 20_000;
/// Ids per `IN (…)` list.
const CHUNK: usize = 500;

/// What a settle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Change notes consumed.
    pub notes: u64,
    /// Days recounted.
    pub days: u64,
}

/// Whether the tenant has change notes waiting (a read; no transaction).
pub async fn pending(db: &impl ConnectionTrait, tenant: TenantId) -> Result<bool, CoreError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(portable_statement(
            backend,
            "SELECT id FROM rollup_changes WHERE tenant_id = $1 LIMIT 1",
            vec![tenant.0.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Brings the tenant's rollups up to date with every change committed so far. Cheap when
/// nothing changed (one indexed read); otherwise recounts the touched days.
pub async fn settle<C>(db: &C, tenant: TenantId, now: DateTime<Utc>) -> Result<Settled, CoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    settle_rounds(db, tenant, now, u32::MAX).await
}

/// What a page or an API read settles before it reads: at most one round of
/// [`NOTES_PER_ROUND`] notes, so a request never carries a backlog (after a bulk load, or the
/// migration's first count of old calls); the scheduler settles the rest in the background,
/// and until then the numbers lag by the changes still noted.
pub async fn settle_for_read<C>(
    db: &C,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<Settled, CoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    settle_rounds(db, tenant, now, 1).await
}

async fn settle_rounds<C>(
    db: &C,
    tenant: TenantId,
    now: DateTime<Utc>,
    max_rounds: u32,
) -> Result<Settled, CoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut total = Settled::default();
    let mut rounds = 0;
    while rounds < max_rounds && pending(db, tenant).await? {
        rounds += 1;
        let round = settle_round(db, tenant, now).await?;
        total.notes += round.notes;
        total.days += round.days;
        if round.notes == 0 {
            break;
        }
    }
    Ok(total)
}

/// Settles every tenant with change notes waiting (at most `max_tenants` of them per call), so
/// the rollups stay current and the notes do not pile up for a store nobody is looking at.
/// Returns how many tenants were settled.
pub async fn settle_pending<C>(
    db: &C,
    now: DateTime<Utc>,
    max_tenants: u64,
) -> Result<u64, CoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(portable_statement(
            backend,
            "SELECT DISTINCT tenant_id FROM rollup_changes LIMIT $1",
            vec![(max_tenants as i64).into()],
        ))
        .await?;
    let mut settled = 0;
    for row in rows {
        let tenant = TenantId(row.try_get::<i64>("", "tenant_id")?);
        // One store's failure must not hold up the others'.
        match settle(db, tenant, now).await {
            Ok(_) => settled += 1,
            Err(error) => tracing::warn!(tenant = tenant.0, %error, "settling rollups failed"),
        }
    }
    Ok(settled)
}

/// Takes the tenant's settle lock: a write first, so settles of one tenant run one at a time
/// (and SQLite takes its write lock before anything is read).
async fn lock(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let backend = txn.get_database_backend();
    txn.execute_raw(portable_statement(
        backend,
        "INSERT INTO rollup_locks (tenant_id, settled_at) VALUES ($1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET settled_at = excluded.settled_at",
        vec![tenant.0.into(), now.into()],
    ))
    .await?;
    Ok(())
}

async fn settle_round<C>(db: &C, tenant: TenantId, now: DateTime<Utc>) -> Result<Settled, CoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    lock(&txn, tenant, now).await?;
    let backend = txn.get_database_backend();
    let notes = txn
        .query_all_raw(portable_statement(
            backend,
            "SELECT id, call_id FROM rollup_changes WHERE tenant_id = $1 ORDER BY id LIMIT $2",
            vec![tenant.0.into(), (NOTES_PER_ROUND as i64).into()],
        ))
        .await?;
    let mut note_ids = Vec::with_capacity(notes.len());
    let mut call_ids = BTreeSet::new();
    for row in &notes {
        note_ids.push(row.try_get::<i64>("", "id")?);
        call_ids.insert(row.try_get::<i64>("", "call_id")?);
    }
    let call_ids: Vec<i64> = call_ids.into_iter().collect();
    let mut days = BTreeSet::new();
    let mut now_in: BTreeMap<NaiveDate, Vec<i64>> = BTreeMap::new();
    for chunk in call_ids.chunks(CHUNK) {
        let rows: Vec<(i64, DateTime<Utc>, Option<NaiveDate>)> = call::Entity::find()
            .select_only()
            .column(call::Column::Id)
            .column(call::Column::HappenedAt)
            .column_as(Expr::col(Alias::new("rolled_day")), "rolled_day")
            .filter(call::Column::TenantId.eq(tenant.0))
            .filter(call::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(&txn)
            .await?;
        for (id, happened_at, rolled_day) in rows {
            let day = ist_date(happened_at);
            days.insert(day);
            if let Some(old) = rolled_day {
                days.insert(old);
            }
            if rolled_day != Some(day) {
                now_in.entry(day).or_default().push(id);
            }
        }
    }
    for day in &days {
        recount_day(&txn, tenant, *day).await?;
    }
    for (day, ids) in now_in {
        mark_rolled(&txn, tenant, day, &ids).await?;
    }
    for chunk in note_ids.chunks(CHUNK) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect();
        let sql = format!(
            "DELETE FROM rollup_changes WHERE id IN ({})",
            placeholders.join(", ")
        );
        let values: Vec<sea_orm::Value> = chunk.iter().map(|id| (*id).into()).collect();
        txn.execute_raw(portable_statement(backend, &sql, values))
            .await?;
    }
    txn.commit().await?;
    Ok(Settled {
        notes: note_ids.len() as u64,
        days: days.len() as u64,
    })
}

/// Records the day these calls are now counted in.
async fn mark_rolled(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    day: NaiveDate,
    ids: &[i64],
) -> Result<(), CoreError> {
    for chunk in ids.chunks(CHUNK) {
        call::Entity::update_many()
            .col_expr(Alias::new("rolled_day"), Expr::value(day))
            .filter(call::Column::TenantId.eq(tenant.0))
            .filter(call::Column::Id.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The calls of one IST day, as a subquery of their ids.
fn day_calls(tenant: TenantId, day: NaiveDate) -> sea_orm::sea_query::SelectStatement {
    let (start, end) = day_bounds(day);
    Query::select()
        .column(call::Column::Id)
        .from(call::Entity)
        .and_where(call::Column::TenantId.eq(tenant.0))
        .and_where(call::Column::HappenedAt.gte(start))
        .and_where(call::Column::HappenedAt.lt(end))
        .to_owned()
}

/// The UTC instants an IST day starts and ends at.
pub fn day_bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = day.succ_opt().unwrap_or(day);
    (ist_day_start(day), ist_day_start(next))
}

/// The facts of one IST day, read from calls, turns and the ledger.
pub async fn day_facts(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    day: NaiveDate,
) -> Result<(Vec<CallFact>, Vec<TurnFact>, HashMap<i64, i64>), CoreError> {
    let (start, end) = day_bounds(day);
    let calls = call::Entity::find()
        .filter(call::Column::TenantId.eq(tenant.0))
        .filter(call::Column::HappenedAt.gte(start))
        .filter(call::Column::HappenedAt.lt(end))
        .all(db)
        .await?
        .into_iter()
        .map(|c| CallFact {
            id: c.id,
            happened_at: c.happened_at,
            state: c.state,
            bot_answered: c.bot_answered,
            duration_secs: c.duration_secs,
            cost_paise: c.cost_paise,
            outcome: c.outcome,
            dialed_number: c.dialed_number,
        })
        .collect();
    // The subquery keeps to the tenant's calls; filtering on the turns' own tenant column as
    // well can lead PostgreSQL to intersect with every turn of the tenant.
    let turns = turn::Entity::find()
        .filter(turn::Column::CallId.in_subquery(day_calls(tenant, day)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| TurnFact {
            call_id: t.call_id,
            intent: t.intent,
            agent: t.agent,
            handoff: t.handoff,
            error: t.error.is_some(),
            created_at: t.created_at,
            answered_at: t.answered_at,
        })
        .collect();
    let billed: Vec<(Option<i64>, Option<i64>)> = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::CallId)
        .column(ledger_entry::Column::Minutes)
        .filter(ledger_entry::Column::Kind.is_in([LedgerKind::Charge, LedgerKind::Adjustment]))
        .filter(ledger_entry::Column::CallId.in_subquery(day_calls(tenant, day)))
        .order_by_asc(ledger_entry::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    // The latest charge or adjustment holds the minutes the call is billed on now.
    let minutes = billed
        .into_iter()
        .filter_map(|(call, minutes)| Some((call?, minutes.unwrap_or(0))))
        .collect();
    Ok((calls, turns, minutes))
}

/// Replaces one IST day's rollup rows with a fresh count.
pub async fn recount_day(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    day: NaiveDate,
) -> Result<(), CoreError> {
    let (calls, turns, minutes) = day_facts(txn, tenant, day).await?;
    let rows = day_rows(&calls, &turns, &minutes);
    analytics_rollup::Entity::delete_many()
        .filter(analytics_rollup::Column::TenantId.eq(tenant.0))
        .filter(analytics_rollup::Column::Day.eq(day))
        .exec(txn)
        .await?;
    store_rows(txn, tenant, day, rows).await
}

/// Inserts a day's rows.
async fn store_rows(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    day: NaiveDate,
    rows: Vec<RollupRow>,
) -> Result<(), CoreError> {
    let models: Vec<analytics_rollup::ActiveModel> = rows
        .into_iter()
        .map(|(dimension, key, s)| analytics_rollup::ActiveModel {
            tenant_id: Set(tenant.0),
            day: Set(day),
            dimension: Set(dimension.to_string()),
            key: Set(key),
            calls: Set(s.calls),
            answered: Set(s.answered),
            resolved: Set(s.resolved),
            handed_off: Set(s.handed_off),
            callbacks: Set(s.callbacks),
            missed: Set(s.missed),
            duration_secs: Set(s.duration_secs),
            durations: Set(s.durations),
            minutes: Set(s.minutes),
            spend_paise: Set(s.spend_paise),
            turns: Set(s.turns),
            latency_ms: Set(s.latency_ms),
            latencies: Set(s.latencies),
            errors: Set(s.errors),
            ..Default::default()
        })
        .collect();
    for chunk in models.chunks(CHUNK) {
        analytics_rollup::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// The first and last moment a tenant's calls happened.
type FirstLast = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Recounts every day the tenant has calls on and forgets its change notes (after a bulk
/// load, or to repair). Runs one transaction per day. For a tenant that is not changing
/// meanwhile (a seed, a repair with its calls quiet): a change committed during the rebuild
/// can lose its note. A live tenant is kept true by [`settle`].
pub async fn rebuild<C>(db: &C, tenant: TenantId, now: DateTime<Utc>) -> Result<u64, CoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let backend = db.get_database_backend();
    let last_note = db
        .query_one_raw(portable_statement(
            backend,
            "SELECT MAX(id) AS id FROM rollup_changes WHERE tenant_id = $1",
            vec![tenant.0.into()],
        ))
        .await?
        .and_then(|row| row.try_get::<Option<i64>>("", "id").ok().flatten());
    let bounds: Option<FirstLast> = call::Entity::find()
        .select_only()
        .column_as(call::Column::HappenedAt.min(), "first")
        .column_as(call::Column::HappenedAt.max(), "last")
        .filter(call::Column::TenantId.eq(tenant.0))
        .into_tuple()
        .one(db)
        .await?;
    let txn = db.begin().await?;
    lock(&txn, tenant, now).await?;
    analytics_rollup::Entity::delete_many()
        .filter(analytics_rollup::Column::TenantId.eq(tenant.0))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let mut days = 0;
    if let Some((Some(first), Some(last))) = bounds {
        let mut day = ist_date(first);
        let last = ist_date(last);
        while day <= last {
            let txn = db.begin().await?;
            lock(&txn, tenant, now).await?;
            recount_day(&txn, tenant, day).await?;
            let (start, end) = day_bounds(day);
            call::Entity::update_many()
                .col_expr(Alias::new("rolled_day"), Expr::value(day))
                .filter(call::Column::TenantId.eq(tenant.0))
                .filter(call::Column::HappenedAt.gte(start))
                .filter(call::Column::HappenedAt.lt(end))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            days += 1;
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
    }
    if let Some(last_note) = last_note {
        db.execute_raw(portable_statement(
            backend,
            "DELETE FROM rollup_changes WHERE tenant_id = $1 AND id <= $2",
            vec![tenant.0.into(), last_note.into()],
        ))
        .await?;
    }
    Ok(days)
}
