//! The live lane: queues for stages a caller is waiting on (a voice turn, a text turn). Workers
//! are woken on push, never by polling: a blocking pop (`BLPOP`) on a Redis list in production,
//! an in-process queue with a wake-up on the embedded default (where api and workers share one
//! process). As on every lane, the queue only dispatches; the stage-run rows are the truth, so
//! a job lost with a worker is pushed again by the dispatcher.

use caly_jobs::{StageJob, StageName};
use redis::AsyncCommands;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

use super::queue::QueueError;

/// Longest one blocking pop waits before the consumer looks at its stop signal again.
pub const POP_WAIT: Duration = Duration::from_secs(1);

/// In-process live queues, one per stage.
#[derive(Default)]
pub struct LocalLive {
    queues: Mutex<HashMap<StageName, Arc<LocalQueue>>>,
}

/// One stage's in-process queue.
#[derive(Default)]
pub struct LocalQueue {
    jobs: Mutex<VecDeque<StageJob>>,
    wake: Notify,
}

impl LocalLive {
    /// The queue of `stage`.
    pub fn queue(&self, stage: &StageName) -> Arc<LocalQueue> {
        self.queues
            .lock()
            .expect("live queue lock")
            .entry(stage.clone())
            .or_default()
            .clone()
    }
}

impl LocalQueue {
    /// Adds a job and wakes a consumer.
    pub fn push(&self, job: StageJob) {
        self.jobs.lock().expect("live queue lock").push_back(job);
        self.wake.notify_one();
    }

    /// Jobs waiting.
    pub fn len(&self) -> usize {
        self.jobs.lock().expect("live queue lock").len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the oldest job, waiting up to `wait` for one.
    pub async fn pop(&self, wait: Duration) -> Option<StageJob> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let woken = self.wake.notified();
            if let Some(job) = self.jobs.lock().expect("live queue lock").pop_front() {
                return Some(job);
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return None;
            }
        }
    }
}

/// Takes live jobs of one stage for one worker process.
pub enum LiveConsumer {
    /// A dedicated Redis connection for blocking pops.
    Redis {
        /// The connection (blocking commands would stall a shared one).
        conn: redis::aio::MultiplexedConnection,
        /// The list.
        key: String,
    },
    /// The in-process queue.
    Local(Arc<LocalQueue>),
}

/// A dedicated connection whose replies may take as long as a blocking pop.
pub async fn blocking_connection(
    client: &redis::Client,
) -> Result<redis::aio::MultiplexedConnection, QueueError> {
    let config = redis::AsyncConnectionConfig::new()
        .set_response_timeout(Some(POP_WAIT + Duration::from_secs(5)));
    Ok(client
        .get_multiplexed_async_connection_with_config(&config)
        .await?)
}

impl LiveConsumer {
    /// The next job, or `None` after [`POP_WAIT`] without one.
    pub async fn pop(&mut self) -> Result<Option<StageJob>, QueueError> {
        match self {
            LiveConsumer::Local(queue) => Ok(queue.pop(POP_WAIT).await),
            LiveConsumer::Redis { conn, key } => {
                let popped: Option<(String, String)> =
                    conn.blpop(&*key, POP_WAIT.as_secs_f64()).await?;
                match popped {
                    None => Ok(None),
                    Some((_, text)) => match serde_json::from_str(&text) {
                        Ok(job) => Ok(Some(job)),
                        Err(error) => {
                            // Unreadable: the dispatcher offers its run again.
                            tracing::error!(%error, "unreadable live job dropped");
                            Ok(None)
                        }
                    },
                }
            }
        }
    }
}
