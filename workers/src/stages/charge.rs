//! `charge`: bills a call that reached a final state, exactly once, in integer paise.

use super::ingest::billing_status;
use super::{StageError, StageOutcome};
use caly_core::App;
use caly_core::billing::{RatePoint, billable_minutes, charge_paise, rate_at};
use caly_core::call_state::CallState;
use caly_entities::{call, charge, stage_run, tenant, tenant_rate};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, ExprTrait, QueryFilter, Set, TransactionTrait, TryInsertResult,
};

/// Runs the stage.
pub async fn run(
    app: &App,
    run: &stage_run::Model,
    now: DateTime<Utc>,
) -> Result<StageOutcome, StageError> {
    let call = super::load_call(app, run).await?;
    if !CallState::parse(&call.state).is_some_and(CallState::is_final) {
        return Ok(StageOutcome::note(Some(call.id), "call is not over yet"));
    }
    let existing = charge::Entity::find()
        .filter(charge::Column::CallId.eq(call.id))
        .one(&app.db)
        .await?;
    if existing.is_some() {
        return Ok(StageOutcome::note(Some(call.id), "already charged"));
    }
    let (Some(seconds), Some(source)) = (call.duration_secs, call.duration_source.clone()) else {
        let marked = call::Entity::update_many()
            .col_expr(
                call::Column::BillingStatus,
                Expr::value(billing_status::AWAITING_DURATION),
            )
            .filter(call::Column::Id.eq(call.id))
            .filter(call::Column::BillingStatus.ne(billing_status::CHARGED))
            .filter(call::Column::DurationSecs.is_null())
            .exec(&app.db)
            .await?;
        if marked.rows_affected == 0 {
            return Err(StageError::Transient(
                "a duration arrived while charging; charging again".into(),
            ));
        }
        return Ok(StageOutcome::note(Some(call.id), "awaiting duration"));
    };
    let history: Vec<RatePoint> = tenant_rate::Entity::find()
        .filter(tenant_rate::Column::TenantId.eq(call.tenant_id))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|r| RatePoint {
            paise_per_min: r.paise_per_min,
            effective_from: r.effective_from,
        })
        .collect();
    let rate = rate_at(&history, call.started_at.unwrap_or(call.created_at));
    let amount = charge_paise(seconds, rate);

    let txn = app.db.begin().await?;
    let inserted = charge::Entity::insert(charge::ActiveModel {
        tenant_id: Set(call.tenant_id),
        call_id: Set(call.id),
        billable_seconds: Set(seconds),
        minutes: Set(billable_minutes(seconds)),
        rate_paise_per_min: Set(rate),
        amount_paise: Set(amount),
        duration_source: Set(source),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([charge::Column::CallId])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(StageOutcome::note(Some(call.id), "already charged"));
    }
    tenant::Entity::update_many()
        .col_expr(
            tenant::Column::BalancePaise,
            Expr::col(tenant::Column::BalancePaise).add(amount),
        )
        .filter(tenant::Column::Id.eq(call.tenant_id))
        .exec(&txn)
        .await?;
    call::Entity::update_many()
        .col_expr(call::Column::CostPaise, Expr::value(amount))
        .col_expr(
            call::Column::BillingStatus,
            Expr::value(billing_status::CHARGED),
        )
        .col_expr(call::Column::UpdatedAt, Expr::value(now))
        .filter(call::Column::Id.eq(call.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(StageOutcome::note(
        Some(call.id),
        format!("charged {amount} paise for {seconds}s at {rate} paise/min"),
    ))
}
