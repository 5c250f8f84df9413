//! API keys for machines: named, scoped (`read` acts as a viewer, `write` as an admin), shown
//! once, stored as SHA-256, revocable, with a last-used time. They replace the single
//! per-tenant key; the migration copied each tenant's key in as `write`.

use super::{Principal, Scope, Via};
use crate::platform::crypto::{hash_secret, random_token};
use crate::{CoreError, Rejection};
use caly_entities::api_key;
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use secrecy::SecretString;

/// How stale `last_used_at` may get before a request updates it (one write per key per minute
/// at most, not one per request).
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::seconds(60);

/// Creates a key; returns its row and the key itself, which is shown only now.
pub async fn create(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
    scope: Scope,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(api_key::Model, SecretString), CoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Rejection::InvalidField {
            field: "name",
            message: "must be 1 to 100 characters".into(),
        }
        .into());
    }
    let key = random_token("caly_key_");
    let row = api_key::ActiveModel {
        tenant_id: Set(tenant.0),
        name: Set(name.to_string()),
        scope: Set(scope.as_str().into()),
        key_hash: Set(hash_secret(&key)),
        key_prefix: Set(key[..13].to_string()),
        created_by: Set(created_by),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row, key.into()))
}

/// A tenant's keys, newest first (revoked ones included, marked).
pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<api_key::Model>, CoreError> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::TenantId.eq(tenant.0))
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?)
}

/// Revokes one of the tenant's keys. Another tenant's key is [`CoreError::NotFound`].
pub async fn revoke(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
    now: DateTime<Utc>,
) -> Result<api_key::Model, CoreError> {
    let row = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("API key"))?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let mut active: api_key::ActiveModel = row.into();
    active.revoked_at = Set(Some(now));
    Ok(active.update(db).await?)
}

/// Revokes every live key `user_id` created, in every store; returns how many.
pub async fn revoke_all_created_by(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, CoreError> {
    Ok(api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Some(now)))
        .filter(api_key::Column::CreatedBy.eq(user_id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Whether a key's creator is still an active member of the key's store.
async fn creator_active(
    db: &impl ConnectionTrait,
    user_id: i64,
    tenant_id: i64,
) -> Result<bool, CoreError> {
    let enabled = caly_entities::user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some_and(|u| u.disabled_at.is_none());
    Ok(enabled
        && super::sessions::role_in(db, user_id, tenant_id)
            .await?
            .is_some())
}

/// The principal behind an API key, if the key is live; notes when it was used.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, CoreError> {
    let Some(row) = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash_secret(key.trim())))
        .one(db)
        .await?
        .filter(|row| row.revoked_at.is_none())
    else {
        return Ok(None);
    };
    if row
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
    {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(Some(now)))
            .filter(api_key::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    // A key made by a person works only while that person may act in the store: suspended or
    // removed there, or disabled everywhere, their keys stop with them.
    if let Some(creator) = row.created_by
        && !creator_active(db, creator, row.tenant_id).await?
    {
        return Ok(None);
    }
    let tenant = crate::tenancy::find(db, TenantId(row.tenant_id)).await?;
    Ok(Some(Principal {
        tenant,
        user: None,
        role: Scope::parse(&row.scope)?.role(),
        via: Via::ApiKey(row.id),
    }))
}
