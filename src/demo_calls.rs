//! The embedded default's demo data: on the first start, once the api answers, the demo tenant
//! gets a few phone calls (Exotel's webhooks with recordings, as `caly simulate` sends them, so
//! they are recorded and charged) and a few typed conversations with the agent (orders, a
//! cancellation that leaves a task, a complaint), so the web app has something to show.

use crate::demo::DemoTenant;
use clap::Parser;
use serde_json::json;
use std::time::Duration;

/// What shoppers type to the demo store's agent, one conversation each.
const CONVERSATIONS: [(&str, &[&str]); 4] = [
    (
        "+919812345678",
        &["where is my order 1004", "thank you, bye"],
    ),
    (
        "+919812345678",
        &["order cancel karna hai, order 1002", "pin 411001"],
    ),
    ("+919876500011", &["what is your return policy"]),
    (
        "+919876500022",
        &["the kurta arrived damaged, I am very upset"],
    ),
];

/// `caly simulate`'s options, parsed from its own flags.
#[derive(Parser)]
struct Simulation {
    #[command(flatten)]
    args: crate::simulate::SimulateArgs,
}

async fn converse(client: &reqwest::Client, demo: &DemoTenant) -> anyhow::Result<usize> {
    let base = demo.base_url.trim_end_matches('/');
    let mut turns = 0;
    for (caller, lines) in CONVERSATIONS {
        let opened: serde_json::Value = client
            .post(format!("{base}/api/v1/calls"))
            .bearer_auth(&demo.api_key)
            .json(&json!({"channel": "text", "caller": caller}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = opened["id"].as_i64().unwrap_or_default();
        for line in lines {
            client
                .post(format!("{base}/api/v1/calls/{id}/turns"))
                .bearer_auth(&demo.api_key)
                .json(&json!({"text": line}))
                .send()
                .await?
                .error_for_status()?;
            turns += 1;
        }
    }
    Ok(turns)
}

/// Fills the demo tenant in the background; prints one line when done.
pub fn seed(demo: DemoTenant) {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let ready = format!("{}/readyz", demo.base_url.trim_end_matches('/'));
        for _ in 0..100 {
            if client
                .get(&ready)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let conversations = converse(&client, &demo).await;
        let simulation = Simulation::parse_from([
            "simulate",
            "--calls",
            "8",
            "--rate",
            "4",
            "--wait-secs",
            "60",
        ]);
        let calls = crate::simulate::run(simulation.args).await;
        match (conversations, calls) {
            (Ok(turns), Ok(())) => println!(
                "demo data: 8 phone calls and {turns} typed turns added; sign in to see them"
            ),
            (conversations, calls) => println!(
                "demo data: not all added ({:?}, {:?})",
                conversations.err(),
                calls.err()
            ),
        }
    });
}
