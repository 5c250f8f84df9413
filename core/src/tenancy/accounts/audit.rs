//! The audit log: every security-relevant and administrative action, who did it, to what, when,
//! from which address and in which request. Rows are only inserted; listing is per tenant.

use crate::CoreError;
use crate::platform::pagination::{Page, PageRequest, paginate};
use caly_entities::audit_event;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::Value;

/// Who is acting, and from where.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    /// The tenant the action is in.
    pub tenant_id: Option<i64>,
    /// The acting user, if a person.
    pub user_id: Option<i64>,
    /// Readable: an email, `api_key:<id>`, `cli` or `anonymous`.
    pub name: String,
    /// The client's address.
    pub ip: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
}

impl Actor {
    /// The same actor inside `tenant` (for actions that create or pick a tenant).
    pub fn in_tenant(&self, tenant_id: i64) -> Actor {
        Actor {
            tenant_id: Some(tenant_id),
            ..self.clone()
        }
    }

    /// The same request, acted by `user`.
    pub fn as_user(&self, user_id: i64, email: &str) -> Actor {
        Actor {
            user_id: Some(user_id),
            name: email.to_string(),
            ..self.clone()
        }
    }
}

/// Records one action. `details` must never hold a secret.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    target: &str,
    details: Value,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    audit_event::ActiveModel {
        tenant_id: Set(actor.tenant_id),
        actor_user_id: Set(actor.user_id),
        actor: Set(if actor.name.is_empty() {
            "anonymous".into()
        } else {
            actor.name.clone()
        }),
        action: Set(action.into()),
        target: Set(target.into()),
        details: Set(details.to_string()),
        ip: Set(actor.ip.clone()),
        request_id: Set(actor.request_id.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Filters on the audit log.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this action (exact) or actions under it (`auth.` matches `auth.login`).
    pub action: Option<String>,
    /// Only this acting user.
    pub actor_user_id: Option<i64>,
    /// From this time on.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
}

/// One page of a tenant's audit log, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<audit_event::Model>, CoreError> {
    let mut query = audit_event::Entity::find().filter(audit_event::Column::TenantId.eq(tenant_id));
    if let Some(action) = &filter.action {
        query = if action.ends_with('.') {
            query.filter(audit_event::Column::Action.starts_with(action.as_str()))
        } else {
            query.filter(audit_event::Column::Action.eq(action.as_str()))
        };
    }
    if let Some(user) = filter.actor_user_id {
        query = query.filter(audit_event::Column::ActorUserId.eq(user));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_event::Column::CreatedAt.lt(to));
    }
    paginate(db, query.order_by_desc(audit_event::Column::Id), page).await
}
