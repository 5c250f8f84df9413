//! Work started ahead of the step that needs it, on its own task: the step takes the result
//! once, waiting for it if it is not done. Dropped untaken, the work is abandoned (its task
//! aborted). Live turns use it to read and think while a write is on its way.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::task::AbortOnDropHandle;

/// A result being worked out on its own task; clones share it, and only one takes it.
pub struct Ahead<T>(Arc<Mutex<Option<AbortOnDropHandle<T>>>>);

impl<T> Clone for Ahead<T> {
    fn clone(&self) -> Self {
        Ahead(self.0.clone())
    }
}

impl<T> std::fmt::Debug for Ahead<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let waiting = self.0.lock().map(|slot| slot.is_some()).unwrap_or(false);
        write!(f, "Ahead({})", if waiting { "waiting" } else { "taken" })
    }
}

impl<T: Send + 'static> Ahead<T> {
    /// Starts `work` now.
    pub fn start(work: impl Future<Output = T> + Send + 'static) -> Self {
        Ahead(Arc::new(Mutex::new(Some(AbortOnDropHandle::new(
            tokio::spawn(work),
        )))))
    }

    /// The result, once: `None` when it was taken already or its task did not finish (it
    /// panicked).
    pub async fn take(&self) -> Option<T> {
        let task = self.0.lock().expect("ahead lock").take()?;
        task.await.ok()
    }

    /// The result if it is ready within `wait`, once. `None` when it is not (the work goes on,
    /// to be taken later), was taken already, or did not finish.
    pub async fn take_within(&self, wait: Duration) -> Option<T> {
        let mut task = self.0.lock().expect("ahead lock").take()?;
        match tokio::time::timeout(wait, &mut task).await {
            Ok(done) => done.ok(),
            Err(_) => {
                *self.0.lock().expect("ahead lock") = Some(task);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_result_is_taken_once_by_any_clone() {
        let ahead = Ahead::start(async { 6 * 7 });
        let other = ahead.clone();
        assert_eq!(other.take().await, Some(42));
        assert_eq!(ahead.take().await, None);
        assert_eq!(format!("{ahead:?}"), "Ahead(taken)");
    }

    #[tokio::test]
    async fn work_not_ready_in_time_stays_to_be_taken_later() {
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let ahead = Ahead::start(async move { rx.await.unwrap_or(0) });
        assert_eq!(ahead.take_within(Duration::from_millis(5)).await, None);
        tx.send(7).unwrap();
        assert_eq!(ahead.take_within(Duration::from_secs(5)).await, Some(7));
        assert_eq!(
            ahead.take_within(Duration::from_secs(5)).await,
            None,
            "taken once"
        );
    }

    #[tokio::test]
    async fn work_dropped_untaken_is_abandoned() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let ahead = Ahead::start(async move {
            let _tx = tx;
            std::future::pending::<()>().await
        });
        drop(ahead);
        // The task's end drops the sender: the receiver hears it closed.
        assert!(rx.await.is_err());
    }
}
