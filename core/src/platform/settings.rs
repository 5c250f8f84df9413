//! Configuration from environment variables, with the embedded defaults documented in README.

use crate::platform::egress::exotel_hosts::DEFAULT_EXOTEL_API_HOSTS;
use crate::platform::egress::{AllowList, EgressSettings, ExotelHosts};
pub use crate::platform::pools::DbSettings;
use crate::platform::pools::Pooler;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A variable holds a value of the wrong shape.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// Variable name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Neither `CALY_MASTER_KEY` nor a readable `CALY_MASTER_KEY_FILE`.
    #[error("set CALY_MASTER_KEY (32 bytes, base64) or CALY_MASTER_KEY_FILE")]
    MissingMasterKey,
    /// PostgreSQL was chosen without a Redis queue.
    #[error("REDIS_URL is required when DATABASE_URL points at PostgreSQL")]
    RedisRequired,
}

/// Where recordings and backups go.
#[derive(Debug, Clone)]
pub enum StorageSettings {
    /// A local folder; links are signed by Caly and served by the api.
    Local {
        /// Root folder.
        root: PathBuf,
    },
    /// An S3-compatible bucket; links are S3 presigned URLs.
    S3(S3Settings),
}

/// S3-compatible object store settings.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// Bucket name (created at start-up if missing).
    pub bucket: String,
    /// Endpoint the workers use; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// Endpoint put into presigned links for browsers (defaults to `endpoint`).
    pub public_endpoint: Option<String>,
    /// Region name.
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (redacted in `Debug`).
    pub secret_access_key: SecretString,
    /// Path-style addressing (MinIO, s3s-fs).
    pub force_path_style: bool,
}

/// Retry policy for stage runs.
#[derive(Debug, Clone, Copy)]
pub struct RetrySettings {
    /// Attempts before a run is marked failed.
    pub max_attempts: i32,
    /// Backoff after the first failure; doubles each attempt.
    pub base: Duration,
    /// Upper bound of one backoff.
    pub max: Duration,
}

impl RetrySettings {
    /// The wait before attempt `attempts + 1`, after `attempts` failures.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exp = attempts.clamp(1, 30) as u32 - 1;
        self.base.saturating_mul(1u32 << exp.min(20)).min(self.max)
    }
}

/// Everything Caly reads from its environment. URLs that may carry passwords and the master key
/// are [`SecretString`]s, so `Debug` never shows them.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Folder for the embedded database, master key, recordings and outbox.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…` (may hold a password).
    pub database_url: SecretString,
    /// How this process connects to PostgreSQL: pool sizes, the budget, the wait for a free
    /// connection, and any pooler in front.
    pub db: DbSettings,
    /// Redis for the queue (may hold a password); `None` selects the SQLite-backed queue.
    pub redis_url: Option<SecretString>,
    /// Prefix of every queue name (lets deployments and tests share one Redis).
    pub queue_namespace: String,
    /// Most jobs held in one stage's queue; the dispatcher holds back the rest in the database.
    pub queue_depth_bound: u64,
    /// Where recordings go.
    pub storage: StorageSettings,
    /// The master key (base64), if given directly.
    pub master_key: Option<SecretString>,
    /// Where to read (or, embedded, create) the master key.
    pub master_key_file: PathBuf,
    /// Earlier master keys that still open what they sealed (`CALY_MASTER_KEY_PREVIOUS`).
    pub master_key_previous: Vec<SecretString>,
    /// Address the api listens on.
    pub bind: String,
    /// Public base URL of the api (for webhook URLs and local signed links).
    pub public_url: Option<String>,
    /// Where recordings may be fetched from (`CALY_RECORDING_HOSTS`).
    pub recording_hosts: AllowList,
    /// Exotel's API hosts by region (`CALY_EXOTEL_API_HOSTS`).
    pub exotel_api_hosts: ExotelHosts,
    /// The outbound policy every request follows.
    pub egress: EgressSettings,
    /// Shopify Admin API version Caly calls (`CALY_SHOPIFY_API_VERSION`).
    pub shopify_api_version: String,
    /// Retry policy.
    pub retry: RetrySettings,
    /// A running attempt's lease: renewed while it runs (every third of it), so a run whose
    /// lease lapsed had its worker die and is re-queued.
    pub lease: Duration,
    /// Longest the turn API waits for the agent's answer before saying the fallback line
    /// (`CALY_TURN_TIMEOUT_SECS`).
    pub turn_timeout: Duration,
    /// Longest the agent may think (store lookups and the model included) before the turn
    /// says the fallback line and offers a human (`CALY_AGENT_TIMEOUT_SECS`).
    pub agent_timeout: Duration,
    /// The platform's language model (`CALY_LLM_BASE_URL`, `CALY_LLM_API_KEY`,
    /// `CALY_LLM_MODEL`); unset: the offline agent answers.
    pub llm: Option<crate::integrations::llm::LlmConfig>,
    /// A dispatched run not picked up within this is pushed again.
    pub redispatch_after: Duration,
    /// How long an old webhook secret stays valid after rotation.
    pub secret_grace: Duration,
    /// Lifetime of signed recording links.
    pub link_ttl: Duration,
    /// Default rate for new tenants, paise per minute.
    pub default_rate_paise: i64,
    /// How often the dispatcher looks for due stage runs.
    pub dispatch_interval: Duration,
    /// Worker concurrency per queue.
    pub worker_concurrency: usize,
    /// SMTP URL (`smtp://user:pass@host:port`); `None` writes `.eml` files to the outbox.
    pub smtp_url: Option<SecretString>,
    /// Sender address of Caly's mail.
    pub mail_from: String,
    /// Reconciliation through the Call Details API.
    pub reconcile: ReconcileSettings,
    /// How long a charge waits when its duration came from a lesser source than
    /// `ConversationDuration`, in case a better one arrives.
    pub charge_settle: Duration,
    /// Live voice calls: voice-activity detection, prompts, limits.
    pub voice: crate::voice::VoiceSettings,
    /// Speech engines.
    pub speech: crate::integrations::speech::SpeechSettings,
    /// Session lifetimes.
    pub accounts: crate::tenancy::accounts::AccountSettings,
    /// Origins whose pages may call the api from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// The largest request body the api reads.
    pub max_body_bytes: usize,
    /// Authenticated webhook deliveries a tenant may send per minute (generous: a valid
    /// delivery is refused only past it).
    pub hooks_per_tenant_per_minute: u64,
    /// How long connecting Shopify or Exotel waits for their answer.
    pub integration_check_timeout: Duration,
    /// The platform operator's people (`CALY_OPERATOR_EMAILS`): signed in, they set any tenant's
    /// billing.
    pub operator_emails: Vec<String>,
    /// Trusted proxies, code and invitation caps, text-turn limits, session lifetime and the
    /// Shopify URL override (`docs/security.md`).
    pub security: crate::platform::security::SecuritySettings,
}

/// When to ask Exotel's Call Details API about calls whose callbacks were lost or incomplete.
#[derive(Debug, Clone, Copy)]
pub struct ReconcileSettings {
    /// First poll this long after the call's last event.
    pub delay: Duration,
    /// Longest wait between polls (they double from `delay`).
    pub max_interval: Duration,
    /// Stop polling (and fail visibly) this long after the first poll was scheduled.
    pub window: Duration,
}

impl ReconcileSettings {
    /// The wait before poll `attempts + 1`.
    pub fn interval(&self, attempts: i32) -> Duration {
        let exp = attempts.clamp(1, 20) as u32 - 1;
        self.delay
            .saturating_mul(1u32 << exp)
            .min(self.max_interval)
    }
}

/// The platform's model: a key and a model name, with OpenAI's API unless a base URL is given.
fn llm_config() -> Result<Option<crate::integrations::llm::LlmConfig>, SettingsError> {
    let (base_url, key, model) = (
        var("CALY_LLM_BASE_URL"),
        var("CALY_LLM_API_KEY"),
        var("CALY_LLM_MODEL"),
    );
    match (key, model) {
        (Some(key), Some(model)) => Ok(Some(crate::integrations::llm::LlmConfig {
            base_url: base_url.unwrap_or_else(|| "https://api.openai.com/v1".into()),
            api_key: SecretString::from(key),
            model,
        })),
        (None, None) if base_url.is_none() => Ok(None),
        _ => Err(SettingsError::Invalid {
            name: "CALY_LLM_API_KEY",
            reason: "set CALY_LLM_API_KEY and CALY_LLM_MODEL together (and CALY_LLM_BASE_URL for a server other than OpenAI)".into(),
        }),
    }
}

fn voice_settings() -> Result<crate::voice::VoiceSettings, SettingsError> {
    let d = crate::voice::VoiceSettings::default();
    let ms = |name, default: Duration| {
        parsed::<u64>(name, default.as_millis() as u64).map(Duration::from_millis)
    };
    let secs =
        |name, default: Duration| parsed::<u64>(name, default.as_secs()).map(Duration::from_secs);
    Ok(crate::voice::VoiceSettings {
        vad: crate::voice::VadSettings {
            threshold: parsed("CALY_VAD_THRESHOLD", d.vad.threshold)?,
            silence_ms: parsed("CALY_VAD_SILENCE_MS", d.vad.silence_ms)?,
            max_utterance_ms: parsed("CALY_VAD_MAX_UTTERANCE_MS", d.vad.max_utterance_ms)?,
            min_speech_ms: parsed("CALY_VAD_MIN_SPEECH_MS", d.vad.min_speech_ms)?,
        },
        silence_prompt: secs("CALY_SILENCE_PROMPT_SECS", d.silence_prompt)?,
        silence_prompts: parsed("CALY_SILENCE_PROMPTS", d.silence_prompts)?,
        dtmf_gap: ms("CALY_DTMF_GAP_MS", d.dtmf_gap)?,
        turn_timeout: secs("CALY_VOICE_TURN_TIMEOUT_SECS", d.turn_timeout)?,
        max_calls_per_node: parsed("CALY_MAX_CALLS_PER_NODE", d.max_calls_per_node)?,
        max_calls_per_tenant: parsed("CALY_MAX_CALLS_PER_TENANT", d.max_calls_per_tenant)?,
        start_timeout: d.start_timeout,
    })
}

fn speech_settings(
    data_dir: &Path,
) -> Result<crate::integrations::speech::SpeechSettings, SettingsError> {
    let d = crate::integrations::speech::SpeechSettings::default();
    Ok(crate::integrations::speech::SpeechSettings {
        engine: parsed("CALY_SPEECH_ENGINE", d.engine)?,
        stt_model: var("CALY_STT_MODEL").unwrap_or(d.stt_model),
        tts_model: var("CALY_TTS_MODEL").unwrap_or(d.tts_model),
        tts_voice: var("CALY_TTS_VOICE").unwrap_or(d.tts_voice),
        espeak_voice: var("CALY_ESPEAK_VOICE").unwrap_or(d.espeak_voice),
        whisper_model: var("CALY_WHISPER_MODEL")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("models/whisper")),
        whisper_tuning: crate::integrations::speech::WhisperTuning {
            beam_size: parsed("CALY_WHISPER_BEAM_SIZE", d.whisper_tuning.beam_size)?,
            int8: parsed("CALY_WHISPER_INT8", d.whisper_tuning.int8)?,
        },
        chunk_timeout: Duration::from_secs(parsed(
            "CALY_TRANSCRIBE_CHUNK_TIMEOUT_SECS",
            d.chunk_timeout.as_secs(),
        )?),
        transcript_timeout: Duration::from_secs(parsed(
            "CALY_TRANSCRIBE_TIMEOUT_SECS",
            d.transcript_timeout.as_secs(),
        )?),
    })
}

fn security_settings() -> Result<crate::platform::security::SecuritySettings, SettingsError> {
    let defaults = crate::platform::security::SecuritySettings::default();
    Ok(crate::platform::security::SecuritySettings {
        trusted_proxies: crate::platform::net::Cidr::parse_list(
            &var("CALY_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|reason| SettingsError::Invalid {
            name: "CALY_TRUSTED_PROXIES",
            reason,
        })?,
        codes_per_email_per_day: parsed(
            "CALY_CODES_PER_EMAIL_PER_DAY",
            defaults.codes_per_email_per_day,
        )?,
        text_turns_per_min: parsed("CALY_TEXT_TURNS_PER_MIN", defaults.text_turns_per_min)?,
        invitations_per_day: parsed("CALY_INVITATIONS_PER_DAY", defaults.invitations_per_day)?,
        session_max_age: Duration::from_secs(
            parsed::<u64>("CALY_SESSION_MAX_DAYS", 30)?.saturating_mul(86_400),
        ),
        shopify_api_url_override: parsed("CALY_SHOPIFY_API_URL_OVERRIDE", false)?,
    })
}

/// `CALY_DB_ACQUIRE_TIMEOUT_MS`: opening a connection happens within this wait, so it may not be
/// shorter than opening one can take.
fn acquire_timeout() -> Result<Duration, SettingsError> {
    let ms: u64 = parsed("CALY_DB_ACQUIRE_TIMEOUT_MS", 10_000)?;
    if ms < MIN_ACQUIRE_TIMEOUT_MS {
        return Err(SettingsError::Invalid {
            name: "CALY_DB_ACQUIRE_TIMEOUT_MS",
            reason: format!(
                "{ms} ms is too short: opening a connection happens within this wait; use at \
                 least {MIN_ACQUIRE_TIMEOUT_MS}"
            ),
        });
    }
    Ok(Duration::from_millis(ms))
}

/// The shortest `CALY_DB_ACQUIRE_TIMEOUT_MS`.
const MIN_ACQUIRE_TIMEOUT_MS: u64 = 250;

fn db_settings() -> Result<DbSettings, SettingsError> {
    let optional = |name| -> Result<Option<u32>, SettingsError> {
        var(name).map(|_| parsed(name, 0)).transpose()
    };
    Ok(DbSettings {
        pool_size: optional("CALY_DB_POOL_SIZE")?,
        max_connections: optional("CALY_DB_MAX_CONNECTIONS")?,
        acquire_timeout: acquire_timeout()?,
        pooler: Pooler::parse(&var("CALY_DB_POOLER").unwrap_or_default()).map_err(|reason| {
            SettingsError::Invalid {
                name: "CALY_DB_POOLER",
                reason,
            }
        })?,
    })
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, SettingsError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|e: T::Err| SettingsError::Invalid {
                name,
                reason: e.to_string(),
            }),
    }
}

/// Exotel's recording locations (current and the older S3 forms), only under Exotel's folder
/// on shared hosts.
pub const DEFAULT_RECORDING_HOSTS: &str = "recordings.exotel.com/exotelrecordings/,\
    s3-ap-southeast-1.amazonaws.com/exotelrecordings/,exotelrecordings.s3.amazonaws.com";

/// The Shopify Admin API version Caly pins (quarterly; each is supported for a year).
pub const DEFAULT_SHOPIFY_API_VERSION: &str = "2026-10";

fn ports(name: &'static str, default: &str) -> Result<Vec<u16>, SettingsError> {
    var(name)
        .unwrap_or_else(|| default.into())
        .split(',')
        .map(|p| {
            p.trim()
                .parse()
                .map_err(|e: std::num::ParseIntError| SettingsError::Invalid {
                    name,
                    reason: e.to_string(),
                })
        })
        .collect()
}

/// A URL with any password replaced by `***`, for showing where Caly is connected.
pub fn redact_url(url: &SecretString) -> String {
    match url::Url::parse(url.expose_secret()) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable url>".to_string(),
    }
}

impl Settings {
    /// Reads the environment. Unset variables take their documented defaults.
    pub fn from_env() -> Result<Self, SettingsError> {
        let data_dir = PathBuf::from(var("CALY_DATA_DIR").unwrap_or_else(|| "caly-data".into()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("caly.db").display()));
        let redis_url = var("REDIS_URL").map(SecretString::from);
        if database_url.starts_with("postgres") && redis_url.is_none() {
            return Err(SettingsError::RedisRequired);
        }
        let storage = match var("S3_BUCKET") {
            Some(bucket) => StorageSettings::S3(S3Settings {
                bucket,
                endpoint: var("S3_ENDPOINT"),
                public_endpoint: var("S3_PUBLIC_ENDPOINT"),
                region: var("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                access_key_id: var("S3_ACCESS_KEY_ID").unwrap_or_default(),
                secret_access_key: var("S3_SECRET_ACCESS_KEY").unwrap_or_default().into(),
                force_path_style: parsed("S3_FORCE_PATH_STYLE", true)?,
            }),
            None => StorageSettings::Local {
                root: var("CALY_STORAGE_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("objects")),
            },
        };
        let ms = |name, default| parsed::<u64>(name, default).map(Duration::from_millis);
        let secs = |name, default| parsed::<u64>(name, default).map(Duration::from_secs);
        Ok(Settings {
            master_key: var("CALY_MASTER_KEY").map(SecretString::from),
            master_key_previous: var("CALY_MASTER_KEY_PREVIOUS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| SecretString::from(k.to_string()))
                .collect(),
            master_key_file: var("CALY_MASTER_KEY_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("master.key")),
            bind: var("CALY_BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            public_url: var("CALY_PUBLIC_URL"),
            queue_namespace: var("CALY_QUEUE_NAMESPACE").unwrap_or_else(|| "caly".into()),
            queue_depth_bound: parsed("CALY_QUEUE_DEPTH_BOUND", 2000)?,
            recording_hosts: AllowList::parse(
                &var("CALY_RECORDING_HOSTS").unwrap_or_else(|| DEFAULT_RECORDING_HOSTS.into()),
                "CALY_RECORDING_HOSTS",
            ),
            exotel_api_hosts: ExotelHosts::parse(
                &var("CALY_EXOTEL_API_HOSTS").unwrap_or_else(|| DEFAULT_EXOTEL_API_HOSTS.into()),
            )
            .map_err(|reason| SettingsError::Invalid {
                name: "CALY_EXOTEL_API_HOSTS",
                reason,
            })?,
            shopify_api_version: var("CALY_SHOPIFY_API_VERSION")
                .unwrap_or_else(|| DEFAULT_SHOPIFY_API_VERSION.into()),
            egress: EgressSettings {
                // On by default only on the embedded default (its simulator serves loopback).
                allow_loopback: parsed(
                    "CALY_EGRESS_ALLOW_LOOPBACK",
                    database_url.starts_with("sqlite"),
                )?,
                ports: ports("CALY_EGRESS_PORTS", "443")?,
                max_download_bytes: parsed("CALY_EGRESS_MAX_BYTES", 200 * 1024 * 1024)?,
                connect_timeout: secs("CALY_EGRESS_CONNECT_TIMEOUT_SECS", 10)?,
                read_timeout: secs("CALY_EGRESS_READ_TIMEOUT_SECS", 30)?,
                total_timeout: secs("CALY_FETCH_TIMEOUT_SECS", 120)?,
            },
            retry: RetrySettings {
                max_attempts: parsed("CALY_MAX_ATTEMPTS", 8)?,
                base: ms("CALY_RETRY_BASE_MS", 2_000)?,
                max: ms("CALY_RETRY_MAX_MS", 600_000)?,
            },
            lease: secs("CALY_LEASE_SECS", 60)?,
            turn_timeout: secs("CALY_TURN_TIMEOUT_SECS", 10)?,
            agent_timeout: secs("CALY_AGENT_TIMEOUT_SECS", 8)?,
            redispatch_after: secs("CALY_REDISPATCH_AFTER_SECS", 60)?,
            secret_grace: secs("CALY_SECRET_GRACE_SECS", 86_400)?,
            link_ttl: secs("CALY_LINK_TTL_SECS", 300)?,
            default_rate_paise: parsed("CALY_DEFAULT_RATE_PAISE", 3000)?,
            dispatch_interval: ms("CALY_DISPATCH_INTERVAL_MS", 500)?,
            worker_concurrency: parsed("CALY_WORKER_CONCURRENCY", 8)?,
            smtp_url: var("SMTP_URL").map(SecretString::from),
            llm: llm_config()?,
            mail_from: var("CALY_MAIL_FROM").unwrap_or_else(|| "Caly <caly@localhost>".into()),
            db: db_settings()?,
            charge_settle: secs("CALY_CHARGE_SETTLE_SECS", 30)?,
            voice: voice_settings()?,
            speech: speech_settings(&data_dir)?,
            cors_origins: var("CALY_CORS_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect(),
            max_body_bytes: parsed("CALY_MAX_BODY_BYTES", 1024 * 1024)?,
            hooks_per_tenant_per_minute: parsed("CALY_HOOKS_PER_TENANT_PER_MINUTE", 60_000)?,
            integration_check_timeout: secs("CALY_INTEGRATION_CHECK_TIMEOUT_SECS", 10)?,
            operator_emails: var("CALY_OPERATOR_EMAILS")
                .unwrap_or_default()
                .split(',')
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
            security: security_settings()?,
            accounts: crate::tenancy::accounts::AccountSettings {
                access_ttl: secs("CALY_ACCESS_TTL_SECS", 15 * 60)?,
                refresh_ttl: secs("CALY_REFRESH_TTL_SECS", 30 * 24 * 3600)?,
                google: match (
                    var("CALY_GOOGLE_CLIENT_ID"),
                    var("CALY_GOOGLE_CLIENT_SECRET"),
                ) {
                    (Some(client_id), Some(secret)) => {
                        Some(crate::tenancy::accounts::google::GoogleSettings {
                            client_id,
                            client_secret: secret.into(),
                            issuer: var("CALY_GOOGLE_ISSUER")
                                .unwrap_or_else(|| "https://accounts.google.com".into()),
                        })
                    }
                    _ => None,
                },
            },
            reconcile: ReconcileSettings {
                delay: secs("CALY_RECONCILE_DELAY_SECS", 120)?,
                max_interval: secs("CALY_RECONCILE_MAX_INTERVAL_SECS", 300)?,
                window: secs("CALY_RECONCILE_WINDOW_SECS", 1500)?,
            },
            data_dir,
            database_url: database_url.into(),
            redis_url,
            storage,
        })
    }

    /// True when running on the embedded SQLite database.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite")
    }

    /// The api's public base URL.
    pub fn public_base(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_string()
    }

    /// Whether Caly is reached over https (`CALY_PUBLIC_URL`): cookies are then `Secure` and
    /// prefixed, and responses carry HSTS.
    pub fn is_https(&self) -> bool {
        self.public_base().starts_with("https://")
    }

    /// [`Settings::public_base`] as a websocket address.
    pub fn public_ws_base(&self) -> String {
        websocket_base(&self.public_base())
    }
}

/// An http(s) base address as a websocket one: `wss://` for `https://`, else `ws://`.
pub fn websocket_base(http_base: &str) -> String {
    match http_base.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => format!("ws://{http_base}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = RetrySettings {
            max_attempts: 5,
            base: Duration::from_secs(2),
            max: Duration::from_secs(10),
        };
        assert_eq!(retry.backoff(1), Duration::from_secs(2));
        assert_eq!(retry.backoff(2), Duration::from_secs(4));
        assert_eq!(retry.backoff(3), Duration::from_secs(8));
        assert_eq!(retry.backoff(4), Duration::from_secs(10));
    }

    #[test]
    fn websocket_base_follows_the_http_scheme() {
        assert_eq!(websocket_base("https://caly.example"), "wss://caly.example");
        assert_eq!(
            websocket_base("http://127.0.0.1:8080"),
            "ws://127.0.0.1:8080"
        );
        assert_eq!(websocket_base("caly.example"), "ws://caly.example");
    }
}
