//! Operator commands over the whole deployment (they may cross tenants): failed stage runs
//! (list with the full error text, bulk retry) and the money ledger check.

use anyhow::Context;
use caly_core::pipeline::StageRegistry;
use caly_core::pipeline::dispatch;
use caly_core::pipeline::runs::{self, FailedFilter};
use caly_core::platform::pagination::PageRequest;
use caly_core::platform::time::parse_since;
use caly_core::{App, TenantId, billing, tenancy};
use caly_jobs::StageName;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

fn stage_name(text: &str) -> Result<StageName, String> {
    StageRegistry::builtin()
        .parse(text)
        .map_err(|e| e.to_string())
}

fn since(text: &str) -> Result<DateTime<Utc>, String> {
    parse_since(text, Utc::now()).ok_or_else(|| {
        format!(
            "'{text}' is not a time: use 2026-11-22T10:00:00Z, a day like 2026-11-22 (IST), or a \
             span back from now like 6h or 2d"
        )
    })
}

/// Which failed runs.
#[derive(Args, Debug, Clone)]
pub struct RunFilter {
    /// Only this tenant's runs (all tenants by default).
    #[arg(long)]
    tenant: Option<i64>,
    /// Only runs whose error text contains this (case-insensitive).
    #[arg(long)]
    error_contains: Option<String>,
    /// Only runs that failed at or after this time (RFC 3339, an IST day, or 90m / 6h / 2d ago).
    #[arg(long, value_parser = since)]
    since: Option<DateTime<Utc>>,
}

impl RunFilter {
    fn into_filter(self, stage: Option<StageName>) -> FailedFilter {
        FailedFilter {
            tenant: self.tenant.map(TenantId),
            stage,
            since: self.since,
            until: None,
            error_contains: self.error_contains,
            as_tenant: false,
        }
    }
}

/// `caly runs ...`
#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Lists failed stage runs, newest first, with their full error text.
    Failed {
        /// Only this stage's runs.
        #[arg(long, value_parser = stage_name)]
        stage: Option<StageName>,
        #[command(flatten)]
        filter: RunFilter,
        /// Most runs to show.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Re-arms every matching failed run once, and queues it.
    Retry {
        /// The stage whose failed runs to retry.
        #[arg(long, value_parser = stage_name)]
        stage: StageName,
        #[command(flatten)]
        filter: RunFilter,
    },
}

/// `caly ledger ...`
#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Checks that every tenant's balance equals the sum of its ledger (exit 1 if not).
    Check,
}

/// Runs a `caly runs` command.
pub async fn runs(app: &App, command: RunsCommand) -> anyhow::Result<()> {
    match command {
        RunsCommand::Failed {
            stage,
            filter,
            limit,
        } => {
            let page = PageRequest::new(Some(1), Some(limit))?;
            let failed = runs::list_failed(&app.db, &filter.into_filter(stage), page).await?;
            println!("{} failed run(s)", failed.total);
            for run in failed.items {
                println!(
                    "{}\t{}\ttenant={}\t{}\tattempts={}\tfailed_at={}\t{}: {}",
                    run.id,
                    run.stage,
                    run.tenant_id,
                    run.dedupe_key,
                    run.attempts,
                    run.updated_at.to_rfc3339(),
                    run.error_code.as_deref().unwrap_or("-"),
                    run.last_error.as_deref().unwrap_or("-"),
                );
            }
        }
        RunsCommand::Retry { stage, filter } => {
            let now = Utc::now();
            let filter = filter.into_filter(Some(stage.clone()));
            let rearmed =
                runs::retry_failed(&app.db, &filter, "retried by an operator", now).await?;
            let ids: Vec<_> = rearmed.iter().map(|(_, id)| *id).collect();
            dispatch::push_committed(app, &stage, &ids, now).await;
            println!("re-armed {} {stage} run(s)", ids.len());
            for id in ids {
                println!("  {id}");
            }
        }
    }
    Ok(())
}

/// Runs a `caly ledger` command.
pub async fn ledger(app: &App, command: LedgerCommand) -> anyhow::Result<()> {
    match command {
        LedgerCommand::Check => {
            let mut broken = 0;
            for tenant in tenancy::list(&app.db).await? {
                let check = billing::balance_check(&app.db, TenantId(tenant.id))
                    .await
                    .with_context(|| format!("checking tenant {}", tenant.id))?;
                let verdict = if check.holds() { "ok" } else { "MISMATCH" };
                broken += usize::from(!check.holds());
                println!(
                    "tenant {}\tbalance_paise={}\tledger_sum_paise={}\t{verdict}",
                    tenant.id, check.balance_paise, check.ledger_sum_paise
                );
            }
            anyhow::ensure!(
                broken == 0,
                "{broken} tenant(s) whose balance is not their ledger's sum"
            );
        }
    }
    Ok(())
}
