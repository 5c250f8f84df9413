//! What staff do with a task besides closing it: assign it to a member (or to nobody) and comment
//! on it. Every change is kept as a task event with who did it and when, written in the same
//! transaction as the change, so the inbox shows the task's history.

use crate::calls::tasks::{MAX_NOTE_CHARS, find_task};
use crate::tenancy::accounts::members;
use crate::{CoreError, Rejection};
use caly_entities::{task, task_event};
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};

/// Someone took the task, or it was given to them.
pub const ASSIGNED: &str = "assigned";
/// The task went back to nobody.
pub const UNASSIGNED: &str = "unassigned";
/// A comment.
pub const COMMENTED: &str = "commented";
/// Closed, with the closing note.
pub const CLOSED: &str = "closed";

/// Records one event on a task; returns it.
pub async fn record(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    task: i64,
    actor: Option<i64>,
    kind: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<task_event::Model, CoreError> {
    Ok(task_event::ActiveModel {
        tenant_id: Set(tenant.0),
        task_id: Set(task),
        actor_id: Set(actor),
        kind: Set(kind.into()),
        body: Set(body.into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Assigns one of the tenant's tasks to `assignee`, an active member of the tenant, or to
/// nobody. Assigning it to whoever already holds it changes nothing and records nothing; of two
/// people assigning it at once, the second finds it changed and records nothing either.
pub async fn assign<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    tenant: TenantId,
    id: i64,
    assignee: Option<i64>,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<task::Model, CoreError> {
    let body = match assignee {
        Some(user) => {
            let member = members::list(db, tenant)
                .await?
                .into_iter()
                .find(|m| m.id == user && !m.disabled)
                .ok_or_else(|| {
                    Rejection::InvalidTask(
                        "'assignee_id' must be an active member of this store.".into(),
                    )
                })?;
            format!("{} <{}>", member.name, member.email)
        }
        None => String::new(),
    };
    let current = find_task(db, tenant, id).await?;
    if current.assignee_id == assignee {
        return Ok(current);
    }
    // The update comes first: on SQLite a transaction that starts with a write waits its turn.
    let txn = db.begin().await?;
    let holder = match current.assignee_id {
        Some(old) => task::Column::AssigneeId.eq(old),
        None => task::Column::AssigneeId.is_null(),
    };
    let changed = task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(assignee))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::TenantId.eq(tenant.0))
        .filter(holder)
        .exec(&txn)
        .await?;
    if changed.rows_affected == 1 {
        let kind = if assignee.is_some() {
            ASSIGNED
        } else {
            UNASSIGNED
        };
        record(&txn, tenant, id, actor, kind, &body, now).await?;
    }
    txn.commit().await?;
    find_task(db, tenant, id).await
}

/// Adds a comment (1 to 2,000 characters) to one of the tenant's tasks, open or closed.
pub async fn comment(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
    text: &str,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<task_event::Model, CoreError> {
    let text = text.trim();
    let controls = text.chars().any(|c| c.is_control() && !c.is_whitespace());
    if text.is_empty() || controls || text.chars().count() > MAX_NOTE_CHARS {
        return Err(Rejection::InvalidTask(format!(
            "'body' must be a comment of 1 to {MAX_NOTE_CHARS} characters."
        ))
        .into());
    }
    find_task(db, tenant, id).await?;
    record(db, tenant, id, actor, COMMENTED, text, now).await
}

/// The history of the given tasks of a tenant, oldest first.
pub async fn events_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    tasks: &[i64],
) -> Result<Vec<task_event::Model>, CoreError> {
    Ok(task_event::Entity::find()
        .filter(task_event::Column::TenantId.eq(tenant.0))
        .filter(task_event::Column::TaskId.is_in(tasks.iter().copied()))
        .order_by_asc(task_event::Column::Id)
        .all(db)
        .await?)
}
