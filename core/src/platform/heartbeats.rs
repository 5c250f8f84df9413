//! Worker heartbeats: a worker process notes itself and its stages every [`BEAT_EVERY`]; one
//! silent for [`ALIVE_WITHIN`] counts as gone. A process that stops cleanly removes its row.

use crate::CoreError;
use caly_entities::worker_heartbeat;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, Set};
use serde::Serialize;
use std::time::Duration;

/// How often a worker beats.
pub const BEAT_EVERY: Duration = Duration::from_secs(10);
/// A worker silent this long is shown as gone.
pub const ALIVE_WITHIN: chrono::Duration = chrono::Duration::seconds(45);

/// Notes that `node` is alive and consumes `stages`.
pub async fn beat(
    db: &impl ConnectionTrait,
    node: &str,
    stages: &[String],
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let row = worker_heartbeat::ActiveModel {
        node: Set(node.to_string()),
        stages: Set(stages.join(",")),
        started_at: Set(started_at),
        beat_at: Set(now),
    };
    worker_heartbeat::Entity::insert(row)
        .on_conflict(
            OnConflict::column(worker_heartbeat::Column::Node)
                .update_columns([
                    worker_heartbeat::Column::Stages,
                    worker_heartbeat::Column::BeatAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Removes a node's row (it stopped cleanly).
pub async fn gone(db: &impl ConnectionTrait, node: &str) -> Result<(), CoreError> {
    worker_heartbeat::Entity::delete_by_id(node.to_string())
        .exec(db)
        .await?;
    Ok(())
}

/// A worker as shown in system health.
#[derive(Clone, Debug, Serialize)]
pub struct WorkerState {
    /// The process.
    pub node: String,
    /// Its stages.
    pub stages: Vec<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last beat.
    pub beat_at: DateTime<Utc>,
    /// Beat within [`ALIVE_WITHIN`].
    pub alive: bool,
}

/// Every worker that has beaten, most recent first.
pub async fn list(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<WorkerState>, CoreError> {
    let rows = worker_heartbeat::Entity::find()
        .order_by_desc(worker_heartbeat::Column::BeatAt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| WorkerState {
            alive: now - row.beat_at <= ALIVE_WITHIN,
            stages: row.stages.split(',').map(str::to_string).collect(),
            node: row.node,
            started_at: row.started_at,
            beat_at: row.beat_at,
        })
        .collect())
}
