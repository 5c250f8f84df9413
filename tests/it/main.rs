//! Caly's integration tests: one binary, so the whole stack links once. Each module drives the
//! real HTTP API and the real workers on the embedded default and/or on PostgreSQL + Redis +
//! s3s-fs (started by `scripts/test.sh`). Backend-independent rules are unit tests in `core`.

#[macro_use]
mod support;

mod accounts;
mod analytics;
mod api_docs;
mod attacks_accounts;
mod attacks_tenants;
mod backlog;
mod browser;
mod cli;
mod conversations;
mod dashboard_browser;
mod egress;
mod fairness;
mod faults;
mod google;
mod invitations;
mod leases;
mod ledger;
mod llm;
mod mail;
mod onboarding;
mod page_safety;
mod pipeline;
mod reconcile;
mod redis_faults;
mod retry;
mod scale_out;
mod scheduler_replicas;
mod secrets_in_logs;
mod shopify;
mod test_stage;
mod turns;
mod voice;
mod web_pages;
mod whisper;
