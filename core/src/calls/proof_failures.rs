//! Failed proofs kept in the database, per tenant and order, so the limit holds across
//! conversations: a caller who runs out of attempts cannot start over in a new conversation.

use crate::agent::tools::ProofGuard;
use async_trait::async_trait;
use caly_entities::proof_failure;
use caly_jobs::{CallId, TenantId};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

/// The window the per-order limit counts over.
pub const WINDOW_HOURS: i64 = 24;

/// Failed proofs within one tenant, recorded for one conversation.
pub struct DbProofGuard {
    /// The database.
    pub db: crate::platform::db::Db,
    /// The tenant.
    pub tenant: TenantId,
    /// The conversation.
    pub call: CallId,
    /// Now.
    pub now: DateTime<Utc>,
}

#[async_trait]
impl ProofGuard for DbProofGuard {
    async fn recent_failures(&self, order: &str) -> u32 {
        let since = self.now - Duration::hours(WINDOW_HOURS);
        let counted = proof_failure::Entity::find()
            .filter(proof_failure::Column::TenantId.eq(self.tenant.0))
            .filter(proof_failure::Column::OrderName.eq(order))
            .filter(proof_failure::Column::CreatedAt.gt(since))
            .count(&self.db)
            .await;
        match counted {
            Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
            // Fail closed: an unknown count locks.
            Err(error) => {
                tracing::warn!(%error, "could not count failed proofs; locking");
                u32::MAX
            }
        }
    }

    async fn record_failure(&self, order: &str) {
        let row = proof_failure::ActiveModel {
            tenant_id: Set(self.tenant.0),
            order_name: Set(order.chars().take(64).collect()),
            call_id: Set(self.call.0),
            created_at: Set(self.now),
            ..Default::default()
        };
        if let Err(error) = row.insert(&self.db).await {
            tracing::warn!(%error, "could not record a failed proof");
        }
    }
}
