//! A 20,000-call backlog piles up while no worker runs; two `caly worker` processes then drain
//! it without dying, and Redis never holds more than the depth bound.

use crate::support::process::WorkerProcess;
use crate::support::{Backend, Options, TestApp};
use caly_entities::call;
use futures::StreamExt;
use serde_json::json;

const CALLS: u32 = 20_000;
const BOUND: u64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_calls_drain_within_the_depth_bound() {
    let app = TestApp::spawn_opts(
        Backend::Production,
        Options {
            workers: false,
            queue_depth_bound: BOUND,
            ..Options::default()
        },
    )
    .await;
    let url = app.hook_url("status");
    let sent = futures::stream::iter(0..CALLS)
        .map(|n| {
            let (client, url) = (app.client.clone(), url.clone());
            async move {
                let body = json!({"CallSid": format!("{n:032x}"), "EventType": "terminal",
                    "Status": "completed", "From": "09876543210", "To": "08040000000",
                    "StartTime": "2026-11-21 10:00:00", "ConversationDuration": 30 + n % 600});
                client
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(32)
        .filter(|status| futures::future::ready(*status == 200))
        .count()
        .await;
    assert_eq!(
        sent, CALLS as usize,
        "every webhook accepted while workers were down"
    );
    let depth = app
        .app
        .queue
        .depth(&caly_core::pipeline::stages::ingest::NAME)
        .await
        .unwrap();
    assert!(depth <= BOUND, "depth {depth} over the bound");

    let mut workers: Vec<_> = (0..2)
        .map(|i| WorkerProcess::spawn(&app, &format!("backlog{i}"), 300))
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let mut max_depth = 0;
    loop {
        caly_core::pipeline::dispatch::dispatch_due(&app.app, chrono::Utc::now())
            .await
            .unwrap();
        for stage in app.app.stages.names() {
            max_depth = max_depth.max(app.app.queue.depth(&stage).await.unwrap());
        }
        if app.charge_count().await == CALLS as u64 {
            break;
        }
        for worker in &mut workers {
            assert!(worker.is_running(), "a worker died:\n{}", worker.log_text());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "backlog did not drain"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        max_depth <= BOUND,
        "Redis held {max_depth} jobs, over the bound {BOUND}"
    );
    assert_eq!(app.count::<call::Entity>().await, CALLS as u64);
    for worker in &mut workers {
        assert!(worker.is_running(), "a worker died:\n{}", worker.log_text());
    }
}
