//! `caly bench dashboard`: p50 and p95 of every dashboard and analytics endpoint (and the two
//! pages) over HTTP against the api served in-process, for the tenant with the most calls (or
//! `--tenant`), next to a plain `SELECT count(*)` of that tenant's calls timed in the same run.
//! Seed the tenant first with `caly seed-demo --calls 1000000`.

use super::stats::quantile;
use caly_core::analytics::range::ist_today;
use caly_core::platform::settings::Settings;
use caly_core::tenancy::accounts::{Scope, api_keys};
use caly_core::{App, TenantId};
use caly_entities::call;
use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QuerySelect, Statement};
use secrecy::ExposeSecret;
use std::time::{Duration as Elapsed, Instant};
use tokio_util::sync::CancellationToken;

/// p50 and p95 of latencies, ms.
fn p50_p95(latencies: &mut [Elapsed]) -> (f64, f64) {
    latencies.sort_unstable();
    (quantile(latencies, 0.50), quantile(latencies, 0.95))
}

/// The tenant with the most calls.
async fn busiest(app: &App) -> anyhow::Result<TenantId> {
    let row: Option<(i64, i64)> = call::Entity::find()
        .select_only()
        .column(call::Column::TenantId)
        .column_as(call::Column::Id.count(), "n")
        .group_by(call::Column::TenantId)
        .into_tuple()
        .all(&app.db)
        .await?
        .into_iter()
        .max_by_key(|(_, n)| *n);
    row.map(|(t, _)| TenantId(t))
        .ok_or_else(|| anyhow::anyhow!("no calls: run `caly seed-demo --calls 1000000` first"))
}

/// This process's resident memory, MiB (Linux; 0 elsewhere).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Streams every call of the last `days` as CSV through the api, reading the body as it comes,
/// and samples this process's resident memory (the api's, which serves in this process) every
/// 50 ms: before, at its peak, and after.
async fn export_memory(base: &str, key: &str, days: i64) -> anyhow::Result<()> {
    let to = ist_today(Utc::now());
    let from = to - Duration::days(days - 1);
    let before = rss_mib();
    let peak = std::sync::Arc::new(std::sync::Mutex::new(before));
    let done = CancellationToken::new();
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.is_cancelled() {
                let now = rss_mib();
                {
                    let mut top = peak.lock().unwrap_or_else(|e| e.into_inner());
                    *top = top.max(now);
                }
                tokio::time::sleep(Elapsed::from_millis(50)).await;
            }
        })
    };
    let started = Instant::now();
    let mut response = reqwest::Client::new()
        .get(format!(
            "{base}/api/v1/exports/calls?from={from}&to={to}&format=csv"
        ))
        .bearer_auth(key)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "export answered {}",
        response.status()
    );
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    done.cancel();
    sampler.await?;
    let peak = *peak.lock().unwrap_or_else(|e| e.into_inner());
    println!(
        "export of {} calls ({:.0} MiB of CSV) in {:.1} s: resident memory {before:.0} MiB before, {peak:.0} MiB at its peak, {:.0} MiB after",
        lines.saturating_sub(1),
        bytes as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64(),
        rss_mib()
    );
    Ok(())
}

/// Runs the benchmark: `requests` timed requests per endpoint after a few warm-ups, then (with
/// `export_days`) a streamed export of that many days' calls with the process's memory sampled.
pub async fn run(
    tenant: Option<i64>,
    requests: usize,
    days: i64,
    export_days: Option<i64>,
) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let migrate = settings.is_sqlite();
    // Dashboard requests, as an api process serves them.
    let role = caly_core::platform::pools::ProcessRole::api(&settings);
    let app = App::connect(settings, migrate, role).await?;
    let tenant = match tenant {
        Some(id) => TenantId(id),
        None => busiest(&app).await?,
    };
    let backend = app.db.get_database_backend();
    let count_sql = match backend {
        sea_orm::DbBackend::Postgres => "SELECT count(*) AS n FROM calls WHERE tenant_id = $1",
        _ => "SELECT count(*) AS n FROM calls WHERE tenant_id = ?1",
    };
    let mut counts = Vec::new();
    let mut calls = 0i64;
    for _ in 0..7 {
        let started = Instant::now();
        let row = app
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                count_sql,
                [tenant.0.into()],
            ))
            .await?;
        counts.push(started.elapsed());
        calls = row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
    }
    let (key, secret) = api_keys::create(
        &app.db,
        tenant,
        "bench dashboard",
        Scope::Read,
        None,
        Utc::now(),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let stop = CancellationToken::new();
    tokio::spawn(caly_api::serve(
        app.clone(),
        listener,
        stop.clone().cancelled_owned(),
    ));
    let client = reqwest::Client::new();
    let to = ist_today(Utc::now());
    let from = to - Duration::days(days - 1);
    let range = format!("from={from}&to={to}");
    let endpoints = [
        "/api/v1/analytics/summary",
        "/api/v1/analytics/daily",
        "/api/v1/analytics/intents",
        "/api/v1/analytics/heatmap",
        "/api/v1/analytics/agents",
        "/api/v1/analytics/agents/daily",
        "/api/v1/analytics/people",
        "/api/v1/analytics/teams",
        "/",
        "/analytics",
    ];
    println!(
        "caly bench dashboard: tenant {} with {calls} calls on {}, range {from}..{to} ({days} days), {requests} requests each",
        tenant.0,
        if migrate { "SQLite" } else { "PostgreSQL" }
    );
    let (count_p50, count_p95) = p50_p95(&mut counts);
    println!("{:<34} {:>9} {:>9}", "", "p50 ms", "p95 ms");
    println!(
        "{:<34} {count_p50:>9.2} {count_p95:>9.2}",
        "SELECT count(*) (plain, 7 runs)"
    );
    for path in endpoints {
        let url = format!("{base}{path}?{range}");
        let mut latencies = Vec::with_capacity(requests);
        for i in 0..requests + 3 {
            let started = Instant::now();
            let response = client
                .get(&url)
                .bearer_auth(secret.expose_secret())
                .send()
                .await?;
            let status = response.status();
            let _ = response.bytes().await?;
            anyhow::ensure!(status.is_success(), "{path} answered {status}");
            if i >= 3 {
                latencies.push(started.elapsed());
            }
        }
        let (p50, p95) = p50_p95(&mut latencies);
        println!("{path:<34} {p50:>9.2} {p95:>9.2}");
    }
    if let Some(export_days) = export_days {
        export_memory(&base, secret.expose_secret(), export_days.max(1)).await?;
    }
    stop.cancel();
    api_keys::revoke(&app.db, tenant, key.id, Utc::now())
        .await
        .ok();
    Ok(())
}
