//! Which language model answers a tenant's callers: the tenant's own (set by the operator,
//! its key sealed at rest), else the platform's, else none (the offline agent).

use crate::integrations::llm::{LlmConfig, OpenAiChat};
use crate::{App, CoreError, Rejection};
use caly_entities::llm_override;
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use secrecy::{ExposeSecret, SecretString};

/// Sets the tenant's own model, after checking its address against the outbound policy.
pub async fn set_override(
    app: &App,
    tenant: TenantId,
    config: &LlmConfig,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    crate::tenancy::find(&app.db, tenant).await?;
    if config.model.trim().is_empty() || config.api_key.expose_secret().trim().is_empty() {
        return Err(
            Rejection::InvalidLlm("--model and --api-key must not be empty.".into()).into(),
        );
    }
    OpenAiChat::new(config, &app.settings.egress)
        .map_err(|e| Rejection::InvalidLlm(format!("{e}.")))?;
    llm_override::Entity::insert(llm_override::ActiveModel {
        tenant_id: Set(tenant.0),
        base_url: Set(config.base_url.trim().to_string()),
        model: Set(config.model.trim().to_string()),
        api_key_enc: Set(app.key.seal(
            config.api_key.expose_secret(),
            crate::platform::crypto::SealedAt::new(
                "llm_overrides",
                "api_key_enc",
                &tenant.0.to_string(),
            ),
        )),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(llm_override::Column::TenantId)
            .update_columns([
                llm_override::Column::BaseUrl,
                llm_override::Column::Model,
                llm_override::Column::ApiKeyEnc,
                llm_override::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&app.db)
    .await?;
    Ok(())
}

/// Removes the tenant's own model; true when there was one.
pub async fn clear_override(app: &App, tenant: TenantId) -> Result<bool, CoreError> {
    let gone = llm_override::Entity::delete_by_id(tenant.0)
        .exec(&app.db)
        .await?;
    Ok(gone.rows_affected > 0)
}

/// The model that answers the tenant's callers, if any.
pub async fn model_for(app: &App, tenant: TenantId) -> Result<Option<LlmConfig>, CoreError> {
    if let Some(row) = llm_override::Entity::find_by_id(tenant.0)
        .one(&app.db)
        .await?
    {
        return Ok(Some(LlmConfig {
            base_url: row.base_url,
            api_key: SecretString::from(app.key.open(
                &row.api_key_enc,
                crate::platform::crypto::SealedAt::new(
                    "llm_overrides",
                    "api_key_enc",
                    &tenant.0.to_string(),
                ),
            )?),
            model: row.model,
        }));
    }
    Ok(app.settings.llm.clone())
}
