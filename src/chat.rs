//! `caly chat`: a terminal conversation with the agent over the REST API (the same text turns
//! any client uses). Without `--url` and `--api-key` it talks to the embedded demo tenant.

use anyhow::Context;
use serde_json::{Value, json};
use std::io::{BufRead, Write};

/// Options of `caly chat`.
#[derive(clap::Args)]
pub struct ChatArgs {
    /// The caller's number, e.g. +919812345678.
    #[arg(long)]
    caller: String,
    /// The api's base URL (default: the embedded demo tenant's).
    #[arg(long)]
    url: Option<String>,
    /// The tenant's API key (default: the embedded demo tenant's).
    #[arg(long)]
    api_key: Option<String>,
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("Caly did not answer at {url}; is it running?"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("no reason given");
        anyhow::bail!("{status}: {message}");
    }
    Ok(body)
}

/// One line about how the answer was reached: agent, verification, hand-off, tools.
fn meta(answer: &Value) -> String {
    let tools: Vec<String> = answer["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|c| {
                    let name = c["name"].as_str().unwrap_or("?");
                    if c["withheld"] == json!(true) {
                        format!("{name} (withheld)")
                    } else {
                        name.to_string()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "[{} · {} · {}{}]",
        answer["agent"].as_str().unwrap_or("?"),
        if answer["verified"] == json!(true) {
            "verified"
        } else {
            "not verified"
        },
        if answer["handoff"] == json!(true) {
            "hand-off to a person"
        } else {
            "no hand-off"
        },
        if tools.is_empty() {
            String::new()
        } else {
            format!(" · {}", tools.join(", "))
        }
    )
}

/// Opens a text conversation and relays each line typed to the agent until end of input.
pub async fn run(args: ChatArgs) -> anyhow::Result<()> {
    let demo = crate::demo::read_demo().await;
    let base = args
        .url
        .or_else(|| demo.as_ref().map(|d| d.base_url.clone()))
        .context("pass --url (no embedded demo tenant found; start `caly run` first)")?;
    let key = args
        .api_key
        .or_else(|| demo.as_ref().map(|d| d.api_key.clone()))
        .context("pass --api-key (no embedded demo tenant found)")?;
    let base = base.trim_end_matches('/').to_string();
    let client = reqwest::Client::new();
    let opened = post(
        &client,
        &format!("{base}/api/v1/calls"),
        &key,
        json!({"channel": "text", "caller": args.caller}),
    )
    .await?;
    let id = opened["id"]
        .as_i64()
        .context("Caly did not return a conversation id")?;
    println!(
        "conversation {id} with {} opened; type and press Enter (Ctrl-D ends)",
        opened["caller"].as_str().unwrap_or_default()
    );
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        print!("you> ");
        std::io::stdout().flush()?;
        let Some(line) = lines.next() else { break };
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let url = format!("{base}/api/v1/calls/{id}/turns");
        match post(&client, &url, &key, json!({"text": line})).await {
            Ok(answer) => {
                println!("agent> {}", answer["reply"].as_str().unwrap_or_default());
                println!("       {}", meta(&answer));
            }
            Err(error) => println!("error> {error:#}"),
        }
    }
    println!();
    Ok(())
}
