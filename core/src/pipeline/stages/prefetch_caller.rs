//! `prefetch_caller`: looks up the caller of a new call or text conversation by phone and
//! keeps their recent orders for the agent, so its first answer does not wait on Shopify.

use crate::App;
use crate::agent::store_data::StoreData;
use crate::calls::prefetch;
use crate::pipeline::stage::{Failure, Lane, Stage, StageError, StageOutcome, StageSpec};
use crate::tenancy::shopify;
use async_trait::async_trait;
use caly_entities::{call, stage_run};
use caly_jobs::{CallId, StageName, TenantId};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The stage's name.
pub const NAME: StageName = StageName::new("prefetch_caller");

/// Its spec: once per call; worth little after the first turns, so few attempts.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[],
    timeout: Duration::from_secs(30),
    max_attempts: Some(3),
    lane: Lane::Batch,
    call_key: Some(|call| call.to_string()),
};

/// The stage.
pub struct PrefetchCaller;

#[async_trait]
impl Stage for PrefetchCaller {
    type Subject = call::Model;

    fn spec(&self) -> StageSpec {
        SPEC
    }

    async fn run(
        &self,
        app: &App,
        _run: &stage_run::Model,
        call: call::Model,
        now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let call_id = Some(CallId(call.id));
        let tenant = TenantId(call.tenant_id);
        let Some(phone) = call.from_number.clone() else {
            return Ok(StageOutcome::note(call_id, "no caller number"));
        };
        let Some(client) = shopify::connected_client(app, tenant).await? else {
            return Ok(StageOutcome::note(call_id, "no connected store"));
        };
        let orders = match client.orders_of_phone(&phone).await {
            Ok(orders) => orders,
            Err(error) => {
                if shopify::note_failure(&app.db, tenant, &error, now).await? {
                    return Ok(StageOutcome::note(call_id, "the store refused its token"));
                }
                return Err(StageError::Transient(Failure::Shopify(error)));
            }
        };
        prefetch::save(&app.db, &call, &orders, now).await?;
        Ok(StageOutcome::note(
            call_id,
            format!("{} recent orders", orders.len()),
        ))
    }
}
