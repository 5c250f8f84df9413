//! Command-line definitions and their dispatch.

use crate::{bench, chat, demo, ops, processes, simulate};
use anyhow::Context;
use caly_core::pipeline::{StageRegistry, dispatch, replay};
use caly_core::platform::db;
use caly_core::platform::pools::ProcessRole;
use caly_core::platform::settings::Settings;
use caly_core::tenancy::profile::{self, StoreProfile};
use caly_core::{App, CallId, TenantId, tenancy};
use caly_jobs::StageName;
use chrono::Utc;
use clap::{Parser, Subcommand};
use sea_orm::EntityTrait;
use secrecy::SecretString;

/// `--queues` and `--stage` help, listing the registry's stages.
fn stages_help(what: &str) -> String {
    format!("{what}: {}", StageRegistry::builtin().describe())
}

/// Parses a stage name against the registry (so `--help` and errors name every stage).
fn stage_name(text: &str) -> Result<StageName, String> {
    StageRegistry::builtin()
        .parse(text)
        .map_err(|e| e.to_string())
}

/// Caly: AI phone support for e-commerce stores.
#[derive(Parser)]
#[command(name = "caly", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Everything in one process on the embedded default (the default command).
    Run,
    /// The HTTP api only.
    Api,
    /// A worker process.
    Worker {
        /// Stage queues to consume (comma-separated); all by default.
        #[arg(long, value_delimiter = ',', value_parser = stage_name,
              help = stages_help("Stage queues to consume (comma-separated; all by default)"))]
        queues: Vec<StageName>,
        /// Jobs in flight per queue.
        #[arg(long, env = "CALY_WORKER_CONCURRENCY", default_value_t = 8)]
        concurrency: usize,
    },
    /// The scheduler (dispatcher, sweeper, cron jobs).
    Scheduler,
    /// Runs database migrations and exits.
    Migrate,
    /// Checks the database, queue and object store are reachable (exit 1 if not); for health checks.
    Check,
    /// Tenant administration (tenants also sign up through the API).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Sign-in administration.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Sealed secrets: finishing a master-key rotation.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Re-runs one stage of one call.
    Replay {
        /// Call id.
        #[arg(long)]
        call: i64,
        /// The stage to re-run.
        #[arg(long, value_parser = stage_name, help = stages_help("The stage to re-run"))]
        stage: StageName,
    },
    /// Failed stage runs across tenants: list them, retry them in bulk.
    #[command(subcommand)]
    Runs(ops::RunsCommand),
    /// The money ledger: check every balance against its entries.
    #[command(subcommand)]
    Ledger(ops::LedgerCommand),
    /// Sends realistic Exotel webhooks to a deployment.
    Simulate(simulate::SimulateArgs),
    /// Talks to the agent in the terminal (text turns over the API; the demo tenant by default).
    Chat(chat::ChatArgs),
    /// Bulk-loads a large, realistic tenant (calls, turns, charges, handoffs, tasks) and builds
    /// its rollups, without driving the pipeline.
    SeedDemo(crate::seed_demo::SeedDemoArgs),
    /// Benchmarks (point them at a scratch database).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Rewrites every sealed secret under the current master key (CALY_MASTER_KEY), opening
    /// old ones with CALY_MASTER_KEY_PREVIOUS; afterwards the previous keys can be dropped.
    Reseal,
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Makes a new access-token signing key, which signs from now on; the previous key keeps
    /// verifying the tokens it signed until they expire, and older keys are retired.
    RotateSigningKey,
    /// Disables a person's account in every store and ends their sessions (a store's admins
    /// can only suspend someone in their own store); `--enable` restores it.
    DisableUser {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Restore the account instead.
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Sets the store's profile (policies, support hours, escalation number, bot name,
    /// greeting) from a JSON or TOML file, chosen by its extension.
    SetProfile {
        /// The tenant's id.
        #[arg(long)]
        tenant: i64,
        /// The profile file (.json or .toml).
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Connects the tenant's Shopify store: checks the token's shop and scopes, then stores it
    /// sealed. Names each missing scope.
    ConnectShopify {
        /// The tenant's id.
        #[arg(long)]
        tenant: i64,
        /// The store's permanent domain, e.g. kesar.myshopify.com.
        #[arg(long)]
        shop: String,
        /// The Admin API access token (shpat_...).
        #[arg(long)]
        token: String,
        /// A loopback origin standing in for https://{shop} (tests, the demo store; needs
        /// CALY_EGRESS_ALLOW_LOOPBACK).
        #[arg(long)]
        api_url: Option<String>,
    },
    /// Gives the tenant its own OpenAI-compatible model (overrides CALY_LLM_*), its key sealed;
    /// `--clear` goes back to the platform's model (or the offline agent).
    SetLlm {
        /// The tenant's id.
        #[arg(long)]
        tenant: i64,
        /// Base URL of an OpenAI-compatible API.
        #[arg(
            long,
            default_value = "https://api.openai.com/v1",
            conflicts_with = "clear"
        )]
        base_url: String,
        /// Its API key.
        #[arg(long, required_unless_present = "clear")]
        api_key: Option<String>,
        /// The model, e.g. gpt-4o-mini.
        #[arg(long, required_unless_present = "clear")]
        model: Option<String>,
        /// Removes the tenant's own model.
        #[arg(long)]
        clear: bool,
    },
    /// Creates a tenant and prints its API key and webhook URLs (shown once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        exotel_sid: String,
        #[arg(long)]
        exotel_key: String,
        #[arg(long)]
        exotel_token: String,
        /// Exotel region (`in`, `sg`: keys of CALY_EXOTEL_API_HOSTS) or one of its API hosts.
        #[arg(long, default_value = "api.in.exotel.com")]
        exotel_subdomain: String,
        #[arg(long, default_value_t = caly_core::billing::DEFAULT_RATE_PAISE_PER_MIN)]
        rate_paise_per_min: i64,
    },
    /// Lists tenants.
    List,
    /// Issues a new webhook secret; the old one stays valid for CALY_SECRET_GRACE_SECS.
    RotateSecret {
        /// The tenant's id (`--id` also works).
        #[arg(long = "tenant", visible_alias = "id")]
        id: i64,
    },
    /// Sets a new rate from a date (RFC 3339; now by default).
    SetRate {
        /// The tenant's id (`--id` also works).
        #[arg(long = "tenant", visible_alias = "id")]
        id: i64,
        #[arg(long)]
        paise_per_min: i64,
        #[arg(long)]
        from: Option<chrono::DateTime<Utc>>,
    },
}

/// Runs the parsed command.
pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => processes::run_all().await,
        Command::Api => processes::run_api().await,
        Command::Worker {
            queues,
            concurrency,
        } => {
            let stages = if queues.is_empty() {
                StageRegistry::builtin().names()
            } else {
                queues
            };
            processes::run_worker(stages, concurrency).await
        }
        Command::Scheduler => processes::run_scheduler().await,
        Command::Migrate => {
            let settings = Settings::from_env()?;
            let conn = db::connect(
                &settings.database_url,
                ProcessRole::Command.plan().durable,
                db::Commit::Durable,
                &settings.db,
            )
            .await?;
            db::migrate(&conn).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Check => check().await,
        Command::Tenant(cmd) => tenant(cmd).await,
        Command::Secrets(SecretsCommand::Reseal) => {
            let app = connect().await?;
            let report = caly_core::platform::reseal::reseal_all(&app.db, &app.key).await?;
            let total: u64 = report.values().sum();
            for (column, count) in &report {
                println!("{column}: {count} resealed");
            }
            println!("{total} secrets resealed under the current master key");
            Ok(())
        }
        Command::Auth(AuthCommand::RotateSigningKey) => {
            let app = connect().await?;
            let grace = app.settings.accounts.access_ttl;
            let kid =
                tenancy::accounts::tokens::rotate(&app.db, &app.key, grace, Utc::now()).await?;
            println!("access tokens are now signed with key {kid}");
            Ok(())
        }
        Command::Auth(AuthCommand::DisableUser { email, enable }) => {
            let app = connect().await?;
            let actor = tenancy::accounts::Actor {
                name: "cli".into(),
                ..Default::default()
            };
            let user = tenancy::accounts::members::disable_everywhere(
                &app.db,
                &email,
                !enable,
                &actor,
                Utc::now(),
            )
            .await?;
            let state = if enable {
                "enabled"
            } else {
                "disabled everywhere"
            };
            println!("{} is {state}", user.email);
            Ok(())
        }
        Command::Replay { call, stage } => replay(call, &stage).await,
        Command::Runs(command) => ops::runs(&connect().await?, command).await,
        Command::Ledger(command) => ops::ledger(&connect().await?, command).await,
        Command::Simulate(args) => simulate::run(args).await,
        Command::Chat(args) => chat::run(args).await,
        Command::SeedDemo(args) => crate::seed_demo::run(args).await,
        Command::Bench(command) => bench::run(command).await,
    }
}

async fn connect() -> anyhow::Result<App> {
    let settings = Settings::from_env()?;
    let migrate = settings.is_sqlite();
    Ok(App::connect(settings, migrate, ProcessRole::Command).await?)
}

async fn check() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let app = App::connect(settings, false, ProcessRole::Command).await?;
    let results = [
        (
            "database",
            db::ping(&app.db).await.map_err(|e| e.to_string()),
        ),
        ("queue", app.queue.check().await.map_err(|e| e.to_string())),
        (
            "object_store",
            app.store.check().await.map_err(|e| e.to_string()),
        ),
    ];
    let mut healthy = true;
    for (name, result) in results {
        match result {
            Ok(()) => println!("{name}: ok"),
            Err(err) => {
                healthy = false;
                println!("{name}: {err}");
            }
        }
    }
    anyhow::ensure!(healthy, "not ready");
    Ok(())
}

async fn tenant(cmd: TenantCommand) -> anyhow::Result<()> {
    let app = connect().await?;
    let now = Utc::now();
    match cmd {
        TenantCommand::Create {
            name,
            exotel_sid,
            exotel_key,
            exotel_token,
            exotel_subdomain,
            rate_paise_per_min,
        } => {
            anyhow::ensure!(
                app.settings.exotel_api_hosts.knows(&exotel_subdomain),
                "'{exotel_subdomain}' is not one of Exotel's API hosts; use a region of \
                 CALY_EXOTEL_API_HOSTS (in, sg) or its host"
            );
            let created = tenancy::create(
                &app.db,
                &app.key,
                tenancy::NewTenant {
                    name,
                    exotel_sid,
                    exotel_key: SecretString::from(exotel_key),
                    exotel_token: SecretString::from(exotel_token),
                    exotel_subdomain,
                    rate_paise_per_min,
                },
                now,
            )
            .await?;
            demo::print_tenant(
                &app,
                &created.tenant,
                &created.api_key,
                &created.webhook_secret,
            );
        }
        TenantCommand::List => {
            for t in tenancy::list(&app.db).await? {
                println!(
                    "{}\t{}\texotel_sid={}\tbalance_paise={}",
                    t.id, t.name, t.exotel_sid, t.balance_paise
                );
            }
        }
        TenantCommand::SetProfile { tenant, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let extension = file
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            let profile = StoreProfile::parse(&text, extension)?;
            profile::save_profile(&app.db, TenantId(tenant), &profile, now).await?;
            let hours = &profile.support_hours;
            println!(
                "tenant {tenant}: profile set; {} answers; people {}–{} ({}) on {}; escalation {}{}",
                profile.bot_name,
                hours.open,
                hours.close,
                hours.timezone,
                hours.days.join(", "),
                profile.escalation_number,
                if profile.send_all_to_human {
                    "; every call goes to a person"
                } else {
                    ""
                }
            );
        }
        TenantCommand::SetLlm {
            tenant,
            base_url,
            api_key,
            model,
            clear,
        } => {
            let tenant = TenantId(tenant);
            if clear {
                let had = caly_core::tenancy::llm::clear_override(&app, tenant).await?;
                println!(
                    "tenant {tenant}: {}",
                    if had {
                        "own model removed"
                    } else {
                        "had no own model"
                    }
                );
            } else {
                let config = caly_core::integrations::llm::LlmConfig {
                    base_url,
                    api_key: api_key.unwrap_or_default().into(),
                    model: model.unwrap_or_default(),
                };
                caly_core::tenancy::llm::set_override(&app, tenant, &config, now).await?;
                println!(
                    "tenant {tenant}: answers with {} at {} (key stored encrypted)",
                    config.model, config.base_url
                );
            }
        }
        TenantCommand::ConnectShopify {
            tenant,
            shop,
            token,
            api_url,
        } => {
            crate::shopify_cli::connect(&app, TenantId(tenant), &shop, token, api_url, now).await?;
        }
        TenantCommand::RotateSecret { id } => {
            let secret = tenancy::rotate_webhook_secret(
                &app.db,
                &app.key,
                TenantId(id),
                app.settings.secret_grace,
                now,
            )
            .await?;
            println!(
                "new webhook secret issued; the old one works for {}s more",
                app.settings.secret_grace.as_secs()
            );
            for (name, url) in
                tenancy::webhook_urls(&app.settings.public_base(), TenantId(id), &secret)
            {
                println!("{name}: {url}");
            }
        }
        TenantCommand::SetRate {
            id,
            paise_per_min,
            from,
        } => {
            let rate = tenancy::add_rate(
                &app.db,
                TenantId(id),
                paise_per_min,
                from.unwrap_or(now),
                now,
            )
            .await?;
            println!(
                "tenant {id}: {} paise/min from {}",
                rate.paise_per_min, rate.effective_from
            );
        }
    }
    Ok(())
}

async fn replay(call_id: i64, stage: &StageName) -> anyhow::Result<()> {
    let app = connect().await?;
    let call = caly_entities::call::Entity::find_by_id(call_id)
        .one(&app.db)
        .await?
        .context("no such call")?;
    let now = Utc::now();
    let spec = app.stages.lookup(stage.as_str())?.spec();
    let tenant = TenantId(call.tenant_id);
    let runs = replay::replay(&app.db, spec, tenant, CallId(call.id), now).await?;
    dispatch::push_committed(&app, stage, &runs, now).await;
    let ids: Vec<i64> = runs.iter().map(|id| id.0).collect();
    println!(
        "re-armed {} {stage} run(s) for call {call_id}: {ids:?}",
        ids.len()
    );
    Ok(())
}
