//! `caly bench pipeline`.

use super::{BenchApp, bench_app, bench_app_with, call_sid, status_body};
use apalis::prelude::*;
use axum::http::StatusCode;
use caly_core::pipeline::stages::ingest;
use caly_core::platform::pools::{Pooler, ProcessRole};
use caly_core::platform::settings::{Settings, StorageSettings, redact_url};
use caly_entities::{ledger_entry, recording};
use caly_jobs::{StageJob, StageRunId};
use futures::StreamExt;
use sea_orm::{EntityTrait, PaginatorTrait};
use secrecy::ExposeSecret;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// 8 KiB that start like an MP3 (an ID3 tag), as Exotel's recordings do: Caly stores only
/// what looks like audio.
const RECORDING: &[u8] = &recording();

const fn recording() -> [u8; 8 * 1024] {
    let mut bytes = [0u8; 8 * 1024];
    bytes[0] = b'I';
    bytes[1] = b'D';
    bytes[2] = b'3';
    bytes[3] = 3;
    bytes
}

async fn raw_redis_rate(url: &str, n: usize, concurrency: usize) -> anyhow::Result<f64> {
    let client = redis::Client::open(url)?;
    let conn = client.get_connection_manager().await?;
    let key = format!("bench_raw_{}", std::process::id());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (mut conn, next, key) = (conn.clone(), next.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let _: () = redis::cmd("LPUSH")
                    .arg(&key)
                    .arg("x".repeat(64))
                    .query_async(&mut conn)
                    .await?;
                let _: Option<String> = redis::cmd("RPOP").arg(&key).query_async(&mut conn).await?;
            }
            Ok::<_, redis::RedisError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn noop(_job: StageJob, counter: Data<Arc<AtomicUsize>>) -> Result<(), BoxDynError> {
    counter.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Jobs per second through the project's queue layer with a handler that does nothing.
async fn noop_rate(bench: &BenchApp, n: usize) -> anyhow::Result<f64> {
    let queue = bench.app.queue.clone();
    let counter = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let started = Instant::now();
    let signal = stop.clone();
    // The two backends are different types with the same builder calls.
    macro_rules! noop_worker {
        ($storage:expr) => {{
            let (storage, counter) = ($storage, counter.clone());
            Monitor::new().register(move |r| {
                WorkerBuilder::new(format!("noop-{}-{r}", std::process::id()))
                    .backend(
                        storage
                            .clone()
                            .poll_with_interval(caly_core::platform::queue::POLL_INTERVAL),
                    )
                    .data(counter.clone())
                    .concurrency(64)
                    .build(noop)
            })
        }};
    }
    let monitor = match (
        queue.redis_storage(&ingest::NAME),
        queue.sqlite_storage(&ingest::NAME),
    ) {
        (Some(storage), _) => noop_worker!(storage),
        (None, Some(storage)) => noop_worker!(storage),
        (None, None) => anyhow::bail!("no queue backend"),
    };
    let running = tokio::spawn(monitor.run_with_signal(async move {
        signal.cancelled().await;
        Ok(())
    }));
    // Keep at most 1,000 jobs queued: a deeper Redis backlog trips apalis-redis's unpack limit.
    let mut pushed = 0;
    while counter.load(Ordering::Relaxed) < n {
        let backlog = pushed - counter.load(Ordering::Relaxed);
        for _ in 0..(1000usize.saturating_sub(backlog)).min(n - pushed) {
            queue
                .push(StageJob::new(StageRunId(pushed as i64), ingest::NAME))
                .await?;
            pushed += 1;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    stop.cancel();
    let _ = running.await;
    Ok(rate)
}

/// Worker processes, killed when dropped (also when a run fails half-way).
struct WorkerProcesses(Vec<Child>);

impl Drop for WorkerProcesses {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts a `caly worker` at its default settings (concurrency, pools) on the bench's
/// deployment; `through` is the database URL of a transaction-mode pooler to use instead.
fn spawn_worker(bench: &BenchApp, through: Option<&str>) -> anyhow::Result<Child> {
    let settings = &bench.app.settings;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("worker")
        .env("CALY_QUEUE_NAMESPACE", &settings.queue_namespace)
        .env("CALY_MASTER_KEY", bench.app.key.to_base64())
        .env("CALY_RECORDING_HOSTS", "127.0.0.1")
        // The bench's recording server is on loopback, over http.
        .env("CALY_EGRESS_ALLOW_LOOPBACK", "true")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(url) = through {
        command
            .env("DATABASE_URL", url)
            .env("CALY_DB_POOLER", "transaction");
    }
    if let StorageSettings::Local { root } = &settings.storage {
        command.env("CALY_STORAGE_DIR", root);
    }
    Ok(command.spawn()?)
}

/// The most client connections PostgreSQL held at once while `stop` was not cancelled,
/// sampled every 50 ms (PostgreSQL's own count, through any pooler).
fn sample_connections(
    db: caly_core::platform::db::Db,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    tokio::spawn(async move {
        let sql = "SELECT count(*)::int8 AS n FROM pg_stat_activity WHERE backend_type = 'client backend'";
        let mut peak = 0;
        while !stop.is_cancelled() {
            let statement = Statement::from_string(db.get_database_backend(), sql);
            if let Ok(Some(row)) = db.query_one_raw(statement).await {
                peak = peak.max(row.try_get::<i64>("", "n").unwrap_or(0));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak
    })
}

async fn serve_recordings() -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = axum::Router::new().route(
        "/exotelrecordings/{account}/{file}",
        axum::routing::get(|| async {
            (StatusCode::OK, [("content-type", "audio/mpeg")], RECORDING)
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(base)
}

/// A run of `tenant`'s that failed, if any.
async fn failed_run(
    app: &caly_core::App,
    tenant: i64,
) -> anyhow::Result<Option<caly_entities::stage_run::Model>> {
    use caly_entities::stage_run;
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant))
        .filter(stage_run::Column::Status.eq(caly_core::RunStatus::Failed))
        .one(&app.db)
        .await?)
}

/// One run's figures.
struct PipelineRun {
    calls_per_second: f64,
    peak_connections: i64,
}

async fn pipeline_rate(
    calls: usize,
    workers: usize,
    through: Option<&str>,
) -> anyhow::Result<PipelineRun> {
    // This process is the api and the scheduler; the workers are processes of their own.
    let role = |settings: &Settings| {
        ProcessRole::Together(vec![ProcessRole::api(settings), ProcessRole::Scheduler])
    };
    let bench = bench_app_with(&format!("pipe{workers}"), 2000, role, |settings| {
        if let Some(url) = through {
            settings.database_url = url.to_string().into();
            settings.db.pooler = Pooler::Transaction;
        }
    })
    .await?;
    let app = bench.app.clone();
    let (hook, stop) = bench.serve_api().await?;
    tokio::spawn(caly_scheduler::run(
        app.clone(),
        format!("bench-{workers}"),
        stop.clone().cancelled_owned(),
    ));
    let recordings = serve_recordings().await?;
    let sampling = CancellationToken::new();
    let peak = sample_connections(app.db.clone(), sampling.clone());
    let _children = WorkerProcesses(
        (0..workers)
            .map(|_| spawn_worker(&bench, through))
            .collect::<Result<Vec<_>, _>>()?,
    );
    let client = reqwest::Client::new();
    let tag = app.settings.queue_namespace.clone();
    let started = Instant::now();
    let sent = futures::stream::iter(0..calls)
        .map(|i| {
            let sid = call_sid(&tag, i);
            let body = status_body(
                &sid,
                Some(&format!("{recordings}/exotelrecordings/bench/{sid}.mp3")),
            );
            let (client, hook) = (client.clone(), hook.clone());
            async move {
                client
                    .post(hook)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
            }
        })
        .buffer_unordered(32)
        .filter(|ok| futures::future::ready(matches!(ok, Ok(true))))
        .count()
        .await;
    anyhow::ensure!(
        sent == calls,
        "only {sent} of {calls} webhooks were accepted"
    );
    let tenant = bench.tenant.tenant.id;
    loop {
        use sea_orm::{ColumnTrait, QueryFilter};
        let charged = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::TenantId.eq(tenant))
            .filter(ledger_entry::Column::Kind.eq(caly_entities::status::LedgerKind::Charge))
            .count(&app.db)
            .await?;
        let stored = recording::Entity::find()
            .filter(recording::Column::TenantId.eq(tenant))
            .count(&app.db)
            .await?;
        if charged as usize >= calls && stored as usize >= calls {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(900),
            "pipeline did not finish"
        );
        if let Some(failed) = failed_run(&app, tenant).await? {
            anyhow::bail!(
                "a {} run failed: {}",
                failed.stage,
                failed.last_error.unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = calls as f64 / started.elapsed().as_secs_f64();
    sampling.cancel();
    let peak_connections = peak.await?;
    stop.cancel();
    app.queue.purge().await?;
    Ok(PipelineRun {
        calls_per_second: rate,
        peak_connections,
    })
}

/// Runs the pipeline benchmark: a table of calls/s per worker-process count straight to
/// PostgreSQL, and a second one through `through` (a transaction-mode pooler's URL) if given.
pub async fn run(
    calls: usize,
    worker_counts: &[usize],
    through: Option<&str>,
) -> anyhow::Result<()> {
    let noop_app = bench_app("noop", u64::MAX / 4).await?;
    println!(
        "caly bench pipeline — queue {:?}, {calls} calls per run, workers at their defaults",
        noop_app.app.queue
    );
    if let Some(url) = &noop_app.app.settings.redis_url {
        let raw = raw_redis_rate(url.expose_secret(), 20_000, 16).await?;
        println!("raw Redis LPUSH+RPOP pairs/s (16 connections):      {raw:>10.0}");
    }
    let noop = noop_rate(&noop_app, 10_000).await?;
    noop_app.app.queue.purge().await?;
    println!("no-op stage jobs/s through the queue layer (apalis): {noop:>10.0}");
    let straight = redact_url(&noop_app.app.settings.database_url);
    drop(noop_app);
    let mut tables = vec![(format!("straight to PostgreSQL ({straight})"), None)];
    if let Some(url) = through {
        let shown = redact_url(&url.to_string().into());
        tables.push((format!("through a transaction pooler ({shown})"), Some(url)));
    }
    for (title, url) in tables {
        println!("\ncalls/s ingest → recording_upload → charge, {title}");
        println!("  worker processes   calls/s   peak PostgreSQL connections");
        for &workers in worker_counts {
            let run = pipeline_rate(calls, workers, url).await?;
            println!(
                "  {workers:>16}   {:>7.0}   {:>27}",
                run.calls_per_second, run.peak_connections
            );
        }
    }
    Ok(())
}
