//! Redis is only a dispatcher: losing it loses no work, and finished jobs are vacuumed so its
//! memory stays flat.

use crate::support::{Backend, Options, TestApp, redis_keys, sid};
use serde_json::json;
use std::time::Duration;

async fn send_calls(app: &TestApp, from: u32, count: u32) {
    for n in from..from + count {
        let r = app
            .post_json(
                "status",
                &json!({"CallSid": sid(n), "Status": "completed", "ConversationDuration": 60,
                        "RecordingUrl": app.exotel.url("ok", &sid(n))}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_redis_is_rebuilt_from_the_database() {
    // A Redis database of its own: this test wipes it.
    let url = std::env::var("CALY_TEST_REDIS_FLUSH_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/11".into());
    let app = TestApp::spawn_opts(
        Backend::Production,
        Options {
            redis_url: Some(url.clone()),
            redispatch_after: Duration::from_secs(1),
            ..Options::default()
        },
    )
    .await;
    // Workers are busy with these when Redis loses everything.
    send_calls(&app, 0, 30).await;
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("FLUSHDB").query_async(&mut conn).await.unwrap();
    send_calls(&app, 30, 20).await;
    app.drain().await;
    assert_eq!(
        app.charge_count().await,
        50,
        "every accepted webhook was charged"
    );
    assert_eq!(app.count::<caly_entities::recording::Entity>().await, 50);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_jobs_are_vacuumed_so_redis_stays_flat() {
    let app = TestApp::spawn(Backend::Production).await;
    let mut sizes = Vec::new();
    for round in 0..3 {
        send_calls(&app, round * 100, 100).await;
        app.drain().await;
        // Workers acknowledge jobs just after the database commit: vacuum until all are gone.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut removed = 0;
        let keys = loop {
            removed += app
                .app
                .queue
                .vacuum(&app.app.stages.names(), Duration::ZERO)
                .await
                .unwrap();
            let keys = redis_keys(&app).await;
            if !keys
                .iter()
                .any(|k| k.contains(":meta:") || k.ends_with(":done"))
            {
                break keys;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "finished job data is left: {keys:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(
            removed >= 300,
            "round {round}: ingest, recording and charge jobs removed"
        );
        sizes.push(keys.len());
    }
    assert_eq!(
        sizes[0], sizes[2],
        "key count is flat across rounds: {sizes:?}"
    );
    assert_eq!(app.charge_count().await, 300);
    app.stop().await;
}

/// Hand-back notices through Redis wake the key's subscriber, plain or carrying bytes (a reply
/// part the socket then plays without reading it back).
#[tokio::test]
async fn redis_hand_back_notices_wake_plain_or_carrying_bytes() {
    use caly_core::platform::handback::{Handback, Woken};
    let namespace = format!("hb{}", uuid::Uuid::new_v4().simple());
    let url = crate::support::infra::redis_url();
    // The waiter's process and another one (a worker on another node).
    let here = Handback::redis(&url, &namespace).unwrap();
    let there = Handback::redis(&url, &namespace).unwrap();
    let mut waiter = here.subscribe("voice:7").await.unwrap();
    let wait = Duration::from_secs(5);
    let quiet = Duration::from_millis(50);
    let part: Vec<u8> = (0..=255u8).cycle().take(4_000).collect();
    for (sender, through) in [(&there, "redis"), (&here, "this process")] {
        sender.notify("voice:8").await;
        sender.notify("voice:7").await;
        assert_eq!(waiter.wait(wait).await, Woken::Notified, "{through}");
        sender.notify_with("voice:7", &part).await;
        assert_eq!(
            waiter.wait(wait).await,
            Woken::Carrying(part.clone()),
            "{through}"
        );
        assert_eq!(waiter.wait(quiet).await, Woken::TimedOut, "{through}");
    }
    // Sent from this process, a notice takes the in-process channel, not Redis: the same
    // key's subscriber elsewhere hears nothing of it.
    let mut elsewhere = there.subscribe("voice:7").await.unwrap();
    here.notify("voice:7").await;
    assert_eq!(waiter.wait(wait).await, Woken::Notified);
    assert_eq!(elsewhere.wait(quiet).await, Woken::TimedOut);
    // Once its waiter is gone, this process's notices go through Redis again.
    drop(waiter);
    here.notify("voice:7").await;
    assert_eq!(elsewhere.wait(wait).await, Woken::Notified);
}
