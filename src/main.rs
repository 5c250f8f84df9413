//! `caly`: one CLI over everything — the embedded all-in-one server, the separate production
//! processes (api, worker, scheduler, migrate), tenant administration, replays, operator
//! commands over failed runs and the ledger, the traffic simulator, the demo store and a terminal
//! chat with the agent.

mod bench;
mod chat;
mod cli;
mod demo;
mod demo_calls;
mod demo_store;
mod ops;
mod processes;
mod seed_demo;
mod shopify_cli;
mod simulate;
mod simulate_voice;
mod voice_client;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Two TLS backends are linked (ring via sqlx/lettre, aws-lc-rs via the AWS SDK): pick one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    caly_core::platform::telemetry::init();
    let cli = cli::Cli::parse();
    cli::dispatch(cli).await
}
