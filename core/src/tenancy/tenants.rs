//! Tenants: creation, listing, webhook-secret checks and rotation, rates.

use super::accounts::{Scope, api_keys};
use crate::platform::crypto::{MasterKey, SealedAt, constant_time_eq, hash_secret, random_token};
use crate::platform::settings::websocket_base;
use crate::{CoreError, Rejection};
use caly_entities::{tenant, tenant_rate};
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// What `caly tenant create` needs. The Exotel key and token are secrets (`Debug` redacts them).
#[derive(Clone, Debug)]
pub struct NewTenant {
    /// Display name.
    pub name: String,
    /// Exotel account SID.
    pub exotel_sid: String,
    /// Exotel API key (sealed before storing).
    pub exotel_key: SecretString,
    /// Exotel API token (sealed before storing).
    pub exotel_token: SecretString,
    /// Exotel API host, e.g. `api.in.exotel.com`.
    pub exotel_subdomain: String,
    /// Rate in paise per started minute.
    pub rate_paise_per_min: i64,
}

/// A tenant just created: the only time its API key and webhook secret are shown.
/// Both are secrets (`Debug` redacts them).
#[derive(Clone, Debug)]
pub struct CreatedTenant {
    /// The stored row.
    pub tenant: tenant::Model,
    /// The API key, shown once.
    pub api_key: SecretString,
    /// The webhook secret, shown once.
    pub webhook_secret: SecretString,
}

/// Decrypted Exotel credentials for outbound calls (`Debug` redacts them).
#[derive(Clone, Debug)]
pub struct ExotelCredentials {
    /// API key (Basic auth user).
    pub key: SecretString,
    /// API token (Basic auth password).
    pub token: SecretString,
}

fn validate(new: &NewTenant) -> Result<(), Rejection> {
    let required = [
        ("tenant's name", new.name.as_str()),
        ("tenant's exotel_sid", new.exotel_sid.as_str()),
        ("tenant's exotel_key", new.exotel_key.expose_secret()),
        ("tenant's exotel_token", new.exotel_token.expose_secret()),
        ("tenant's exotel_subdomain", new.exotel_subdomain.as_str()),
    ];
    if let Some((field, _)) = required.iter().find(|(_, v)| v.trim().is_empty()) {
        return Err(Rejection::MissingField(field));
    }
    if new.rate_paise_per_min < 0 {
        return Err(Rejection::NegativeRate);
    }
    Ok(())
}

async fn insert_tenant(
    db: &impl ConnectionTrait,
    row: tenant::ActiveModel,
    rate_paise_per_min: i64,
    now: DateTime<Utc>,
) -> Result<tenant::Model, CoreError> {
    if rate_paise_per_min < 0 {
        return Err(Rejection::NegativeRate.into());
    }
    let tenant = tenant::ActiveModel {
        // Retired column: keys live in `api_keys` now. It holds a hash no key matches.
        api_key_hash: Set(hash_secret(&random_token("retired_"))),
        previous_secret_hash: Set(None),
        previous_secret_expires_at: Set(None),
        balance_paise: Set(0),
        created_at: Set(now),
        ..row
    }
    .insert(db)
    .await?;
    // The first rate applies to every call, however early.
    add_rate(
        db,
        TenantId(tenant.id),
        rate_paise_per_min,
        DateTime::UNIX_EPOCH,
        now,
    )
    .await?;
    Ok(tenant)
}

/// Creates a tenant (from the CLI) with its Exotel account, a fresh `write` API key, a webhook
/// secret and its first rate.
pub async fn create(
    db: &impl TransactionTrait,
    key: &MasterKey,
    new: NewTenant,
    now: DateTime<Utc>,
) -> Result<CreatedTenant, CoreError> {
    validate(&new)?;
    let webhook_secret = random_token("");
    let txn = db.begin().await?;
    let row = tenant::ActiveModel {
        name: Set(new.name.trim().to_string()),
        exotel_sid: Set(new.exotel_sid.trim().to_string()),
        // Sealed below, bound to the row's id once the insert gives it one.
        exotel_key_enc: Set(String::new()),
        exotel_token_enc: Set(String::new()),
        exotel_subdomain: Set(new.exotel_subdomain.trim().to_string()),
        webhook_secret_hash: Set(hash_secret(&webhook_secret)),
        webhook_secret_enc: Set(None),
        ..Default::default()
    };
    let tenant = insert_tenant(&txn, row, new.rate_paise_per_min, now).await?;
    let exotel = (
        new.exotel_key.expose_secret(),
        new.exotel_token.expose_secret(),
    );
    let tenant = seal_secrets(&txn, key, tenant, Some(exotel), &webhook_secret).await?;
    let (_, api_key) = api_keys::create(
        &txn,
        TenantId(tenant.id),
        "created with the tenant",
        Scope::Write,
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedTenant {
        tenant,
        api_key,
        webhook_secret: webhook_secret.into(),
    })
}

/// Creates a tenant at sign-up: a name and a rate; Exotel and Shopify are connected during
/// onboarding (an empty `exotel_sid` means Exotel is not connected yet).
pub async fn create_unconnected(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    name: &str,
    rate_paise_per_min: i64,
    now: DateTime<Utc>,
) -> Result<tenant::Model, CoreError> {
    let webhook_secret = random_token("");
    let row = tenant::ActiveModel {
        name: Set(name.trim().to_string()),
        exotel_sid: Set(String::new()),
        exotel_key_enc: Set(String::new()),
        exotel_token_enc: Set(String::new()),
        exotel_subdomain: Set(String::new()),
        webhook_secret_hash: Set(hash_secret(&webhook_secret)),
        webhook_secret_enc: Set(None),
        ..Default::default()
    };
    let tenant = insert_tenant(db, row, rate_paise_per_min, now).await?;
    seal_secrets(db, key, tenant, None, &webhook_secret).await
}

/// Where a tenant's sealed value lives (bound to its row).
pub fn tenant_at<'a>(column: &'static str, tenant_id: &'a str) -> SealedAt<'a> {
    SealedAt::new("tenants", column, tenant_id)
}

/// Seals a new tenant's secrets, bound to the id its insert gave it.
async fn seal_secrets(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    tenant: tenant::Model,
    exotel: Option<(&str, &str)>,
    webhook_secret: &str,
) -> Result<tenant::Model, CoreError> {
    let id = tenant.id.to_string();
    let mut active: tenant::ActiveModel = tenant.into();
    if let Some((exotel_key, exotel_token)) = exotel {
        active.exotel_key_enc = Set(key.seal(exotel_key, tenant_at("exotel_key_enc", &id)));
        active.exotel_token_enc = Set(key.seal(exotel_token, tenant_at("exotel_token_enc", &id)));
    }
    active.webhook_secret_enc = Set(Some(
        key.seal(webhook_secret, tenant_at("webhook_secret_enc", &id)),
    ));
    Ok(active.update(db).await?)
}

/// Records a new rate in force from `effective_from`.
pub async fn add_rate(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    paise_per_min: i64,
    effective_from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<tenant_rate::Model, CoreError> {
    if paise_per_min < 0 {
        return Err(Rejection::NegativeRate.into());
    }
    Ok(tenant_rate::ActiveModel {
        tenant_id: Set(tenant.0),
        paise_per_min: Set(paise_per_min),
        effective_from: Set(effective_from),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Sets a tenant's billing (the platform operator's settings): a new rate in force from `now`,
/// and/or the credit limit (`Some(None)` removes it). Returns the tenant.
pub async fn set_billing(
    db: &impl TransactionTrait,
    tenant: TenantId,
    rate_paise_per_min: Option<i64>,
    credit_limit_paise: Option<Option<i64>>,
    now: DateTime<Utc>,
) -> Result<tenant::Model, CoreError> {
    if credit_limit_paise.flatten().is_some_and(|limit| limit < 0) {
        return Err(Rejection::InvalidField {
            field: "credit_limit_paise",
            message: "must be zero or more paise (or null for no limit)".into(),
        }
        .into());
    }
    // Writes first: on SQLite a transaction that reads before it writes cannot wait for
    // another writer; one that starts with a write waits its turn.
    let txn = db.begin().await?;
    if let Some(limit) = credit_limit_paise {
        tenant::Entity::update_many()
            .col_expr(tenant::Column::CreditLimitPaise, Expr::value(limit))
            .filter(tenant::Column::Id.eq(tenant.0))
            .exec(&txn)
            .await?;
    }
    if let Some(rate) = rate_paise_per_min {
        add_rate(&txn, tenant, rate, now, now).await?;
    }
    let row = find(&txn, tenant).await?;
    txn.commit().await?;
    Ok(row)
}

/// One tenant by id.
pub async fn find(db: &impl ConnectionTrait, tenant: TenantId) -> Result<tenant::Model, CoreError> {
    tenant::Entity::find_by_id(tenant.0)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("tenant"))
}

/// Every tenant, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<tenant::Model>, CoreError> {
    Ok(tenant::Entity::find()
        .order_by_asc(tenant::Column::Id)
        .all(db)
        .await?)
}

/// The tenant for a webhook URL when `secret` is its current secret or a previous one still in
/// its grace period. Unknown tenant and wrong secret look the same to the caller.
pub async fn by_webhook_secret(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<tenant::Model>, CoreError> {
    let offered = hash_secret(secret);
    let Some(tenant) = tenant::Entity::find_by_id(tenant.0).one(db).await? else {
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
    key: &MasterKey,
    tenant: TenantId,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<SecretString, CoreError> {
    let tenant = tenant::Entity::find_by_id(tenant.0)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("tenant"))?;
    let secret = random_token("");
    let until = now + chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::days(1));
    let mut active: tenant::ActiveModel = tenant.clone().into();
    active.previous_secret_hash = Set(Some(tenant.webhook_secret_hash));
    active.previous_secret_expires_at = Set(Some(until));
    active.webhook_secret_hash = Set(hash_secret(&secret));
    let id = tenant.id.to_string();
    active.webhook_secret_enc = Set(Some(
        key.seal(&secret, tenant_at("webhook_secret_enc", &id)),
    ));
    active.update(db).await?;
    Ok(secret.into())
}

/// The tenant's current webhook secret, to show its URLs again; `None` for a tenant made before
/// secrets were kept sealed (rotate once to get one).
pub fn webhook_secret(
    key: &MasterKey,
    tenant: &tenant::Model,
) -> Result<Option<SecretString>, CoreError> {
    tenant
        .webhook_secret_enc
        .as_deref()
        .map(|sealed| {
            let id = tenant.id.to_string();
            Ok(key
                .open(sealed, tenant_at("webhook_secret_enc", &id))?
                .into())
        })
        .transpose()
}

/// Decrypts a tenant's Exotel credentials.
pub fn exotel_credentials(
    key: &MasterKey,
    tenant: &tenant::Model,
) -> Result<ExotelCredentials, CoreError> {
    let id = tenant.id.to_string();
    Ok(ExotelCredentials {
        key: key
            .open(&tenant.exotel_key_enc, tenant_at("exotel_key_enc", &id))?
            .into(),
        token: key
            .open(&tenant.exotel_token_enc, tenant_at("exotel_token_enc", &id))?
            .into(),
    })
}

/// The addresses to configure in Exotel for a tenant: the Passthru, the StatusCallback and the
/// Voicebot applet's socket.
pub fn webhook_urls(
    base: &str,
    tenant: TenantId,
    secret: &SecretString,
) -> [(&'static str, String); 3] {
    let (tenant_id, secret) = (tenant, secret.expose_secret());
    let ws_base = websocket_base(base);
    [
        (
            "passthru",
            format!("{base}/hooks/exotel/{tenant_id}/{secret}/passthru"),
        ),
        (
            "status_callback",
            format!("{base}/hooks/exotel/{tenant_id}/{secret}/status"),
        ),
        (
            "voicebot",
            format!("{ws_base}/voice/exotel/{tenant_id}/{secret}"),
        ),
    ]
}
