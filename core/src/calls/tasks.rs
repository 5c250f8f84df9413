//! Requests the agent recorded for staff (cancellation, address change, complaint, callback):
//! listed by kind and status, closed with a note.

use crate::agent::tools::TaskKind;
use crate::platform::pagination::{Page, PageRequest, paginate};
use crate::{CoreError, Rejection};
use caly_entities::task;
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionSession,
    TransactionTrait,
};

/// Open: staff have not acted on it yet.
pub const OPEN: &str = "open";
/// Closed by staff, with a note.
pub const CLOSED: &str = "closed";

/// Longest closing note.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Which tasks to list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only this kind.
    pub kind: Option<TaskKind>,
    /// Only `open` or `closed` ones.
    pub status: Option<&'static str>,
}

impl TaskFilter {
    /// A filter from the query's `kind` and `status`, refusing unknown values.
    pub fn parse(kind: Option<&str>, status: Option<&str>) -> Result<Self, CoreError> {
        let kind = kind
            .map(|k| {
                TaskKind::parse(k.trim()).ok_or_else(|| {
                    Rejection::InvalidTask(
                        "'kind' must be cancellation, address_change, complaint or callback."
                            .into(),
                    )
                })
            })
            .transpose()?;
        let status = match status.map(str::trim) {
            None => None,
            Some("open") => Some(OPEN),
            Some("closed") => Some(CLOSED),
            Some(_) => {
                return Err(
                    Rejection::InvalidTask("'status' must be open or closed.".into()).into(),
                );
            }
        };
        Ok(TaskFilter { kind, status })
    }
}

/// The tenant's tasks, newest first.
pub async fn list_tasks(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    filter: &TaskFilter,
    page: PageRequest,
) -> Result<Page<task::Model>, CoreError> {
    let mut query = task::Entity::find().filter(task::Column::TenantId.eq(tenant.0));
    if let Some(kind) = filter.kind {
        query = query.filter(task::Column::Kind.eq(kind.label()));
    }
    if let Some(status) = filter.status {
        query = query.filter(task::Column::Status.eq(status));
    }
    paginate(db, query.order_by_desc(task::Column::Id), page).await
}

/// One of the tenant's tasks.
pub async fn find_task(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
) -> Result<task::Model, CoreError> {
    task::Entity::find_by_id(id)
        .filter(task::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("task"))
}

/// Closes one of the tenant's tasks with staff's `note`, recording who closed it (`closed_by`, a
/// user), with its history's `closed` event in the same transaction. Closing a closed task
/// changes nothing.
pub async fn close_task<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    tenant: TenantId,
    id: i64,
    note: &str,
    closed_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<task::Model, CoreError> {
    let note = note.trim();
    let controls = note.chars().any(|c| c.is_control() && !c.is_whitespace());
    if note.is_empty() || controls || note.chars().count() > MAX_NOTE_CHARS {
        return Err(Rejection::InvalidTask(format!(
            "'note' must say what was done, in 1 to {MAX_NOTE_CHARS} characters."
        ))
        .into());
    }
    let txn = db.begin().await?;
    let closed = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(CLOSED))
        .col_expr(task::Column::Note, Expr::value(note))
        .col_expr(task::Column::ClosedAt, Expr::value(now))
        .col_expr(task::Column::ClosedBy, Expr::value(closed_by))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::TenantId.eq(tenant.0))
        .filter(task::Column::Status.eq(OPEN))
        .exec(&txn)
        .await?;
    if closed.rows_affected == 1 {
        let closing = crate::calls::task_activity::CLOSED;
        crate::calls::task_activity::record(&txn, tenant, id, closed_by, closing, note, now)
            .await?;
    }
    txn.commit().await?;
    find_task(db, tenant, id).await
}
