//! System health as a tenant's admins see it: each component (database, queue, object store,
//! mail, and the tenant's Shopify and Exotel), the tenant's own stage runs per stage (pending,
//! running, failed), and the deployment's worker processes from their heartbeats.

use super::heartbeats::{self, WorkerState};
use crate::integrations::exotel::account::{AccountCheck, check_account};
use crate::integrations::exotel::details::ExotelApi;
use crate::integrations::shopify::check_connection;
use crate::tenancy::{exotel_credentials, shopify};
use crate::{App, CoreError, RunStatus};
use caly_entities::{stage_run, tenant};
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;
use std::future::Future;
use std::time::Instant;

/// One component's state.
#[derive(Clone, Debug, Serialize)]
pub struct Component {
    /// `ok`, `down` or `not_configured`.
    pub status: &'static str,
    /// How long the check took.
    pub latency_ms: u64,
    /// What went wrong (a sentence, never a secret).
    pub detail: Option<String>,
}

/// A stage's runs for the tenant.
#[derive(Clone, Debug, Serialize)]
pub struct StageLoad {
    /// The stage.
    pub stage: String,
    /// Runs waiting.
    pub pending: u64,
    /// Runs in progress.
    pub running: u64,
    /// Runs that failed for good (retry them from the failed-runs list).
    pub failed: u64,
}

/// The whole picture.
#[derive(Clone, Debug, Serialize)]
pub struct SystemHealth {
    /// `ok` when every configured component is ok and a worker is alive, else `degraded`.
    pub status: &'static str,
    /// Components by name.
    pub components: std::collections::BTreeMap<&'static str, Component>,
    /// The tenant's runs per stage.
    pub stages: Vec<StageLoad>,
    /// Worker processes.
    pub workers: Vec<WorkerState>,
}

async fn timed<E: std::fmt::Display>(work: impl Future<Output = Result<(), E>>) -> Component {
    let started = Instant::now();
    let result = work.await;
    let latency_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(()) => Component {
            status: "ok",
            latency_ms,
            detail: None,
        },
        Err(error) => Component {
            status: "down",
            latency_ms,
            detail: Some(error.to_string()),
        },
    }
}

fn not_configured(detail: &str) -> Component {
    Component {
        status: "not_configured",
        latency_ms: 0,
        detail: Some(detail.into()),
    }
}

async fn shopify_component(app: &App, tenant: TenantId) -> Result<Component, CoreError> {
    let Some(client) = shopify::connected_client(app, tenant).await? else {
        return Ok(not_configured("Shopify is not connected."));
    };
    let limit = app.settings.integration_check_timeout;
    Ok(timed(async {
        match tokio::time::timeout(limit, check_connection(&client)).await {
            Ok(result) => result.map(|_| ()).map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {} s", limit.as_secs())),
        }
    })
    .await)
}

async fn exotel_component(app: &App, row: &tenant::Model) -> Result<Component, CoreError> {
    if row.exotel_sid.is_empty() {
        return Ok(not_configured("Exotel is not connected."));
    }
    let creds = exotel_credentials(&app.key, row)?;
    let api = ExotelApi {
        http: &app.http,
        egress: &app.settings.egress,
        hosts: &app.settings.exotel_api_hosts,
    };
    let limit = app.settings.integration_check_timeout;
    Ok(timed(async {
        let check = check_account(api, &row.exotel_subdomain, &row.exotel_sid, &creds);
        match tokio::time::timeout(limit, check).await {
            Ok(Ok(AccountCheck::Valid)) => Ok(()),
            Ok(Ok(AccountCheck::Refused(status))) => {
                Err(format!("Exotel refused the stored credentials ({status})"))
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within {} s", limit.as_secs())),
        }
    })
    .await)
}

async fn stage_loads(app: &App, tenant: TenantId) -> Result<Vec<StageLoad>, CoreError> {
    let mut loads = Vec::new();
    for stage in app.stages.names() {
        let count = |status: RunStatus| {
            stage_run::Entity::find()
                .filter(stage_run::Column::TenantId.eq(tenant.0))
                .filter(stage_run::Column::Stage.eq(stage.to_string()))
                .filter(stage_run::Column::Status.eq(status))
                .count(&app.db)
        };
        loads.push(StageLoad {
            stage: stage.to_string(),
            pending: count(RunStatus::Pending).await?,
            running: count(RunStatus::Running).await?,
            failed: count(RunStatus::Failed).await?,
        });
    }
    Ok(loads)
}

/// Checks everything for `tenant`'s admins.
pub async fn check(
    app: &App,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<SystemHealth, CoreError> {
    let row = crate::tenancy::find(&app.db, tenant).await?;
    let mut components = std::collections::BTreeMap::new();
    components.insert("database", timed(super::db::ping(&app.db)).await);
    components.insert("queue", timed(app.queue.check()).await);
    components.insert("object_store", timed(app.store.check()).await);
    components.insert("mail", timed(app.mailer.check()).await);
    components.insert("shopify", shopify_component(app, tenant).await?);
    components.insert("exotel", exotel_component(app, &row).await?);
    let workers = heartbeats::list(&app.db, now).await?;
    let healthy =
        components.values().all(|c| c.status != "down") && workers.iter().any(|w| w.alive);
    Ok(SystemHealth {
        status: if healthy { "ok" } else { "degraded" },
        components,
        stages: stage_loads(app, tenant).await?,
        workers,
    })
}
