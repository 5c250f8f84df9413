//! A worker process's last sign of life, with the stages it consumes.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A heartbeat row, one per worker process.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "worker_heartbeats")]
pub struct Model {
    /// The process: host and process id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub node: String,
    /// The stages it consumes, comma-separated.
    pub stages: String,
    /// When it started.
    pub started_at: DateTimeUtc,
    /// Its last beat.
    pub beat_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
