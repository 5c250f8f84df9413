//! Two scheduler replicas never both run the dispatcher or the same cron tick.

use crate::support::{Backend, TestApp};
use chrono::Utc;

async fn replicas_never_double_run(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = Utc::now();
    let (a, b) = tokio::join!(
        caly_scheduler::dispatch_tick(&app.app, "replica-a", now),
        caly_scheduler::dispatch_tick(&app.app, "replica-b", now),
    );
    let ran = [a.unwrap().is_some(), b.unwrap().is_some()];
    assert_eq!(
        ran.iter().filter(|r| **r).count(),
        1,
        "exactly one dispatched: {ran:?}"
    );
    let holder = if ran[0] { "replica-a" } else { "replica-b" };
    let other = if ran[0] { "replica-b" } else { "replica-a" };
    // The holder keeps its lease on the next tick; the other still waits.
    assert!(
        caly_scheduler::dispatch_tick(&app.app, holder, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        caly_scheduler::dispatch_tick(&app.app, other, now)
            .await
            .unwrap()
            .is_none()
    );
    // Once the lease lapses (the holder died), the other takes over.
    let later = now + chrono::Duration::minutes(5);
    assert!(
        caly_scheduler::dispatch_tick(&app.app, other, later)
            .await
            .unwrap()
            .is_some()
    );

    // A cron tick fires in both replicas; only one runs it, and the next tick is new work.
    let tick = now;
    let (a, b) = tokio::join!(
        caly_scheduler::claim_cron_tick(&app.app, "vacuum_queue", tick, "replica-a", now),
        caly_scheduler::claim_cron_tick(&app.app, "vacuum_queue", tick, "replica-b", now),
    );
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|r| **r).count(), 1);
    let next = tick + chrono::Duration::minutes(5);
    assert!(
        caly_scheduler::claim_cron_tick(&app.app, "vacuum_queue", next, "replica-b", now)
            .await
            .unwrap()
    );
    app.stop().await;
}

both_backends!(replicas_never_double_run);
