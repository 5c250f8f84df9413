//! An in-process estimate of each stage queue's depth, so the hot path does not ask the queue
//! for every webhook. The estimate re-reads the real depth every [`REFRESH`], or sooner once
//! this process has pushed [`MAX_UNREAD_PUSHES`] jobs since the last read, and counts its own
//! pushes in between (it never counts jobs taken by workers, so it errs on the full side).
//! So one process overshoots what it last read by at most `MAX_UNREAD_PUSHES`.

use crate::platform::queue::{JobQueue, QueueError};
use caly_jobs::StageName;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the real depth is read.
pub const REFRESH: Duration = Duration::from_millis(100);

/// Pushes one process may make on an estimate before reading the real depth again.
pub const MAX_UNREAD_PUSHES: u64 = 32;

#[derive(Debug, Clone, Copy)]
struct Reading {
    at: Instant,
    depth: u64,
    pushed_since: u64,
}

/// Per-stage depth estimates, and which stages have runs held back in the database.
#[derive(Debug, Default)]
pub struct DepthGauge {
    readings: Mutex<HashMap<StageName, Reading>>,
    /// Stages whose queue was full, with when that was last confirmed.
    held_back: Mutex<HashMap<StageName, Instant>>,
}

impl DepthGauge {
    /// Notes that `stage` has runs held back (its queue was full, or the database says so).
    pub fn mark_held_back(&self, stage: &StageName) {
        let mut held = self.held_back.lock().expect("gauge lock");
        held.insert(stage.clone(), Instant::now());
    }

    /// Notes that nothing of `stage` is held back any more.
    pub fn clear_held_back(&self, stage: &StageName) {
        self.held_back.lock().expect("gauge lock").remove(stage);
    }

    /// True while `stage` is marked as having runs held back.
    pub fn is_held_back(&self, stage: &StageName) -> bool {
        self.held_back
            .lock()
            .expect("gauge lock")
            .contains_key(stage)
    }

    /// True when `stage` is marked held back and the mark is older than [`REFRESH`]: time to
    /// ask the database again.
    pub fn held_back_recheck_due(&self, stage: &StageName) -> bool {
        let held = self.held_back.lock().expect("gauge lock");
        held.get(stage).is_some_and(|at| at.elapsed() >= REFRESH)
    }

    /// Reserves one push on `stage` if the estimated depth is below `target`.
    pub async fn reserve(
        &self,
        queue: &JobQueue,
        stage: &StageName,
        target: u64,
    ) -> Result<bool, QueueError> {
        let fresh = self
            .readings
            .lock()
            .expect("gauge lock")
            .get(stage)
            .is_some_and(|r| r.at.elapsed() < REFRESH && r.pushed_since < MAX_UNREAD_PUSHES);
        if !fresh {
            let depth = queue.depth(stage).await?;
            self.readings.lock().expect("gauge lock").insert(
                stage.clone(),
                Reading {
                    at: Instant::now(),
                    depth,
                    pushed_since: 0,
                },
            );
        }
        let mut readings = self.readings.lock().expect("gauge lock");
        let reading = readings.get_mut(stage).expect("just read");
        if reading.depth + reading.pushed_since < target {
            reading.pushed_since += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }
}
