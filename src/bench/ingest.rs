//! `caly bench ingest`.

use super::stats::percentiles;
use super::{bench_app, call_sid, status_body};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

async fn raw_insert_rate(
    url: &secrecy::SecretString,
    backend: DbBackend,
    concurrency: usize,
    n: usize,
) -> anyhow::Result<(f64, f64)> {
    let db = caly_core::platform::db::connect(
        url,
        concurrency.max(1) as u32,
        caly_core::platform::db::Commit::Durable,
        &Default::default(),
    )
    .await?;
    let create = match backend {
        DbBackend::Postgres => {
            "CREATE TABLE IF NOT EXISTS bench_raw_insert (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"
        }
        _ => {
            "CREATE TABLE IF NOT EXISTS bench_raw_insert (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)"
        }
    };
    db.execute_unprepared(create).await?;
    let sql = match backend {
        DbBackend::Postgres => "INSERT INTO bench_raw_insert (body) VALUES ($1)",
        _ => "INSERT INTO bench_raw_insert (body) VALUES (?)",
    };
    let body = status_body("raw", None).to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (db, next, body) = (db.clone(), next.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let sent = Instant::now();
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [body.clone().into()],
                ))
                .await?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, sea_orm::DbErr>(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    db.execute_unprepared("DROP TABLE bench_raw_insert").await?;
    let (_, p99) = percentiles(&mut latencies);
    Ok((rate, p99))
}

async fn webhook_rate(
    url: &str,
    concurrency: usize,
    n: usize,
    tag: &str,
) -> anyhow::Result<(f64, f64, f64)> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, url, tag) = (
            client.clone(),
            next.clone(),
            url.to_string(),
            tag.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let body = status_body(&call_sid(&tag, i), None);
                let sent = Instant::now();
                let response = client.post(&url).json(&body).send().await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "webhook answered {}",
                    response.status()
                );
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(&mut latencies);
    Ok((rate, p50, p99))
}

async fn paced(url: &str, rate: u64, seconds: u64) -> anyhow::Result<(f64, f64, f64)> {
    let client = reqwest::Client::new();
    let total = (rate * seconds) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        ticker.tick().await;
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = client
                .post(&url)
                .json(&status_body(&call_sid("paced", i), None))
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "webhook answered {}",
                response.status()
            );
            Ok::<_, anyhow::Error>(sent.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.push(task.await??);
    }
    let achieved = total as f64 / started.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(&mut latencies);
    Ok((achieved, p50, p99))
}

/// Runs the ingest benchmark.
pub async fn run(requests: usize, levels: &[usize], rate: u64, seconds: u64) -> anyhow::Result<()> {
    // A queue bound no run reaches: every accepted webhook is also pushed, as in steady state.
    let bench = bench_app("ingest", u64::MAX / 4).await?;
    let app = bench.app.clone();
    let (hook, stop) = bench.serve_api().await?;
    let backend = app.db.get_database_backend();
    println!(
        "caly bench ingest — database {backend:?}, queue {:?}, {requests} requests per level",
        app.queue
    );
    println!(
        "{:>8} {:>12} {:>8} {:>8} {:>16} {:>12}",
        "senders", "webhooks/s", "p50 ms", "p99 ms", "raw inserts/s", "raw p99 ms"
    );
    for &c in levels {
        let (raw, raw_p99) =
            raw_insert_rate(&app.settings.database_url, backend, c, requests).await?;
        let (accepted, p50, p99) = webhook_rate(&hook, c, requests, &format!("c{c}")).await?;
        println!("{c:>8} {accepted:>12.0} {p50:>8.2} {p99:>8.2} {raw:>16.0} {raw_p99:>12.2}");
    }
    let (achieved, p50, p99) = paced(&hook, rate, seconds).await?;
    println!(
        "paced at {rate}/s for {seconds}s: achieved {achieved:.0}/s, p50 {p50:.2} ms, p99 {p99:.2} ms"
    );
    stop.cancel();
    app.queue.purge().await?;
    Ok(())
}
