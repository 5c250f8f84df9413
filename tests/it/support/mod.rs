//! Test harness: a real Caly (api + apalis workers) per test on the embedded default or on
//! PostgreSQL + Redis + s3s-fs, a fresh database and queue namespace per test, a fake Exotel
//! recording host, helpers per endpoint, and `drain()` that runs the dispatcher until no due
//! work is left (no sleeps standing in for synchronisation).

#![allow(dead_code)]

pub mod accounts;
pub mod browser;
pub mod exotel;
pub mod infra;
pub mod oidc;
pub mod openai;
pub mod process;
pub mod shopify;
pub mod voicebot;

use caly_core::platform::egress::{AllowList, EgressSettings, ExotelHosts};
use caly_core::platform::settings::{
    ReconcileSettings, RetrySettings, S3Settings, Settings, StorageSettings,
};
use caly_core::tenancy::{self, CreatedTenant, NewTenant};
use caly_core::{App, RunStatus};
use caly_entities::stage_run;
use caly_workers::WorkerOptions;
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub use exotel::FakeExotel;

/// Which configuration a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite + apalis-sqlite + local folder.
    Embedded,
    /// PostgreSQL + Redis + s3s-fs.
    Production,
}

/// Knobs for [`TestApp::spawn_opts`].
#[derive(Debug, Clone)]
pub struct Options {
    /// The tenant's rate, paise per minute.
    pub rate: i64,
    /// Jobs a stage queue may hold.
    pub queue_depth_bound: u64,
    /// Start the in-process workers.
    pub workers: bool,
    /// Redis URL instead of the shared test database (for tests that flush it).
    pub redis_url: Option<String>,
    /// How long a pushed but untaken job waits before it is pushed again.
    pub redispatch_after: std::time::Duration,
    /// Reconciliation timing (default: never within a test).
    pub reconcile: Option<ReconcileSettings>,
    /// How long a charge from a lesser duration source waits (default: not at all).
    pub charge_settle: Duration,
    /// The stages to run (default: Caly's own).
    pub stages: Option<caly_core::pipeline::StageRegistry>,
    /// A running attempt's lease (renewed while it runs).
    pub lease: Duration,
    /// The outbound policy (default: loopback allowed, 1 MiB cap).
    pub egress: Option<EgressSettings>,
    /// How long the turn API waits for the agent (default 10 s).
    pub turn_timeout: Option<Duration>,
    /// How long the agent may think (default 8 s).
    pub agent_timeout: Option<Duration>,
    /// The platform's language model (default: none, the offline agent).
    pub llm: Option<caly_core::integrations::llm::LlmConfig>,
    /// Speech engines (default: what the machine has).
    pub speech: Option<caly_core::integrations::speech::Speech>,
    /// Live voice settings (default: Caly's).
    pub voice: Option<caly_core::voice::VoiceSettings>,
    /// The api runs a voice turn's first stage itself, as a process whose workers consume the
    /// live queues does (default: it pushes it for the workers).
    pub socket_runs_turns: bool,
    /// Send mail through maildev's SMTP server (default: the outbox folder).
    pub smtp: bool,
    /// Exotel's API hosts by region (default: every region at the fake Exotel).
    pub exotel_hosts: Option<String>,
    /// "Sign in with Google" against this issuer (the test's OpenID provider).
    pub google_issuer: Option<String>,
    /// Security knobs (default: deployments' defaults, with the local Shopify's address
    /// allowed).
    pub security: Option<caly_core::platform::security::SecuritySettings>,
    /// The public URL Caly believes it has (default: the test server's own address).
    pub public_url: Option<String>,
    /// Which PostgreSQL server, and how it is reached (production backend only).
    pub database: Database,
    /// `CALY_DB_MAX_CONNECTIONS` for the test's own process (default: none).
    pub max_connections: Option<u32>,
}

/// The PostgreSQL a production-backend test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Database {
    /// The shared test server, straight.
    #[default]
    Shared,
    /// The stock server kept for counting connections (`max_connections = 100`), straight.
    Stock,
    /// The stock server through PgBouncer in transaction mode (`CALY_DB_POOLER=transaction`).
    ThroughPgBouncer,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rate: 3000,
            queue_depth_bound: 1000,
            workers: true,
            redis_url: None,
            redispatch_after: Duration::from_secs(60),
            reconcile: None,
            charge_settle: Duration::ZERO,
            stages: None,
            lease: Duration::from_secs(60),
            egress: None,
            turn_timeout: None,
            agent_timeout: None,
            llm: None,
            speech: None,
            voice: None,
            socket_runs_turns: false,
            smtp: false,
            exotel_hosts: None,
            google_issuer: None,
            security: None,
            public_url: None,
            database: Database::Shared,
            max_connections: None,
        }
    }
}

/// A test tenant with its API key and webhook secret in the clear, as a store owner sees them
/// once at creation.
#[derive(Debug, Clone)]
pub struct TestTenant {
    /// The stored row.
    pub tenant: caly_entities::tenant::Model,
    /// The API key.
    pub api_key: String,
    /// The webhook secret.
    pub webhook_secret: String,
}

impl From<CreatedTenant> for TestTenant {
    fn from(created: CreatedTenant) -> Self {
        TestTenant {
            tenant: created.tenant,
            api_key: created.api_key.expose_secret().to_string(),
            webhook_secret: created.webhook_secret.expose_secret().to_string(),
        }
    }
}

/// The tests' outbound policy: loopback allowed (the fakes listen there), a 1 MiB cap.
pub fn loopback_egress() -> EgressSettings {
    EgressSettings::loopback()
}

/// A running Caly for one test.
pub struct TestApp {
    /// The core context (shared with the in-process api and workers).
    pub app: App,
    /// The api's base URL.
    pub base: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The test tenant.
    pub tenant: TestTenant,
    /// The fake Exotel recording host.
    pub exotel: FakeExotel,
    /// Which configuration.
    pub backend: Backend,
    stop: CancellationToken,
    workers: Option<tokio::task::JoinHandle<Result<(), String>>>,
    _dir: tempfile::TempDir,
}

fn settings(
    backend: Backend,
    dir: &std::path::Path,
    database_url: String,
    ns: &str,
    exotel: &FakeExotel,
) -> Settings {
    let storage = match backend {
        Backend::Embedded => StorageSettings::Local {
            root: dir.join("objects"),
        },
        Backend::Production => StorageSettings::S3(S3Settings {
            bucket: ns.replace('_', "-"),
            endpoint: Some(infra::s3_endpoint()),
            public_endpoint: None,
            region: "us-east-1".into(),
            access_key_id: infra::S3_KEY.into(),
            secret_access_key: infra::S3_SECRET.to_string().into(),
            force_path_style: true,
        }),
    };
    Settings {
        data_dir: dir.to_path_buf(),
        database_url: database_url.into(),
        db: Default::default(),
        redis_url: (backend == Backend::Production).then(|| infra::redis_url().into()),
        queue_namespace: ns.to_string(),
        queue_depth_bound: 1000,
        storage,
        master_key: Some(
            caly_core::platform::crypto::MasterKey::generate()
                .to_base64()
                .into(),
        ),
        master_key_file: dir.join("master.key"),
        master_key_previous: Vec::new(),
        bind: "127.0.0.1:0".into(),
        public_url: None,
        recording_hosts: AllowList::parse("127.0.0.1", "CALY_RECORDING_HOSTS"),
        // Both of Exotel's regions point at the fake Exotel.
        exotel_api_hosts: ExotelHosts::parse(&format!("in={0},sg={0}", exotel.base)).unwrap(),
        shopify_api_version: "2026-10".into(),
        egress: loopback_egress(),
        retry: RetrySettings {
            max_attempts: 3,
            base: Duration::ZERO,
            max: Duration::ZERO,
        },
        lease: Duration::from_secs(60),
        turn_timeout: Duration::from_secs(10),
        llm: None,
        agent_timeout: Duration::from_secs(8),
        redispatch_after: Duration::from_secs(60),
        secret_grace: Duration::from_secs(3600),
        link_ttl: Duration::from_secs(300),
        default_rate_paise: 3000,
        dispatch_interval: Duration::from_millis(100),
        worker_concurrency: 4,
        smtp_url: None,
        mail_from: "caly@test".into(),
        charge_settle: Duration::ZERO,
        voice: caly_core::voice::VoiceSettings::default(),
        // The test's own (empty) model folder, never a checkout's caly-data.
        speech: caly_core::integrations::speech::SpeechSettings {
            whisper_model: dir.join("models/whisper"),
            ..Default::default()
        },
        accounts: Default::default(),
        cors_origins: vec!["https://app.store.example".into()],
        max_body_bytes: 1024 * 1024,
        hooks_per_tenant_per_minute: 60_000,
        integration_check_timeout: Duration::from_secs(1),
        operator_emails: vec!["operator@caly.example".into()],
        // The tests' Shopify is a local server: its address is allowed (an attack test turns
        // this off, as deployments have it).
        security: caly_core::platform::security::SecuritySettings {
            shopify_api_url_override: true,
            ..Default::default()
        },
        // Out of the way unless a test asks for reconciliation.
        reconcile: ReconcileSettings {
            delay: Duration::from_secs(3600),
            max_interval: Duration::from_secs(3600),
            window: Duration::from_secs(7200),
        },
    }
}

impl TestApp {
    /// Starts Caly on `backend` with one tenant at the default rate.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_opts(backend, Options::default()).await
    }

    /// Starts Caly with a tenant at `rate` paise per minute.
    pub async fn spawn_with(backend: Backend, rate: i64) -> TestApp {
        Self::spawn_opts(
            backend,
            Options {
                rate,
                ..Options::default()
            },
        )
        .await
    }

    /// Starts Caly with explicit options.
    pub async fn spawn_opts(backend: Backend, options: Options) -> TestApp {
        let rate = options.rate;
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        caly_core::platform::telemetry::init();
        let dir = tempfile::tempdir().expect("temp dir");
        let ns = format!("caly_t_{}", uuid::Uuid::new_v4().simple());
        let database_url = match backend {
            Backend::Embedded => {
                format!("sqlite://{}?mode=rwc", dir.path().join("caly.db").display())
            }
            Backend::Production => match options.database {
                Database::Shared => infra::fresh_postgres(&ns).await,
                Database::Stock => infra::fresh_postgres_on(&infra::stock_postgres(), &ns).await,
                Database::ThroughPgBouncer => {
                    infra::fresh_postgres_on(&infra::stock_postgres(), &ns).await;
                    format!("{}/{ns}", infra::pgbouncer())
                }
            },
        };
        let exotel = FakeExotel::start("exo-key", "exo-token").await;
        let mut settings = settings(backend, dir.path(), database_url, &ns, &exotel);
        settings.lease = options.lease;
        settings.db.max_connections = options.max_connections;
        if options.database == Database::ThroughPgBouncer {
            settings.db.pooler = caly_core::platform::pools::Pooler::Transaction;
        }
        if let Some(timeout) = options.turn_timeout {
            settings.turn_timeout = timeout;
        }
        if let Some(timeout) = options.agent_timeout {
            settings.agent_timeout = timeout;
        }
        settings.llm = options.llm;
        if let Some(voice) = options.voice {
            settings.voice = voice;
        }
        if let Some(egress) = options.egress {
            settings.egress = egress;
        }
        settings.queue_depth_bound = options.queue_depth_bound;
        if let Some(hosts) = &options.exotel_hosts {
            settings.exotel_api_hosts = ExotelHosts::parse(hosts).unwrap();
        }
        if let Some(issuer) = &options.google_issuer {
            settings.accounts.google = Some(caly_core::tenancy::accounts::google::GoogleSettings {
                client_id: oidc::CLIENT_ID.into(),
                client_secret: oidc::CLIENT_SECRET.to_string().into(),
                issuer: issuer.clone(),
            });
        }
        if let Some(security) = options.security {
            settings.security = security;
        }
        if options.smtp {
            settings.smtp_url = Some(accounts::smtp_url().into());
        }
        settings.redispatch_after = options.redispatch_after;
        settings.charge_settle = options.charge_settle;
        if let Some(reconcile) = options.reconcile {
            settings.reconcile = reconcile;
        }
        if backend == Backend::Production && options.redis_url.is_some() {
            settings.redis_url = options.redis_url.clone().map(Into::into);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        settings.public_url = Some(options.public_url.clone().unwrap_or_else(|| base.clone()));
        // The api, every stage's workers (4 jobs per queue) and the scheduler, in one process.
        let role = caly_core::pipeline::StageRegistry::builtin().all_in_one_role(&settings, 4);
        let mut app = App::connect(settings, backend == Backend::Embedded, role)
            .await
            .expect("caly connects");
        if let Some(stages) = options.stages {
            app = app.with_stages(stages);
        }
        if let Some(speech) = options.speech {
            app = app.with_speech(speech);
        }
        let tenant = tenancy::create(
            &app.db,
            &app.key,
            NewTenant {
                name: "Test Store".into(),
                exotel_sid: "acme1".into(),
                exotel_key: "exo-key".to_string().into(),
                exotel_token: "exo-token".to_string().into(),
                // The India region, which the fake Exotel API stands in for.
                exotel_subdomain: "in".into(),
                rate_paise_per_min: rate,
            },
            Utc::now(),
        )
        .await
        .expect("tenant")
        .into();
        let stop = CancellationToken::new();
        let api = if options.socket_runs_turns {
            app.clone().consuming(&app.stages.names())
        } else {
            app.clone()
        };
        tokio::spawn(caly_api::serve(
            api,
            listener,
            stop.clone().cancelled_owned(),
        ));
        let mut test_app = TestApp {
            app,
            base,
            client: reqwest::Client::new(),
            tenant,
            exotel,
            backend,
            stop,
            workers: None,
            _dir: dir,
        };
        if options.workers {
            test_app.start_workers();
        }
        test_app
    }

    /// Starts the in-process apalis workers for every stage.
    pub fn start_workers(&mut self) {
        let stop = self.stop.child_token();
        self.workers = Some(tokio::spawn(caly_workers::run_workers(
            self.app.clone(),
            WorkerOptions {
                stages: self.app.stages.names(),
                concurrency: 4,
                shutdown_timeout: Duration::from_secs(10),
            },
            async move {
                stop.cancelled().await;
                Ok(())
            },
        )));
    }

    /// A second tenant in the same deployment.
    pub async fn other_tenant(&self) -> TestTenant {
        tenancy::create(
            &self.app.db,
            &self.app.key,
            NewTenant {
                name: "Other Store".into(),
                exotel_sid: "other".into(),
                exotel_key: "k".to_string().into(),
                exotel_token: "t".to_string().into(),
                exotel_subdomain: "in".into(),
                rate_paise_per_min: 3000,
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .into()
    }

    /// The tenant's webhook URL for `kind` (`passthru` or `status`).
    pub fn hook_url(&self, kind: &str) -> String {
        format!(
            "{}/hooks/exotel/{}/{}/{kind}",
            self.base, self.tenant.tenant.id, self.tenant.webhook_secret
        )
    }

    /// Passthru as a GET query.
    pub async fn passthru_get(&self, pairs: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .get(self.hook_url("passthru"))
            .query(pairs)
            .send()
            .await
            .unwrap()
    }

    /// A form POST to `kind`.
    pub async fn post_form(&self, kind: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.hook_url(kind))
            .form(pairs)
            .send()
            .await
            .unwrap()
    }

    /// A JSON POST to `kind`.
    pub async fn post_json(&self, kind: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.hook_url(kind))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A raw POST to any URL.
    pub async fn post_raw(&self, url: &str, content_type: &str, body: &str) -> reqwest::Response {
        self.client
            .post(url)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// GET on the REST API with the tenant's key; returns status and JSON.
    pub async fn api_get(&self, path: &str) -> (u16, Value) {
        self.api_get_as(&self.tenant.api_key, path).await
    }

    /// GET on the REST API with another key.
    pub async fn api_get_as(&self, key: &str, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST on the REST API with the tenant's key.
    pub async fn api_post(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.tenant.api_key)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST with a JSON body on the REST API with the tenant's key.
    pub async fn api_post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.api_post_json_as(&self.tenant.api_key, path, body)
            .await
    }

    /// POST with a JSON body on the REST API with another key.
    pub async fn api_post_json_as(&self, key: &str, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A webhook URL of another tenant.
    pub fn hook_url_of(&self, tenant: &TestTenant, kind: &str) -> String {
        format!(
            "{}/hooks/exotel/{}/{}/{kind}",
            self.base, tenant.tenant.id, tenant.webhook_secret
        )
    }

    /// Runs the dispatcher and waits for the workers until no stage run is due or running.
    pub async fn drain(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            caly_core::pipeline::dispatch::dispatch_due(&self.app, Utc::now())
                .await
                .expect("dispatch");
            // Retries in tests have no backoff: a pending run due within the margin still counts,
            // even when its worker stamped it a moment after this clock reading.
            let now = Utc::now() + chrono::Duration::seconds(2);
            let busy = stage_run::Entity::find()
                .filter(
                    sea_orm::Condition::any()
                        .add(stage_run::Column::Status.eq(RunStatus::Running))
                        .add(
                            sea_orm::Condition::all()
                                .add(stage_run::Column::Status.eq(RunStatus::Pending))
                                .add(stage_run::Column::NextRunAt.lte(now)),
                        ),
                )
                .all(&self.app.db)
                .await
                .unwrap();
            if busy.is_empty() {
                return;
            }
            if std::env::var("CALY_TEST_DUMP_LOGS").is_ok() {
                eprintln!(
                    "{} drain: {} busy",
                    Utc::now().format("%H:%M:%S%.3f"),
                    busy.len()
                );
            }
            if Instant::now() >= deadline {
                let runs: Vec<String> = busy
                    .iter()
                    .map(|run| {
                        format!(
                            "#{} {} {:?} attempt {} dispatched {:?} locked until {:?} due {} ({:?})",
                            run.id,
                            run.stage,
                            run.status,
                            run.attempts,
                            run.dispatched_at,
                            run.locked_until,
                            run.next_run_at,
                            run.last_error
                        )
                    })
                    .collect();
                panic!(
                    "pipeline did not drain by {}: {} runs busy:\n{}\n{}",
                    Utc::now(),
                    busy.len(),
                    runs.join("\n"),
                    self.local_queue_state().await
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// On the embedded default, the local queue's unfinished jobs and its workers (the queue
    /// shares the app's SQLite database), for a drain that failed.
    async fn local_queue_state(&self) -> String {
        use sea_orm::{ConnectionTrait, Statement};
        if self.backend != Backend::Embedded {
            return String::new();
        }
        let mut out = String::from("local queue:");
        for sql in [
            "SELECT id, job_type, status, attempts, run_at, lock_by, lock_at, last_result FROM Jobs WHERE status <> 'Done'",
            "SELECT id, worker_type, last_seen, started_at FROM Workers",
        ] {
            let rows = self
                .app
                .db
                .query_all_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, sql))
                .await;
            match rows {
                Ok(rows) => {
                    for row in rows {
                        let line: Vec<String> = (0..8)
                            .map_while(|i| {
                                row.try_get_by_index::<Option<String>>(i)
                                    .map(|v| v.unwrap_or_default())
                                    .or_else(|_| {
                                        row.try_get_by_index::<Option<i64>>(i)
                                            .map(|v| v.map(|n| n.to_string()).unwrap_or_default())
                                    })
                                    .ok()
                            })
                            .collect();
                        out.push_str(&format!("\n  {}", line.join(" | ")));
                    }
                }
                Err(error) => out.push_str(&format!("\n  ({error})")),
            }
        }
        out
    }

    /// The call with this CallSid (panics when there is none).
    pub async fn call_by_sid(&self, call_sid: &str) -> caly_entities::call::Model {
        use caly_entities::call;
        call::Entity::find()
            .filter(call::Column::CallSid.eq(call_sid))
            .one(&self.app.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("call {call_sid} exists"))
    }

    /// Stores a duration on a call behind the pipeline's back, as a race that the pipeline must
    /// still notice would leave it.
    pub async fn store_duration(&self, call_id: i64, secs: i64, source: &str) {
        use caly_entities::call;
        call::Entity::update_many()
            .col_expr(
                call::Column::DurationSecs,
                sea_orm::sea_query::Expr::value(secs),
            )
            .col_expr(
                call::Column::DurationSource,
                sea_orm::sea_query::Expr::value(source),
            )
            .filter(call::Column::Id.eq(call_id))
            .exec(&self.app.db)
            .await
            .unwrap();
    }

    /// Rows in a table (by entity).
    pub async fn count<E>(&self) -> u64
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        E::find().count(&self.app.db).await.unwrap()
    }

    /// Every ledger entry, oldest first.
    pub async fn ledger(&self) -> Vec<caly_entities::ledger_entry::Model> {
        use caly_entities::ledger_entry;
        use sea_orm::QueryOrder;
        ledger_entry::Entity::find()
            .order_by_asc(ledger_entry::Column::Id)
            .all(&self.app.db)
            .await
            .unwrap()
    }

    /// How many calls were charged (ledger entries of kind `charge`).
    pub async fn charge_count(&self) -> u64 {
        use caly_entities::ledger_entry;
        use caly_entities::status::LedgerKind;
        ledger_entry::Entity::find()
            .filter(ledger_entry::Column::Kind.eq(LedgerKind::Charge))
            .count(&self.app.db)
            .await
            .unwrap()
    }

    /// The data folder (embedded objects live under `objects/`).
    pub fn data_dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    /// Stops workers and api.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(workers) = self.workers.take() {
            let _ = workers.await;
        }
    }
}

/// A CallSid for test call `n` (32 hex characters, like Exotel's).
pub fn sid(n: u32) -> String {
    format!("{n:032x}")
}

/// Keys of this test's queue namespace in Redis.
pub async fn redis_keys(app: &TestApp) -> Vec<String> {
    let url = app.app.settings.redis_url.as_ref().expect("redis backend");
    let client = redis::Client::open(url.expose_secret()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", app.app.settings.queue_namespace))
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    keys
}

/// Generates one `#[tokio::test]` per backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::support::Backend::Embedded).await }
            )*
        }
        mod production {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::support::Backend::Production).await }
            )*
        }
    };
}
