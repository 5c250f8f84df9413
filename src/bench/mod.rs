//! `caly bench ingest` and `caly bench pipeline`: throughput and latency of Caly's pipeline,
//! printed next to the raw speed of the same PostgreSQL and Redis, measured in the same run;
//! `caly bench dashboard`: the dashboard and analytics endpoints' latency at a seeded size;
//! `caly bench agent`: text-turn latency of the offline agent against the local store;
//! `caly bench turn`: a live voice turn's latency and the pipeline's own share of it.
//! Point it at a scratch database: it creates a tenant and a `bench_raw_insert` table there.

mod agent;
mod dashboard;
mod ingest;
mod pipeline;
mod stats;
mod turn;

use caly_core::integrations::shopify::local::{ALL_SCOPES, LocalShopify, LocalShopifyOptions};
use caly_core::pipeline::StageRegistry;
use caly_core::platform::pools::ProcessRole;
use caly_core::platform::settings::Settings;
use caly_core::tenancy::profile::{StoreProfile, save_profile};
use caly_core::tenancy::shopify::{NewStore, save_store};
use caly_core::tenancy::{self, CreatedTenant, NewTenant};
use caly_core::{App, TenantId};
use chrono::Utc;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

/// Which benchmark.
#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Webhooks accepted per second and their latency, next to raw single-row inserts.
    Ingest {
        /// Requests per concurrency level.
        #[arg(long, default_value_t = 5000)]
        requests: usize,
        /// Concurrent senders to try.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        concurrency: Vec<usize>,
        /// Paced rate for the latency run (webhooks per second).
        #[arg(long, default_value_t = 500)]
        rate: u64,
        /// Seconds of the paced run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Calls per second through ingest → recording_upload → charge with 1, 2 and 4 worker
    /// processes, next to raw Redis push+pop and a no-op stage on the queue layer.
    Pipeline {
        /// Calls per worker-count run.
        #[arg(long, default_value_t = 3000)]
        calls: usize,
        /// Worker process counts to try.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
        workers: Vec<usize>,
        /// A second run's database: a transaction-mode pooler such as PgBouncer in front of
        /// the same database (its processes run with `CALY_DB_POOLER=transaction`).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// A live voice turn over the Voicebot socket: end of utterance to first reply byte, and
    /// the pipeline's own share of it, with providers stubbed at zero latency and then with
    /// the offline engines.
    Turn {
        /// Turns per call.
        #[arg(long, default_value_t = 20)]
        turns: usize,
        /// Concurrent calls with stubbed providers.
        #[arg(long, value_delimiter = ',', default_value = "1,50")]
        calls: Vec<usize>,
        /// Concurrent calls with the offline engines.
        #[arg(long, value_delimiter = ',', default_value = "1,4")]
        offline_calls: Vec<usize>,
        /// Start every call at once and send each utterance as fast as the socket takes it,
        /// instead of in real time with calls spread over one turn's length.
        #[arg(long)]
        burst: bool,
        /// The socket pushes each turn's first stage onto its live queue for a worker to pop
        /// and claim, as an api process without live workers of its own does, instead of
        /// running it in this process, whose workers consume that queue.
        #[arg(long)]
        through_queue: bool,
    },
    /// p50 and p95 of each dashboard and analytics endpoint over HTTP for the tenant with the
    /// most calls (seed one with `caly seed-demo --calls 1000000`), next to a plain
    /// `SELECT count(*)` of its calls.
    Dashboard {
        /// The tenant (the one with the most calls by default).
        #[arg(long)]
        tenant: Option<i64>,
        /// Timed requests per endpoint.
        #[arg(long, default_value_t = 100)]
        requests: usize,
        /// Days in the range asked for, up to today.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Then export this many days' calls as CSV through the api and report its resident
        /// memory before, at the peak and after.
        #[arg(long)]
        export_days: Option<i64>,
    },
    /// Text-turn latency (p50/p99) with the offline agent against the local store, split into
    /// queue hand-off, Shopify and agent, at several numbers of concurrent conversations.
    Agent {
        /// Turns per concurrency level.
        #[arg(long, default_value_t = 1000)]
        turns: usize,
        /// Concurrent conversations to try.
        #[arg(long, value_delimiter = ',', default_value = "1,50")]
        concurrency: Vec<usize>,
    },
}

/// Runs a benchmark.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Ingest {
            requests,
            concurrency,
            rate,
            seconds,
        } => ingest::run(requests, &concurrency, rate, seconds).await,
        BenchCommand::Pipeline {
            calls,
            workers,
            database_url,
        } => pipeline::run(calls, &workers, database_url.as_deref()).await,
        BenchCommand::Agent { turns, concurrency } => agent::run(turns, &concurrency).await,
        BenchCommand::Dashboard {
            tenant,
            requests,
            days,
            export_days,
        } => dashboard::run(tenant, requests, days.max(1), export_days).await,
        BenchCommand::Turn {
            turns,
            calls,
            offline_calls,
            burst,
            through_queue,
        } => {
            let arrival = if burst {
                turn::Arrival::Burst
            } else {
                turn::Arrival::PhoneLine
            };
            turn::run(turns, &calls, &offline_calls, arrival, through_queue).await
        }
    }
}

/// A bench deployment: the configured database and queue, a namespace of its own, a tenant.
pub(crate) struct BenchApp {
    pub app: App,
    pub tenant: CreatedTenant,
    base: std::sync::Mutex<String>,
}

pub(crate) async fn bench_app(tag: &str, depth_bound: u64) -> anyhow::Result<BenchApp> {
    // The api, the scheduler and (in the benches that run them here) every stage's workers.
    let role = |settings: &Settings| StageRegistry::builtin().all_in_one_role(settings, 16);
    bench_app_with(tag, depth_bound, role, |_| {}).await
}

/// [`bench_app`] with pools sized for `role`, and `adjust` applied to the settings first.
pub(crate) async fn bench_app_with(
    tag: &str,
    depth_bound: u64,
    role: impl FnOnce(&Settings) -> ProcessRole,
    adjust: impl FnOnce(&mut Settings),
) -> anyhow::Result<BenchApp> {
    let mut settings = Settings::from_env()?;
    adjust(&mut settings);
    settings.queue_namespace = format!("bench_{tag}_{}", Utc::now().format("%H%M%S%3f"));
    settings.queue_depth_bound = depth_bound;
    settings.recording_hosts =
        caly_core::platform::egress::AllowList::parse("127.0.0.1", "CALY_RECORDING_HOSTS");
    settings.egress.allow_loopback = true;
    // Benchmarks measure Caly, never a paid model: the offline agent answers.
    settings.llm = None;
    // Live-call limits would hand concurrent bench calls to a person.
    settings.voice.max_calls_per_tenant = 10_000;
    settings.voice.max_calls_per_node = 10_000;
    let role = role(&settings);
    let app = App::connect(settings, true, role).await?;
    let tenant = tenancy::create(
        &app.db,
        &app.key,
        NewTenant {
            name: format!("bench {tag}"),
            exotel_sid: "bench".into(),
            exotel_key: "bench-key".into(),
            exotel_token: "bench-token".into(),
            exotel_subdomain: "api.in.exotel.com".into(),
            rate_paise_per_min: 3000,
        },
        Utc::now(),
    )
    .await?;
    Ok(BenchApp {
        app,
        tenant,
        base: std::sync::Mutex::default(),
    })
}

impl BenchApp {
    /// The api's base URL once served.
    pub(crate) fn base_url(&self) -> String {
        self.base.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Serves the api in-process; returns the tenant's StatusCallback URL and the stop token.
    pub(crate) async fn serve_api(&self) -> anyhow::Result<(String, CancellationToken)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        *self.base.lock().unwrap_or_else(|e| e.into_inner()) = base.clone();
        let stop = CancellationToken::new();
        tokio::spawn(caly_api::serve(
            self.app.clone(),
            listener,
            stop.clone().cancelled_owned(),
        ));
        let hook = format!(
            "{base}/hooks/exotel/{}/{}/status",
            self.tenant.tenant.id,
            self.tenant.webhook_secret.expose_secret()
        );
        Ok((hook, stop))
    }
}

impl BenchApp {
    /// Connects the tenant to a local Kesar store (all scopes) and sets the demo profile;
    /// keep the returned store alive while the bench runs.
    pub(crate) async fn connect_local_store(&self) -> anyhow::Result<LocalShopify> {
        let tenant = TenantId(self.tenant.tenant.id);
        let token = "shpat_bench";
        let store = LocalShopify::start(LocalShopifyOptions {
            token: token.into(),
            scopes: ALL_SCOPES.map(String::from).to_vec(),
            schema: None,
            today: Utc::now().date_naive(),
        })
        .await?;
        let now = Utc::now();
        let connection = NewStore {
            tenant,
            shop: "kesar.myshopify.com".into(),
            api_url: Some(store.base.clone()),
            token: token.to_string().into(),
            scopes: ALL_SCOPES.map(String::from).to_vec(),
            client: None,
        };
        save_store(&self.app, connection, now).await?;
        let profile = StoreProfile::parse(include_str!("../demo_data/kesar-profile.toml"), "toml")?;
        save_profile(&self.app.db, tenant, &profile, now).await?;
        Ok(store)
    }
}

/// Runs every stage's workers in this process until `stop` is cancelled.
pub(crate) fn spawn_workers(
    app: &App,
    concurrency: usize,
    stop: &CancellationToken,
) -> tokio::task::JoinHandle<Result<(), String>> {
    let worker_stop = stop.clone();
    tokio::spawn(caly_workers::run_workers(
        app.clone(),
        caly_workers::WorkerOptions {
            stages: app.stages.names(),
            concurrency,
            shutdown_timeout: std::time::Duration::from_secs(10),
        },
        async move {
            worker_stop.cancelled().await;
            Ok(())
        },
    ))
}

/// A realistic StatusCallback body (~450 bytes).
pub(crate) fn status_body(call_sid: &str, recording_url: Option<&str>) -> serde_json::Value {
    serde_json::json!({"CallSid": call_sid, "EventType": "terminal", "Status": "completed",
        "DateCreated": "2026-11-21 14:25:10", "DateUpdated": "2026-11-21 14:30:45",
        "StartTime": "2026-11-21 14:25:12", "EndTime": "2026-11-21 14:30:45",
        "From": "09876543210", "To": "09123456789", "PhoneNumberSid": "08040000000",
        "Direction": "inbound", "ConversationDuration": 320, "RecordingUrl": recording_url,
        "Legs": [{"OnCallDuration": 335, "Status": "completed", "AnsweredBy": "NA"},
                 {"OnCallDuration": 320, "Status": "completed", "AnsweredBy": "Human"}]})
}

/// A fresh 32-hex CallSid.
pub(crate) fn call_sid(run: &str, n: usize) -> String {
    let digest = caly_core::platform::crypto::digest_hex(&format!("{run}-{n}"));
    digest[..32].to_string()
}
