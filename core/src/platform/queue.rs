//! The job queue: Redis (apalis-redis) in production, the SQLite-backed apalis queue when embedded.
//!
//! The queue only dispatches: the stage-run rows are the truth. Every queue name is set
//! explicitly (`{namespace}:{stage}`), depth is measured so the dispatcher can keep it bounded,
//! and finished job data is vacuumed so Redis memory stays flat.

use super::live_queue::{self, LiveConsumer, LocalLive};
use apalis::prelude::TaskSink;
use apalis_core::backend::Vacuum;
use apalis_redis::{ConnectionManager, RedisStorage};
use apalis_sqlite::SqliteStorage;
use caly_jobs::{StageJob, StageName};
use sea_orm::sqlx::SqlitePool;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How often an idle worker polls its queue.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How often a worker renews its registration with the queue.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// A handle on the queue backend; cheap to clone.
#[derive(Clone)]
pub enum JobQueue {
    /// Redis via apalis-redis.
    Redis {
        /// Shared multiplexed connection.
        conn: ConnectionManager,
        /// For the live lane's blocking pops (one dedicated connection per consumer).
        client: redis::Client,
        /// Prefix of every queue name.
        namespace: String,
        /// The stages on the live lane.
        live: LiveStages,
    },
    /// The embedded SQLite database via apalis-sqlite.
    Sqlite {
        /// The same pool the ORM uses.
        pool: SqlitePool,
        /// Prefix of every queue name.
        namespace: String,
        /// The stages on the live lane.
        live: LiveStages,
        /// The live lane's in-process queues.
        local: Arc<LocalLive>,
    },
}

/// Which stages travel on the live lane (set from the stage registry).
pub type LiveStages = Arc<RwLock<HashSet<StageName>>>;

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobQueue::Redis { namespace, .. } => write!(f, "JobQueue::Redis({namespace})"),
            JobQueue::Sqlite { namespace, .. } => write!(f, "JobQueue::Sqlite({namespace})"),
        }
    }
}

/// Why the queue failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis refused or could not be reached.
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// The embedded SQLite queue failed.
    #[error("sqlite queue error: {0}")]
    Sqlite(#[from] sea_orm::sqlx::Error),
    /// apalis failed at an operation (its error types differ per backend).
    #[error("queue {operation} failed: {detail}")]
    Backend {
        /// What Caly asked of the queue.
        operation: &'static str,
        /// apalis's account of the failure.
        detail: String,
    },
}

fn backend_error(operation: &'static str, err: impl std::fmt::Display) -> QueueError {
    QueueError::Backend {
        operation,
        detail: err.to_string(),
    }
}

impl JobQueue {
    /// Connects to Redis.
    pub async fn redis(url: &str, namespace: &str) -> Result<Self, QueueError> {
        let conn = apalis_redis::connect(super::redis_client::connection_info(url)?)
            .await
            .map_err(|e| backend_error("connect", e))?;
        Ok(JobQueue::Redis {
            conn,
            client: super::redis_client::client(url)?,
            namespace: namespace.to_string(),
            live: LiveStages::default(),
        })
    }

    /// Uses the SQLite pool, creating apalis's tables if needed (without its durability-lowering pragmas).
    pub async fn sqlite(pool: SqlitePool, namespace: &str) -> Result<Self, QueueError> {
        SqliteStorage::<()>::migrations()
            .run(&pool)
            .await
            .map_err(|e| backend_error("migrate", e))?;
        Ok(JobQueue::Sqlite {
            pool,
            namespace: namespace.to_string(),
            live: LiveStages::default(),
            local: Arc::default(),
        })
    }

    fn namespace(&self) -> &str {
        match self {
            JobQueue::Redis { namespace, .. } | JobQueue::Sqlite { namespace, .. } => namespace,
        }
    }

    fn live_stages(&self) -> &LiveStages {
        match self {
            JobQueue::Redis { live, .. } | JobQueue::Sqlite { live, .. } => live,
        }
    }

    /// Puts these stages on the live lane (the registry says which).
    pub fn set_live(&self, stages: impl IntoIterator<Item = StageName>) {
        let mut live = self.live_stages().write().expect("live stages lock");
        live.clear();
        live.extend(stages);
    }

    /// True when `stage` travels on the live lane.
    pub fn is_live(&self, stage: &StageName) -> bool {
        self.live_stages()
            .read()
            .expect("live stages lock")
            .contains(stage)
    }

    fn live_key(&self, stage: &StageName) -> String {
        format!("{}:live", self.queue_name(stage))
    }

    /// A consumer of `stage`'s live queue (a dedicated connection on Redis).
    pub async fn live_consumer(&self, stage: &StageName) -> Result<LiveConsumer, QueueError> {
        match self {
            JobQueue::Redis { client, .. } => Ok(LiveConsumer::Redis {
                conn: live_queue::blocking_connection(client).await?,
                key: self.live_key(stage),
            }),
            JobQueue::Sqlite { local, .. } => Ok(LiveConsumer::Local(local.queue(stage))),
        }
    }

    /// The full queue name of a stage.
    pub fn queue_name(&self, stage: &StageName) -> String {
        format!("{}:{}", self.namespace(), stage)
    }

    /// An apalis-redis storage for a stage (panics on the SQLite backend: callers match first).
    pub fn redis_storage(&self, stage: &StageName) -> Option<RedisStorage<StageJob>> {
        match self {
            JobQueue::Redis { conn, .. } => Some(
                RedisStorage::new(conn.clone()).with_config(
                    apalis_redis::Config::default()
                        .queue(self.queue_name(stage))
                        .batch_size(16)
                        // An apalis worker sometimes fetches nothing new until its next
                        // heartbeat (seen on both backends); a short beat bounds that stall.
                        .heartbeat_interval(HEARTBEAT)
                        .emit_events(false),
                ),
            ),
            JobQueue::Sqlite { .. } => None,
        }
    }

    /// An apalis-sqlite storage for a stage.
    pub fn sqlite_storage(&self, stage: &StageName) -> Option<SqliteStorage<StageJob>> {
        match self {
            JobQueue::Sqlite { pool, .. } => Some(
                SqliteStorage::new(pool).with_config(
                    apalis_sqlite::Config::default()
                        .queue(self.queue_name(stage))
                        .batch_size(16)
                        .heartbeat_interval(HEARTBEAT),
                ),
            ),
            JobQueue::Redis { .. } => None,
        }
    }

    /// Pushes a job onto its stage's queue.
    pub async fn push(&self, job: StageJob) -> Result<(), QueueError> {
        let stage = job.stage().clone();
        if self.is_live(&stage) {
            return match self {
                JobQueue::Redis { conn, .. } => {
                    let mut conn = conn.clone();
                    let text = serde_json::to_string(&job).expect("a job serialises");
                    let _: i64 = redis::cmd("RPUSH")
                        .arg(self.live_key(&stage))
                        .arg(text)
                        .query_async(&mut conn)
                        .await?;
                    Ok(())
                }
                JobQueue::Sqlite { local, .. } => {
                    local.queue(&stage).push(job);
                    Ok(())
                }
            };
        }
        if let Some(mut storage) = self.redis_storage(&stage) {
            storage
                .push(job)
                .await
                .map_err(|e| backend_error("push", e))
        } else if let Some(mut storage) = self.sqlite_storage(&stage) {
            storage
                .push(job)
                .await
                .map_err(|e| backend_error("push", e))
        } else {
            unreachable!("a queue is either Redis or SQLite")
        }
    }

    /// Jobs waiting in a stage's queue (not yet taken by a worker).
    pub async fn depth(&self, stage: &StageName) -> Result<u64, QueueError> {
        let name = self.queue_name(stage);
        if self.is_live(stage) {
            return match self {
                JobQueue::Redis { conn, .. } => {
                    let mut conn = conn.clone();
                    let len: u64 = redis::cmd("LLEN")
                        .arg(self.live_key(stage))
                        .query_async(&mut conn)
                        .await?;
                    Ok(len)
                }
                JobQueue::Sqlite { local, .. } => Ok(local.queue(stage).len() as u64),
            };
        }
        match self {
            JobQueue::Redis { conn, .. } => {
                let mut conn = conn.clone();
                // One MULTI/EXEC snapshot: a worker's fetch moves jobs from the scheduled set
                // to the active list, and two separate reads could miss them in between.
                let (active, scheduled): (u64, u64) = redis::pipe()
                    .atomic()
                    .cmd("LLEN")
                    .arg(format!("{name}:active"))
                    .cmd("ZCARD")
                    .arg(format!("{name}:scheduled"))
                    .query_async(&mut conn)
                    .await?;
                Ok(active + scheduled)
            }
            JobQueue::Sqlite { pool, .. } => {
                let count: i64 = sea_orm::sqlx::query_scalar(
                    "SELECT COUNT(*) FROM Jobs WHERE job_type = ?1 AND status IN ('Pending','Queued')",
                )
                .bind(&name)
                .fetch_one(pool)
                .await
                ?;
                Ok(count.max(0) as u64)
            }
        }
    }

    /// Checks the backend answers (for `/readyz`).
    pub async fn check(&self) -> Result<(), QueueError> {
        match self {
            JobQueue::Redis { conn, .. } => {
                let mut conn = conn.clone();
                let _: String = redis::cmd("PING").query_async(&mut conn).await?;
                Ok(())
            }
            JobQueue::Sqlite { pool, .. } => {
                sea_orm::sqlx::query("SELECT 1").execute(pool).await?;
                Ok(())
            }
        }
    }

    /// Deletes every job and key of this namespace (benchmarks and tests clean up with it).
    pub async fn purge(&self) -> Result<u64, QueueError> {
        let pattern = format!("{}:*", self.namespace());
        match self {
            JobQueue::Redis { conn, .. } => {
                let mut conn = conn.clone();
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(&pattern)
                    .query_async(&mut conn)
                    .await?;
                for chunk in keys.chunks(500) {
                    let _: () = redis::cmd("DEL").arg(chunk).query_async(&mut conn).await?;
                }
                Ok(keys.len() as u64)
            }
            JobQueue::Sqlite { pool, .. } => {
                let result = sea_orm::sqlx::query("DELETE FROM Jobs WHERE job_type LIKE ?1")
                    .bind(pattern.replace('*', "%"))
                    .execute(pool)
                    .await?;
                Ok(result.rows_affected())
            }
        }
    }

    /// Removes finished jobs older than `age` from every stage queue. Returns how many.
    pub async fn vacuum(&self, stages: &[StageName], age: Duration) -> Result<u64, QueueError> {
        let mut removed = 0u64;
        for stage in stages {
            let name = self.queue_name(stage);
            match self {
                JobQueue::Redis { conn, .. } => {
                    let mut storage = self.redis_storage(stage).expect("redis backend");
                    removed += storage
                        .vacuum_before(age)
                        .await
                        .map_err(|e| backend_error("vacuum", e))?
                        as u64;
                    // The id sets only feed apalis's own stats; they would grow forever.
                    let mut conn = conn.clone();
                    let _: () = redis::cmd("DEL")
                        .arg(format!("{name}:done"))
                        .arg(format!("{name}:dead"))
                        .query_async(&mut conn)
                        .await?;
                }
                JobQueue::Sqlite { pool, .. } => {
                    let result = sea_orm::sqlx::query(
                        "DELETE FROM Jobs WHERE job_type = ?1 AND done_at IS NOT NULL \
                         AND done_at < CAST(strftime('%s','now') AS INTEGER) - ?2 \
                         AND status IN ('Done','Killed','Failed')",
                    )
                    .bind(&name)
                    .bind(age.as_secs() as i64)
                    .execute(pool)
                    .await?;
                    removed += result.rows_affected();
                }
            }
        }
        Ok(removed)
    }
}
