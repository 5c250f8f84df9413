//! Master-key rotation, second half: once the new key is `CALY_MASTER_KEY` and the old one is in
//! `CALY_MASTER_KEY_PREVIOUS`, `caly secrets reseal` rewrites every sealed value under the new
//! key, so the old key can then be dropped. It also binds values sealed before binding existed
//! to their table, column and row ([`SealedAt`]). Values already sealed that way under the
//! current key are left alone, so running it again changes nothing.

use super::crypto::{MasterKey, SealedAt};
use crate::CoreError;
use caly_entities::{email_code, llm_override, shopify_store, signing_key, tenant};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value};
use std::collections::BTreeMap;

/// Values rewritten, by `table.column`.
pub type Resealed = BTreeMap<&'static str, u64>;

/// The value under the current key and bound to `at`, when it needs rewriting.
fn renewed(key: &MasterKey, sealed: &str, at: SealedAt<'_>) -> Result<Option<String>, CoreError> {
    if sealed.is_empty() || !key.needs_reseal(sealed) {
        return Ok(None);
    }
    Ok(Some(key.seal(&key.open(sealed, at)?, at)))
}

/// Rewrites one sealed column (`name` is `table.column`) for the given (primary key, row
/// identity it is bound to, sealed value) rows.
async fn rewrite<E: EntityTrait>(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    report: &mut Resealed,
    name: &'static str,
    (column, pk): (E::Column, E::Column),
    rows: Vec<(Value, String, Option<String>)>,
) -> Result<(), CoreError> {
    let (table, column_name) = name.split_once('.').expect("table.column");
    for (id, row, sealed) in rows {
        let at = SealedAt::new(table, column_name, &row);
        let Some(new) = sealed
            .as_deref()
            .map(|s| renewed(key, s, at))
            .transpose()?
            .flatten()
        else {
            continue;
        };
        E::update_many()
            .col_expr(column, Expr::value(new))
            .filter(pk.eq(id))
            .exec(db)
            .await?;
        *report.entry(name).or_insert(0) += 1;
    }
    Ok(())
}

/// Rewrites every sealed value that is not under the current key.
pub async fn reseal_all(db: &impl ConnectionTrait, key: &MasterKey) -> Result<Resealed, CoreError> {
    let mut report = Resealed::new();
    let tenants = tenant::Entity::find().all(db).await?;
    let id = |t: &tenant::Model| Value::from(t.id);
    rewrite::<tenant::Entity>(
        db,
        key,
        &mut report,
        "tenants.exotel_key_enc",
        (tenant::Column::ExotelKeyEnc, tenant::Column::Id),
        tenants
            .iter()
            .map(|t| (id(t), t.id.to_string(), Some(t.exotel_key_enc.clone())))
            .collect(),
    )
    .await?;
    rewrite::<tenant::Entity>(
        db,
        key,
        &mut report,
        "tenants.exotel_token_enc",
        (tenant::Column::ExotelTokenEnc, tenant::Column::Id),
        tenants
            .iter()
            .map(|t| (id(t), t.id.to_string(), Some(t.exotel_token_enc.clone())))
            .collect(),
    )
    .await?;
    rewrite::<tenant::Entity>(
        db,
        key,
        &mut report,
        "tenants.webhook_secret_enc",
        (tenant::Column::WebhookSecretEnc, tenant::Column::Id),
        tenants
            .iter()
            .map(|t| (id(t), t.id.to_string(), t.webhook_secret_enc.clone()))
            .collect(),
    )
    .await?;
    let stores = shopify_store::Entity::find().all(db).await?;
    rewrite::<shopify_store::Entity>(
        db,
        key,
        &mut report,
        "shopify_stores.token_enc",
        (
            shopify_store::Column::TokenEnc,
            shopify_store::Column::TenantId,
        ),
        stores
            .iter()
            .map(|s| {
                let row = s.tenant_id.to_string();
                (Value::from(s.tenant_id), row, Some(s.token_enc.clone()))
            })
            .collect(),
    )
    .await?;
    rewrite::<shopify_store::Entity>(
        db,
        key,
        &mut report,
        "shopify_stores.client_secret_enc",
        (
            shopify_store::Column::ClientSecretEnc,
            shopify_store::Column::TenantId,
        ),
        stores
            .iter()
            .map(|s| {
                let row = s.tenant_id.to_string();
                (Value::from(s.tenant_id), row, s.client_secret_enc.clone())
            })
            .collect(),
    )
    .await?;
    let models = llm_override::Entity::find().all(db).await?;
    rewrite::<llm_override::Entity>(
        db,
        key,
        &mut report,
        "llm_overrides.api_key_enc",
        (
            llm_override::Column::ApiKeyEnc,
            llm_override::Column::TenantId,
        ),
        models
            .iter()
            .map(|m| {
                let row = m.tenant_id.to_string();
                (Value::from(m.tenant_id), row, Some(m.api_key_enc.clone()))
            })
            .collect(),
    )
    .await?;
    let signing = signing_key::Entity::find().all(db).await?;
    rewrite::<signing_key::Entity>(
        db,
        key,
        &mut report,
        "signing_keys.secret_enc",
        (signing_key::Column::SecretEnc, signing_key::Column::Id),
        signing
            .iter()
            .map(|k| (Value::from(k.id), k.kid.clone(), Some(k.secret_enc.clone())))
            .collect(),
    )
    .await?;
    let codes = email_code::Entity::find()
        .filter(email_code::Column::ConsumedAt.is_null())
        .all(db)
        .await?;
    rewrite::<email_code::Entity>(
        db,
        key,
        &mut report,
        "email_codes.payload",
        (email_code::Column::Payload, email_code::Column::Id),
        codes
            .iter()
            .map(|c| (Value::from(c.id), c.code_hash.clone(), c.payload.clone()))
            .collect(),
    )
    .await?;
    Ok(report)
}
