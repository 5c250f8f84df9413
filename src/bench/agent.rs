//! `caly bench agent`: text-turn latency with the offline agent against the local store, at
//! several numbers of concurrent conversations, split into queue hand-off, Shopify and agent.
//! The api and the workers run in this process, on the configured database and queue.

use super::bench_app;
use super::stats::percentiles;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// What each conversation says, in a loop: an order question that needs a proof, the proof,
/// a follow-up, a product question and a policy question.
const SCRIPT: [&str; 5] = [
    "mera order kahan hai, two oh four one",
    "Rahul Verma",
    "and the tracking number?",
    "is the cotton kurta available in large",
    "what are your working hours",
];

/// One answered turn's timings.
#[derive(Default)]
struct Timed {
    total: Vec<Duration>,
    queue: Vec<Duration>,
    shopify: Vec<Duration>,
    agent: Vec<Duration>,
    handback: Vec<Duration>,
}

fn ms(value: &Value) -> Duration {
    Duration::from_millis(value.as_u64().unwrap_or(0))
}

async fn converse(
    client: reqwest::Client,
    base: String,
    key: String,
    caller: String,
    turns: usize,
) -> anyhow::Result<Timed> {
    let opened: Value = client
        .post(format!("{base}/api/v1/calls"))
        .bearer_auth(&key)
        .json(&json!({"channel": "text", "caller": caller}))
        .send()
        .await?
        .json()
        .await?;
    let id = opened["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no conversation: {opened}"))?;
    let mut timed = Timed::default();
    for n in 0..turns {
        let sent = Instant::now();
        let answer: Value = client
            .post(format!("{base}/api/v1/calls/{id}/turns"))
            .bearer_auth(&key)
            .json(&json!({"text": SCRIPT[n % SCRIPT.len()]}))
            .send()
            .await?
            .json()
            .await?;
        let total = sent.elapsed();
        anyhow::ensure!(
            answer["status"] == "answered",
            "a turn was not answered: {answer}"
        );
        let latency = &answer["latency_ms"];
        timed.total.push(total);
        timed.queue.push(ms(&latency["queue"]));
        timed.shopify.push(ms(&latency["shopify"]));
        timed.agent.push(ms(&latency["agent"]));
        timed
            .handback
            .push(total.saturating_sub(ms(&latency["total"])));
    }
    Ok(timed)
}

/// Runs the benchmark and prints its table.
pub async fn run(turns: usize, levels: &[usize]) -> anyhow::Result<()> {
    let bench = bench_app("agent", 5000).await?;
    let app = bench.app.clone();
    let _store = bench.connect_local_store().await?;
    let (_, stop) = bench.serve_api().await?;
    let listener_base = bench.base_url();
    let concurrency = levels.iter().copied().max().unwrap_or(1);
    let workers = super::spawn_workers(&app, concurrency, &stop);
    let key = bench.tenant.api_key.expose_secret().to_string();
    println!(
        "caly bench agent: offline agent, local store, {} turns per level",
        turns
    );
    println!(
        "{:>13} {:>9} {:>17} {:>17} {:>17} {:>17} {:>17}",
        "conversations",
        "turns/s",
        "turn p50/p99 ms",
        "queue p50/p99",
        "shopify p50/p99",
        "agent p50/p99",
        "hand-back p50/p99"
    );
    for &level in levels {
        let client = reqwest::Client::new();
        let per_conversation = turns.div_ceil(level.max(1));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..level.max(1) {
            let caller = format!("+9198{:08}", 10_000_000 + c);
            tasks.push(tokio::spawn(converse(
                client.clone(),
                listener_base.clone(),
                key.clone(),
                caller,
                per_conversation,
            )));
        }
        let mut all = Timed::default();
        for task in tasks {
            let timed = task.await??;
            all.total.extend(timed.total);
            all.queue.extend(timed.queue);
            all.shopify.extend(timed.shopify);
            all.agent.extend(timed.agent);
            all.handback.extend(timed.handback);
        }
        let rate = all.total.len() as f64 / started.elapsed().as_secs_f64();
        let pair = |values: &mut Vec<Duration>| {
            let (p50, p99) = percentiles(values);
            format!("{p50:.1} / {p99:.1}")
        };
        println!(
            "{:>13} {:>9.0} {:>17} {:>17} {:>17} {:>17} {:>17}",
            level,
            rate,
            pair(&mut all.total),
            pair(&mut all.queue),
            pair(&mut all.shopify),
            pair(&mut all.agent),
            pair(&mut all.handback)
        );
    }
    stop.cancel();
    let _ = workers.await;
    Ok(())
}
