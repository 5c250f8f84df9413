//! The shared context every process builds once: database, queue, object store, keys, HTTP client.

use crate::CoreError;
use crate::integrations::shopify::budget::{MemoryBudget, RateBudget, RedisBudget};
use crate::integrations::speech::Speech;
use crate::pipeline::StageRegistry;
use crate::platform::crypto::MasterKey;
use crate::platform::db::{self, Commit};
use crate::platform::gauge::DepthGauge;
use crate::platform::handback::Handback;
use crate::platform::mailer::Mailer;
use crate::platform::pools::{PoolPlan, ProcessRole};
use crate::platform::queue::JobQueue;
use crate::platform::rate_limit::RateLimiter;
use crate::platform::scratch::Scratch;
use crate::platform::settings::{Settings, SettingsError};
use crate::platform::storage::ObjectStore;
use crate::voice::phrases::PhraseCache;
use crate::voice::session::NodeCalls;
use caly_jobs::StageName;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Everything a stage handler, an api route or the scheduler needs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    /// The database (the truth).
    pub db: db::Db,
    /// The same database as a live turn writes to it: on PostgreSQL a pool whose commits do not
    /// wait for the log to reach disk (see [`db::Commit::Deferred`]), so a caller does not wait
    /// for a flush per write; on SQLite the same pool as `db`. Only live-lane work uses it, through
    /// [`App::on_live_lane`].
    pub live_db: db::Db,
    /// The job queue (dispatch only).
    pub queue: JobQueue,
    /// Recordings.
    pub store: ObjectStore,
    /// Configuration.
    pub settings: Arc<Settings>,
    /// Seals third-party secrets and signs links.
    pub key: MasterKey,
    /// Outbound HTTP, built by the egress policy.
    pub http: reqwest::Client,
    /// Outgoing mail.
    pub mailer: Mailer,
    /// Estimated queue depths for the hot path.
    pub gauge: Arc<DepthGauge>,
    /// The stages this deployment runs.
    pub stages: StageRegistry,
    /// Tells waiting API requests that a worker stored their answer.
    pub handback: Handback,
    /// Short-lived bytes between nodes: a live turn's audio (Redis, or process memory).
    pub scratch: Scratch,
    /// Shopify's rate budget per store, shared by every process of the deployment.
    pub shopify_budget: Arc<dyn RateBudget>,
    /// Speech engines (what is missing is reported at start-up).
    pub speech: Speech,
    /// Phrases synthesised ahead of time (greetings, prompts, the fallback line).
    pub phrases: Arc<PhraseCache>,
    /// The live voice calls this process holds (the per-node limit).
    pub voice_calls: Arc<NodeCalls>,
    /// The live stages this process's workers consume. A live stage hands its follow-up, and
    /// a voice socket a turn's first stage, straight to this process when that stage is one of
    /// these (see [`App::hand_on_lease`]); empty in a process that runs no workers.
    pub live_here: Arc<Vec<StageName>>,
    /// The keys that sign and verify access tokens (cached from the database).
    pub signing_keys: Arc<crate::tenancy::accounts::tokens::SigningKeys>,
    /// Rate-limit counters (Redis when there is one, else this process).
    pub limits: Arc<crate::platform::rate_limit::RateLimiter>,
}

/// Loads the master key: from `CALY_MASTER_KEY`, else the key file; on the embedded default a
/// missing file is created with a fresh key. Keys in `CALY_MASTER_KEY_PREVIOUS` still open what
/// they sealed (during a rotation, until `caly secrets reseal` has run).
async fn master_key(settings: &Settings) -> Result<MasterKey, CoreError> {
    let previous = settings
        .master_key_previous
        .iter()
        .map(|text| MasterKey::from_base64(text.expose_secret()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(current_master_key(settings).await?.with_previous(previous))
}

async fn current_master_key(settings: &Settings) -> Result<MasterKey, CoreError> {
    if let Some(text) = &settings.master_key {
        return Ok(MasterKey::from_base64(text.expose_secret())?);
    }
    match tokio::fs::read_to_string(&settings.master_key_file).await {
        Ok(text) => Ok(MasterKey::from_base64(&text)?),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && settings.is_sqlite() => {
            let key = MasterKey::generate();
            if let Some(parent) = settings.master_key_file.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            write_private(&settings.master_key_file, &key.to_base64()).await?;
            tracing::info!(path = %settings.master_key_file.display(), "generated a new master key");
            Ok(key)
        }
        Err(_) => Err(SettingsError::MissingMasterKey.into()),
    }
}

/// This process's name among the deployment's nodes: host and process id.
pub fn node_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    format!("{host}-{}", std::process::id())
}

async fn write_private(path: &std::path::Path, text: &str) -> Result<(), CoreError> {
    tokio::fs::write(path, text).await?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).await?;
    }
    Ok(())
}

/// The pools a process in `role` opens, within the operator's budget; says at start what they
/// are, and when the budget cut them.
fn pool_plan(settings: &Settings, role: &ProcessRole) -> PoolPlan {
    let (plan, cut) = role.plan().within(&settings.db);
    if settings.is_sqlite() {
        return plan;
    }
    if let Some(warning) = cut {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        durable = plan.durable,
        live = plan.live,
        total = plan.total(),
        pooler = ?settings.db.pooler,
        acquire_timeout_ms = settings.db.acquire_timeout.as_millis() as u64,
        "database pools"
    );
    plan
}

impl App {
    /// Connects everything, with database pools sized for what the process runs (`role`).
    /// With `migrate`, runs pending migrations first.
    pub async fn connect(
        settings: Settings,
        migrate: bool,
        role: ProcessRole,
    ) -> Result<Self, CoreError> {
        if let Some(llm) = &settings.llm {
            // A model Caly may not reach is a setting to fix now, not a fallback on every turn.
            crate::integrations::llm::OpenAiChat::new(llm, &settings.egress).map_err(|e| {
                SettingsError::Invalid {
                    name: "CALY_LLM_BASE_URL",
                    reason: e.to_string(),
                }
            })?;
        }
        let key = master_key(&settings).await?;
        let pools = pool_plan(&settings, &role);
        let db = db::connect(
            &settings.database_url,
            pools.durable,
            Commit::Durable,
            &settings.db,
        )
        .await?;
        if migrate {
            db::migrate(&db).await?;
        }
        let live_db = if settings.is_sqlite() || pools.live == 0 {
            db.clone()
        } else {
            db::connect(
                &settings.database_url,
                pools.live,
                Commit::Deferred,
                &settings.db,
            )
            .await?
        };
        let queue = match &settings.redis_url {
            Some(url) => JobQueue::redis(url.expose_secret(), &settings.queue_namespace).await?,
            None if settings.is_sqlite() => {
                JobQueue::sqlite(
                    db.connection().get_sqlite_connection_pool().clone(),
                    &settings.queue_namespace,
                )
                .await?
            }
            None => return Err(SettingsError::RedisRequired.into()),
        };
        let store =
            ObjectStore::open(&settings.storage, key.clone(), settings.public_base()).await?;
        let limits = Arc::new(match &settings.redis_url {
            Some(url) => RateLimiter::redis(url.expose_secret(), &settings.queue_namespace)
                .map_err(crate::platform::queue::QueueError::from)?,
            None => RateLimiter::memory(),
        });
        let (handback, scratch, shopify_budget): (Handback, Scratch, Arc<dyn RateBudget>) =
            match &settings.redis_url {
                Some(url) => {
                    let ns = &settings.queue_namespace;
                    let redis = |e| crate::platform::queue::QueueError::from(e);
                    (
                        Handback::redis(url.expose_secret(), ns).map_err(redis)?,
                        Scratch::redis(url.expose_secret(), ns).map_err(redis)?,
                        Arc::new(RedisBudget::new(url.expose_secret(), ns).map_err(redis)?),
                    )
                }
                None => (
                    Handback::local(),
                    Scratch::local(),
                    Arc::new(MemoryBudget::default()),
                ),
            };
        let http = settings.egress.client();
        let mailer = Mailer::new(
            settings.smtp_url.as_ref(),
            settings.data_dir.join("outbox"),
            &settings.mail_from,
        )?;
        let speech =
            Speech::detect(&settings.speech, settings.llm.as_ref(), &settings.egress).await;
        let stages = StageRegistry::builtin();
        queue.set_live(stages.live_names());
        Ok(App {
            gauge: Arc::default(),
            stages,
            speech,
            phrases: Arc::default(),
            voice_calls: Arc::new(NodeCalls::new(node_name())),
            live_here: Arc::new(Vec::new()),
            signing_keys: Arc::default(),
            limits,
            handback,
            scratch,
            shopify_budget,
            mailer,
            db,
            live_db,
            queue,
            store,
            settings: Arc::new(settings),
            key,
            http,
        })
    }
}

impl App {
    /// This context with other speech engines (tests and benchmarks use their own).
    pub fn with_speech(mut self, speech: Speech) -> Self {
        self.speech = speech;
        self
    }

    /// This context for live-lane work (a live turn's stages and the socket's turn writes): the
    /// same in all but `db`, which is [`App::live_db`].
    pub fn on_live_lane(&self) -> Self {
        let mut live = self.clone();
        live.db = self.live_db.clone();
        live
    }

    /// This context in a process whose workers consume `stages`: the live ones among them may
    /// be handed on within the process (by a live stage, or by a voice socket for a turn's
    /// first stage).
    pub fn consuming(mut self, stages: &[StageName]) -> Self {
        let live = stages.iter().filter(|s| self.queue.is_live(s)).cloned();
        self.live_here = Arc::new(live.collect());
        self
    }

    /// When a live stage running here (or a voice socket starting a turn) may arm `next`
    /// already claimed and run it at once, in this process, rather than push it for any worker
    /// to take: the lease that claim holds (from now). So it is when this process's workers
    /// consume `next` ([`App::consuming`]), on PostgreSQL, where the arming write claims the run
    /// in the same statement. A caller waits on each hop; handing on saves a push, a pop and a
    /// claim. If this process dies meanwhile, the claimed run's lease lapses and the sweeper
    /// dispatches it again.
    pub fn hand_on_lease(&self, next: &StageName) -> Option<chrono::DateTime<chrono::Utc>> {
        (db::is_postgres(&self.db) && self.live_here.contains(next))
            .then(|| chrono::Utc::now() + crate::pipeline::runs::chrono_of(self.settings.lease))
    }

    /// This context with another stage registry (tests add their own stages this way).
    pub fn with_stages(mut self, stages: StageRegistry) -> Self {
        self.queue.set_live(stages.live_names());
        self.stages = stages;
        self
    }
}
