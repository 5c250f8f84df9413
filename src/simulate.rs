//! `caly simulate`: realistic Exotel traffic (Passthru GETs with and without `Stream[...]`,
//! StatusCallbacks as JSON and form) for N calls at a chosen rate and concurrency, with a
//! recording server behind Basic auth, then a summary once the recordings were fetched.
//! `--voice` runs whole phone conversations over the Voicebot socket instead
//! ([`crate::simulate_voice`]).

use crate::demo::DemoTenant;
use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use chrono::{Duration as ChronoDuration, Utc};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Options of `caly simulate`. Unset credentials come from the embedded demo tenant.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Calls to simulate.
    #[arg(long, default_value_t = 20)]
    calls: usize,
    /// Calls started per second.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Webhooks in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// The api's base URL.
    #[arg(long)]
    url: Option<String>,
    /// Tenant id.
    #[arg(long)]
    tenant: Option<i64>,
    /// The tenant's webhook secret.
    #[arg(long)]
    secret: Option<String>,
    /// The tenant's API key (for the summary).
    #[arg(long)]
    api_key: Option<String>,
    /// Exotel key the recording server demands.
    #[arg(long)]
    exotel_key: Option<String>,
    /// Exotel token the recording server demands.
    #[arg(long)]
    exotel_token: Option<String>,
    /// Where the recording server listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    recording_bind: String,
    /// How long to wait for the recordings to be fetched.
    #[arg(long, default_value_t = 120)]
    wait_secs: u64,
    /// Whole phone conversations over the Voicebot websocket instead: espeak-ng speaks the
    /// caller, the agent's audio is written to a WAV per call, each turn is printed.
    #[arg(long)]
    voice: bool,
    /// With --voice: the tenant's Exotel account SID (the demo tenant's is `demo`).
    #[arg(long, default_value = "demo")]
    account_sid: String,
    /// With --voice: where the WAV files go.
    #[arg(long, default_value = "caly-voice-calls")]
    out: std::path::PathBuf,
}

struct Target {
    base: String,
    tenant: i64,
    secret: String,
    api_key: Option<String>,
    key: Option<String>,
    token: Option<String>,
}

async fn target(args: &SimulateArgs) -> anyhow::Result<Target> {
    let demo = crate::demo::read_demo().await;
    let pick = |given: &Option<String>, from_demo: fn(&DemoTenant) -> String, what: &str| {
        given
            .clone()
            .or_else(|| demo.as_ref().map(from_demo))
            .with_context(|| format!("pass --{what} (no embedded demo tenant found)"))
    };
    Ok(Target {
        base: pick(&args.url, |d| d.base_url.clone(), "url")?,
        tenant: args
            .tenant
            .or(demo.as_ref().map(|d| d.tenant_id))
            .context("pass --tenant")?,
        secret: pick(&args.secret, |d| d.webhook_secret.clone(), "secret")?,
        api_key: args
            .api_key
            .clone()
            .or(demo.as_ref().map(|d| d.api_key.clone())),
        // Only the recording server needs them (not --voice).
        key: pick(&args.exotel_key, |d| d.exotel_key.clone(), "exotel-key").ok(),
        token: pick(
            &args.exotel_token,
            |d| d.exotel_token.clone(),
            "exotel-token",
        )
        .ok(),
    })
}

#[derive(Clone)]
struct RecordingServer {
    expected_auth: String,
    fetched: Arc<Mutex<HashSet<String>>>,
}

async fn serve_recording(
    State(server): State<RecordingServer>,
    Path((_account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != server.expected_auth {
        return (StatusCode::UNAUTHORIZED, "authentication required").into_response();
    }
    let sid = file.trim_end_matches(".mp3").to_string();
    server.fetched.lock().expect("lock").insert(sid);
    // An MP3-looking body: ID3 header then silence-sized filler.
    let mut body = b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec();
    body.resize(16 * 1024, 0);
    ([("content-type", "audio/mpeg")], body).into_response()
}

fn ist_now(offset_secs: i64) -> String {
    (Utc::now() + ChronoDuration::seconds(offset_secs))
        .with_timezone(&caly_core::platform::time::ist())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The three webhooks of one bot-answered call, as Exotel sends them.
fn call_webhooks(index: usize, call_sid: &str, recording_url: &str) -> Vec<Webhook> {
    let mut rng = rand::rng();
    let duration: i64 = rng.random_range(5..600);
    let caller = format!("09{:09}", rng.random_range(0..1_000_000_000u64));
    let start = ist_now(-duration);
    let common = vec![
        ("CallSid", call_sid.to_string()),
        ("CallFrom", caller.clone()),
        ("CallTo", "08040000000".to_string()),
        ("From", caller.clone()),
        ("To", "08040000000".to_string()),
        ("Direction", "incoming".to_string()),
        ("StartTime", start.clone()),
        ("flow_id", "68135".to_string()),
        ("tenant_id", "39".to_string()),
    ];
    let mut first = common.clone();
    first.extend([
        (
            "Created",
            Utc::now().format("%a, %d %b %Y %H:%M:%S").to_string(),
        ),
        ("DialCallDuration", "0".to_string()),
        ("EndTime", "1970-01-01 05:30:00".to_string()),
        ("CurrentTime", ist_now(-duration)),
        ("CallType", "call-attempt".to_string()),
        ("DialWhomNumber", String::new()),
        ("digits", "\"1\"".to_string()),
    ]);
    let mut after_bot = common;
    after_bot.extend([
        ("CallType", "completed".to_string()),
        ("CurrentTime", ist_now(0)),
        ("Stream[StreamSID]", format!("MZ{call_sid}")),
        ("Stream[Status]", "completed".to_string()),
        ("Stream[Duration]", duration.to_string()),
        ("Stream[RecordingUrl]", recording_url.to_string()),
        ("Stream[DisconnectedBy]", "bot".to_string()),
    ]);
    let status = json!({
        "CallSid": call_sid, "EventType": "terminal", "Status": "completed",
        "DateCreated": start, "DateUpdated": ist_now(0), "StartTime": start, "EndTime": ist_now(0),
        "From": caller, "To": "08040000000", "PhoneNumberSid": "08040000000",
        "Direction": "inbound", "ConversationDuration": duration, "RecordingUrl": recording_url,
        "Legs": [{"OnCallDuration": duration + 4, "Status": "completed", "AnsweredBy": "NA"}],
    });
    let status_hook = if index.is_multiple_of(2) {
        Webhook::Json("status", status)
    } else {
        // The form variant, with bracketed leg keys.
        let mut form: Vec<(&str, String)> = vec![
            ("CallSid", call_sid.to_string()),
            ("EventType", "terminal".into()),
            ("Status", "completed".into()),
            ("ConversationDuration", duration.to_string()),
            ("RecordingUrl", recording_url.to_string()),
            ("Direction", "inbound".into()),
        ];
        form.push(("Legs[0][OnCallDuration]", (duration + 4).to_string()));
        form.push(("Legs[0][Status]", "completed".into()));
        Webhook::Form("status", form)
    };
    vec![
        Webhook::Query("passthru", first),
        Webhook::Query("passthru", after_bot),
        status_hook,
    ]
}

enum Webhook {
    Query(&'static str, Vec<(&'static str, String)>),
    Form(&'static str, Vec<(&'static str, String)>),
    Json(&'static str, serde_json::Value),
}

async fn send(client: &reqwest::Client, hook_base: &str, hook: Webhook) -> Result<bool, String> {
    let request = match hook {
        Webhook::Query(kind, pairs) => client.get(format!("{hook_base}/{kind}")).query(&pairs),
        Webhook::Form(kind, pairs) => client.post(format!("{hook_base}/{kind}")).form(&pairs),
        Webhook::Json(kind, body) => client.post(format!("{hook_base}/{kind}")).json(&body),
    };
    let response = request.send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    Ok(body["duplicate"].as_bool().unwrap_or(false))
}

/// Runs the simulation.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let target = target(&args).await?;
    if args.voice {
        let voice = crate::simulate_voice::VoiceTarget {
            base: target.base,
            tenant: target.tenant,
            secret: target.secret,
            account_sid: args.account_sid,
            api_key: target.api_key,
        };
        return crate::simulate_voice::run(voice, args.calls, args.concurrency, args.out).await;
    }
    let (key, token) = (
        target.key.clone().context("pass --exotel-key")?,
        target.token.clone().context("pass --exotel-token")?,
    );
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{token}"))
    );
    let server = RecordingServer {
        expected_auth,
        fetched: Arc::new(Mutex::new(HashSet::new())),
    };
    let listener = tokio::net::TcpListener::bind(&args.recording_bind).await?;
    let recording_addr = listener.local_addr()?;
    let router = axum::Router::new()
        .route(
            "/exotelrecordings/{account}/{file}",
            axum::routing::get(serve_recording),
        )
        .with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    println!("recordings served (Basic auth) at http://{recording_addr}/exotelrecordings/");

    let hook_base = format!(
        "{}/hooks/exotel/{}/{}",
        target.base.trim_end_matches('/'),
        target.tenant,
        target.secret
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    let bar = ProgressBar::new((args.calls * 3) as u64);
    bar.set_style(
        ProgressStyle::with_template("webhooks {bar:40} {pos}/{len} {per_sec} {msg}")
            .expect("valid template"),
    );
    let spacing = Duration::from_secs_f64(1.0 / args.rate.max(0.01));
    let first_start = tokio::time::Instant::now();
    let mut batches = Vec::with_capacity(args.calls);
    let mut sids = Vec::with_capacity(args.calls);
    for index in 0..args.calls {
        let sid: String = (0..32)
            .map(|_| format!("{:x}", rand::rng().random_range(0..16u8)))
            .collect();
        let url = format!("http://{recording_addr}/exotelrecordings/demo/{sid}.mp3");
        batches.push(call_webhooks(index, &sid, &url));
        sids.push(sid);
    }
    let (mut errors, mut duplicates) = (0usize, 0usize);
    let results = futures::stream::iter(batches.into_iter().enumerate())
        .then(|(index, batch)| async move {
            // Call i starts at i / rate seconds.
            tokio::time::sleep_until(first_start + spacing * index as u32).await;
            batch
        })
        .flat_map(futures::stream::iter)
        .map(|hook| send(&client, &hook_base, hook))
        .buffer_unordered(args.concurrency.max(1));
    let mut results = std::pin::pin!(results);
    while let Some(result) = results.next().await {
        match result {
            Ok(true) => duplicates += 1,
            Ok(false) => {}
            Err(err) => {
                errors += 1;
                bar.set_message(format!("last error: {err}"));
            }
        }
        bar.inc(1);
    }
    bar.finish();
    let sent_in = started.elapsed();

    let wait = ProgressBar::new(args.calls as u64);
    wait.set_style(
        ProgressStyle::with_template("recordings fetched {bar:40} {pos}/{len}")
            .expect("valid template"),
    );
    let deadline = Instant::now() + Duration::from_secs(args.wait_secs);
    loop {
        let fetched = server.fetched.lock().expect("lock").len();
        wait.set_position(fetched as u64);
        if fetched >= args.calls || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait.finish();

    let fetched = server.fetched.lock().expect("lock").len();
    println!("\nsummary");
    println!("  calls simulated:     {}", args.calls);
    println!(
        "  webhooks sent:       {} in {:.1}s ({} errors, {} duplicates)",
        args.calls * 3,
        sent_in.as_secs_f64(),
        errors,
        duplicates
    );
    println!("  recordings fetched:  {fetched}/{}", args.calls);
    if let Some(api_key) = &target.api_key {
        let charges: serde_json::Value = client
            .get(format!(
                "{}/api/v1/charges?per_page=1",
                target.base.trim_end_matches('/')
            ))
            .bearer_auth(api_key)
            .send()
            .await?
            .json()
            .await?;
        println!(
            "  charges on tenant:   {} (balance {} paise)",
            charges["charges"]["total"], charges["balance_paise"]
        );
    }
    if fetched < args.calls || errors > 0 {
        anyhow::bail!("not every call completed: see the summary above");
    }
    Ok(())
}
