//! Tenants: creation, listing, API-key authentication, webhook-secret checks and rotation, rates.

use crate::CoreError;
use crate::crypto::{MasterKey, constant_time_eq, hash_secret, random_token};
use caly_entities::{tenant, tenant_rate};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use std::time::Duration;

/// What `caly tenant create` needs. `Debug` hides the Exotel key and token.
#[derive(Clone)]
pub struct NewTenant {
    /// Display name.
    pub name: String,
    /// Exotel account SID.
    pub exotel_sid: String,
    /// Exotel API key (sealed before storing).
    pub exotel_key: String,
    /// Exotel API token (sealed before storing).
    pub exotel_token: String,
    /// Exotel API host, e.g. `api.in.exotel.com`.
    pub exotel_subdomain: String,
    /// Rate in paise per started minute.
    pub rate_paise_per_min: i64,
}

impl std::fmt::Debug for NewTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewTenant")
            .field("name", &self.name)
            .field("exotel_sid", &self.exotel_sid)
            .field("exotel_subdomain", &self.exotel_subdomain)
            .field("rate_paise_per_min", &self.rate_paise_per_min)
            .finish_non_exhaustive()
    }
}

/// A tenant just created: the only time its API key and webhook secret are shown.
/// `Debug` hides both.
#[derive(Clone)]
pub struct CreatedTenant {
    /// The stored row.
    pub tenant: tenant::Model,
    /// The API key, shown once.
    pub api_key: String,
    /// The webhook secret, shown once.
    pub webhook_secret: String,
}

impl std::fmt::Debug for CreatedTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedTenant")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Decrypted Exotel credentials for outbound calls (never logged).
#[derive(Clone)]
pub struct ExotelCredentials {
    /// API key (Basic auth user).
    pub key: String,
    /// API token (Basic auth password).
    pub token: String,
}

impl std::fmt::Debug for ExotelCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExotelCredentials(<redacted>)")
    }
}

fn validate(new: &NewTenant) -> Result<(), CoreError> {
    let required = [
        ("name", &new.name),
        ("exotel_sid", &new.exotel_sid),
        ("exotel_key", &new.exotel_key),
        ("exotel_token", &new.exotel_token),
        ("exotel_subdomain", &new.exotel_subdomain),
    ];
    if let Some((field, _)) = required.iter().find(|(_, v)| v.trim().is_empty()) {
        return Err(CoreError::invalid(
            "missing_field",
            format!("The tenant's {field} must not be empty."),
        ));
    }
    if new.rate_paise_per_min < 0 {
        return Err(CoreError::invalid(
            "invalid_rate",
            "The rate must be zero or more paise per minute.",
        ));
    }
    Ok(())
}

/// Creates a tenant with a fresh API key and webhook secret and its first rate.
pub async fn create(
    db: &impl TransactionTrait,
    key: &MasterKey,
    new: NewTenant,
    now: DateTime<Utc>,
) -> Result<CreatedTenant, CoreError> {
    validate(&new)?;
    let api_key = random_token("caly_key_");
    let webhook_secret = random_token("");
    let txn = db.begin().await?;
    let tenant = tenant::ActiveModel {
        name: Set(new.name.trim().to_string()),
        exotel_sid: Set(new.exotel_sid.trim().to_string()),
        exotel_key_enc: Set(key.encrypt(&new.exotel_key)),
        exotel_token_enc: Set(key.encrypt(&new.exotel_token)),
        exotel_subdomain: Set(new.exotel_subdomain.trim().to_string()),
        api_key_hash: Set(hash_secret(&api_key)),
        webhook_secret_hash: Set(hash_secret(&webhook_secret)),
        previous_secret_hash: Set(None),
        previous_secret_expires_at: Set(None),
        balance_paise: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // The first rate applies to every call, however early.
    add_rate(
        &txn,
        tenant.id,
        new.rate_paise_per_min,
        DateTime::UNIX_EPOCH,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedTenant {
        tenant,
        api_key,
        webhook_secret,
    })
}

/// Records a new rate in force from `effective_from`.
pub async fn add_rate(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    paise_per_min: i64,
    effective_from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<tenant_rate::Model, CoreError> {
    if paise_per_min < 0 {
        return Err(CoreError::invalid(
            "invalid_rate",
            "The rate must be zero or more paise per minute.",
        ));
    }
    Ok(tenant_rate::ActiveModel {
        tenant_id: Set(tenant_id),
        paise_per_min: Set(paise_per_min),
        effective_from: Set(effective_from),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// All tenants, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<tenant::Model>, CoreError> {
    Ok(tenant::Entity::find()
        .order_by_asc(tenant::Column::Id)
        .all(db)
        .await?)
}

/// The tenant owning an API key, if any.
pub async fn by_api_key(
    db: &impl ConnectionTrait,
    api_key: &str,
) -> Result<Option<tenant::Model>, CoreError> {
    Ok(tenant::Entity::find()
        .filter(tenant::Column::ApiKeyHash.eq(hash_secret(api_key)))
        .one(db)
        .await?)
}

/// The tenant for a webhook URL when `secret` is its current secret or a previous one still in
/// its grace period. Unknown tenant and wrong secret look the same to the caller.
pub async fn by_webhook_secret(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<tenant::Model>, CoreError> {
    let offered = hash_secret(secret);
    let Some(tenant) = tenant::Entity::find_by_id(tenant_id).one(db).await? else {
        // Compare anyway so an unknown tenant costs the same as a wrong secret.
        let _ = constant_time_eq(&offered, &hash_secret("unknown-tenant"));
        return Ok(None);
    };
    let current = constant_time_eq(&offered, &tenant.webhook_secret_hash);
    let previous = match (
        &tenant.previous_secret_hash,
        tenant.previous_secret_expires_at,
    ) {
        (Some(hash), Some(until)) => constant_time_eq(&offered, hash) && now <= until,
        _ => false,
    };
    Ok((current || previous).then_some(tenant))
}

/// Issues a new webhook secret; the old one stays valid for `grace`. Returns the new secret.
pub async fn rotate_webhook_secret(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<String, CoreError> {
    let tenant = tenant::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("tenant"))?;
    let secret = random_token("");
    let until = now + chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::days(1));
    let mut active: tenant::ActiveModel = tenant.clone().into();
    active.previous_secret_hash = Set(Some(tenant.webhook_secret_hash));
    active.previous_secret_expires_at = Set(Some(until));
    active.webhook_secret_hash = Set(hash_secret(&secret));
    active.update(db).await?;
    Ok(secret)
}

/// Decrypts a tenant's Exotel credentials.
pub fn exotel_credentials(
    key: &MasterKey,
    tenant: &tenant::Model,
) -> Result<ExotelCredentials, CoreError> {
    Ok(ExotelCredentials {
        key: key.decrypt(&tenant.exotel_key_enc)?,
        token: key.decrypt(&tenant.exotel_token_enc)?,
    })
}

/// The webhook URLs to configure in Exotel for a tenant.
pub fn webhook_urls(base: &str, tenant_id: i64, secret: &str) -> [(&'static str, String); 2] {
    [
        (
            "passthru",
            format!("{base}/hooks/exotel/{tenant_id}/{secret}/passthru"),
        ),
        (
            "status_callback",
            format!("{base}/hooks/exotel/{tenant_id}/{secret}/status"),
        ),
    ]
}
