//! A store using Caly, with its Exotel credentials (sealed) and webhook/API secrets (hashed).

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A tenant row. Sealed and hashed columns are skipped when serialised.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    /// Tenant id; appears in webhook URLs.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Exotel account SID.
    pub exotel_sid: String,
    /// Exotel API key, sealed with the master key.
    #[serde(skip)]
    pub exotel_key_enc: String,
    /// Exotel API token, sealed with the master key.
    #[serde(skip)]
    pub exotel_token_enc: String,
    /// Exotel API host, e.g. `api.in.exotel.com`.
    pub exotel_subdomain: String,
    /// Retired: the tenant's single API key lived here until API keys (`api_key`) took over;
    /// migration `m20261203_000002_accounts` copied every such key there. New tenants get a
    /// hash no key matches.
    #[serde(skip)]
    #[sea_orm(unique)]
    pub api_key_hash: String,
    /// SHA-256 of the current webhook secret.
    #[serde(skip)]
    pub webhook_secret_hash: String,
    /// The current webhook secret, sealed with the master key, so the webhook URLs can be shown
    /// again (none for tenants made before it was kept: rotate to get URLs to show).
    #[serde(skip)]
    pub webhook_secret_enc: Option<String>,
    /// SHA-256 of the previous webhook secret, valid until `previous_secret_expires_at`.
    #[serde(skip)]
    pub previous_secret_hash: Option<String>,
    /// End of the previous secret's grace period.
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    /// Charges accrued, in paise.
    pub balance_paise: i64,
    /// The most the balance may reach before calls go to the store's people instead of the AI
    /// agent (none: no limit); set by the platform operator.
    pub credit_limit_paise: Option<i64>,
    /// When the tenant was created.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
