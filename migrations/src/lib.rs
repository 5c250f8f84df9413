//! Database migrations for Caly (sea-orm-migration), portable across PostgreSQL and SQLite.
//! A leaf crate used by `caly-core` (which runs them) and the `caly migrate` command.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_spine;
mod m20261122_000001_calls_billing_index;
mod m20261122_000002_ledger_subjects;
mod m20261122_000003_run_polls;
mod m20261122_000004_shopify_stores;
mod m20261122_000005_store_profiles;
mod m20261122_000006_call_channel;
mod m20261122_000007_turns_tasks;
mod m20261122_000008_llm_overrides;
mod m20261122_000009_proof_failures;
mod m20261122_000010_caller_prefetches;
mod m20261122_000011_voice;
mod m20261122_000012_transcripts;
mod m20261203_000001_turn_audio_to_scratch;
mod m20261203_000002_accounts;
mod m20261203_000003_onboarding;
mod m20261203_000004_worker_heartbeats;
mod m20261203_000005_attribution;
mod m20261203_000006_credit_limit;
mod m20261203_000007_task_activity;
mod m20261204_000001_analytics;
mod m20261207_000001_security;

/// All of Caly's migrations, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_spine::Migration),
            Box::new(m20261122_000001_calls_billing_index::Migration),
            Box::new(m20261122_000002_ledger_subjects::Migration),
            Box::new(m20261122_000003_run_polls::Migration),
            Box::new(m20261122_000004_shopify_stores::Migration),
            Box::new(m20261122_000005_store_profiles::Migration),
            Box::new(m20261122_000006_call_channel::Migration),
            Box::new(m20261122_000007_turns_tasks::Migration),
            Box::new(m20261122_000008_llm_overrides::Migration),
            Box::new(m20261122_000009_proof_failures::Migration),
            Box::new(m20261122_000010_caller_prefetches::Migration),
            Box::new(m20261122_000011_voice::Migration),
            Box::new(m20261122_000012_transcripts::Migration),
            Box::new(m20261203_000001_turn_audio_to_scratch::Migration),
            Box::new(m20261203_000002_accounts::Migration),
            Box::new(m20261203_000003_onboarding::Migration),
            Box::new(m20261203_000004_worker_heartbeats::Migration),
            Box::new(m20261203_000005_attribution::Migration),
            Box::new(m20261203_000006_credit_limit::Migration),
            Box::new(m20261203_000007_task_activity::Migration),
            Box::new(m20261204_000001_analytics::Migration),
            Box::new(m20261207_000001_security::Migration),
        ]
    }
}
