//! `caly simulate --voice`: whole phone conversations over a real Voicebot websocket, against
//! the embedded default or any deployment. The caller's words are spoken by espeak-ng from a
//! small script of realistic questions and streamed in real time as 8 kHz PCM16; the agent's
//! audio is written to one WAV file per call; each turn's transcript, intent and latency (end of
//! the caller's utterance to the first reply byte) are printed.

use crate::voice_client::{Played, VoiceClient};
use anyhow::Context;
use caly_core::integrations::speech::Espeak;
use caly_core::integrations::speech::audio::wav_bytes;
use caly_core::platform::settings::websocket_base;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RATE: u32 = 8000;

/// What a caller does next.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Says this.
    Say(&'static str),
    /// Types these digits on the keypad.
    Keys(&'static str),
}

/// One caller: who, and what they do.
struct Script {
    caller: &'static str,
    steps: &'static [Step],
}

/// Realistic calls to the demo store (Kesar Ethnic Wear); the keypad one works without
/// speech-to-text.
const SCRIPTS: [Script; 4] = [
    Script {
        caller: "+919812345678",
        steps: &[
            Step::Say("Hi, where is my order two zero four one?"),
            Step::Say("Rahul Verma"),
            Step::Say("No thanks, that's all. Bye."),
        ],
    },
    Script {
        caller: "+919876543210",
        steps: &[
            Step::Say("What are your working hours?"),
            Step::Say("Is the cotton kurta available in large?"),
            Step::Say("Okay, thank you. Bye."),
        ],
    },
    Script {
        caller: "+919812345678",
        steps: &[Step::Keys("2041#"), Step::Say("That's all, bye.")],
    },
    Script {
        caller: "+919900112233",
        steps: &[
            Step::Say("My parcel arrived damaged and I am very upset."),
            Step::Say("I want to talk to a person please."),
        ],
    },
];

/// Where and as whom to call.
pub struct VoiceTarget {
    /// The api's base URL.
    pub base: String,
    /// Tenant id.
    pub tenant: i64,
    /// Webhook secret.
    pub secret: String,
    /// The tenant's Exotel account SID (Caly checks `start.account_sid`).
    pub account_sid: String,
    /// API key, to read back each turn's transcript and intent.
    pub api_key: Option<String>,
}

/// Runs `calls` conversations, `concurrency` at a time; WAVs go to `out`.
pub async fn run(
    target: VoiceTarget,
    calls: usize,
    concurrency: usize,
    out: PathBuf,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        Espeak::installed().await,
        "the voice simulator speaks with espeak-ng: apt-get install espeak-ng"
    );
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let url = format!(
        "{}/voice/exotel/{}/{}",
        websocket_base(target.base.trim_end_matches('/')),
        target.tenant,
        target.secret
    );
    println!(
        "simulating {calls} voice calls ({} at a time) over {}",
        concurrency.max(1),
        url.replace(&target.secret, "…")
    );
    let run_id = caly_core::platform::crypto::random_token("");
    let mut done = 0;
    for batch in (0..calls).collect::<Vec<_>>().chunks(concurrency.max(1)) {
        let mut tasks = Vec::new();
        for &n in batch {
            let sid = format!("simvoice{}{n:04}", &run_id[..8]);
            let (url, account, out) = (url.clone(), target.account_sid.clone(), out.clone());
            tasks.push(tokio::spawn(async move {
                let script = &SCRIPTS[n % SCRIPTS.len()];
                (
                    n,
                    sid.clone(),
                    one_call(&url, &sid, &account, script, &out).await,
                )
            }));
        }
        for task in tasks {
            let (n, sid, result) = task.await?;
            done += 1;
            match result {
                Ok(call) => report(&target, n, &sid, &call).await,
                Err(error) => println!("call {} ({sid}) failed: {error:#}", n + 1),
            }
        }
    }
    println!(
        "{done} calls simulated; the agent's audio is in {}",
        out.display()
    );
    Ok(())
}

/// What happened on one call, as the caller heard it.
struct CallLog {
    greeting_ms: Option<u128>,
    turns: Vec<TurnLog>,
    wav: PathBuf,
    ended_by_caly: bool,
}

struct TurnLog {
    said: String,
    reply_ms: Option<u128>,
    reply_secs: f64,
}

async fn one_call(
    url: &str,
    sid: &str,
    account: &str,
    script: &Script,
    out: &Path,
) -> anyhow::Result<CallLog> {
    let mut client = VoiceClient::connect(url).await?;
    let started = Instant::now();
    client.start(sid, account, script.caller, RATE).await?;
    let greeting = client.until_mark(Duration::from_secs(15)).await?;
    let greeting_ms = greeting
        .first_audio
        .map(|t| t.duration_since(started).as_millis());
    let mut agent_audio = greeting.audio.clone();
    let mut closed = acknowledge(&mut client, &greeting).await?;
    let mut turns = Vec::new();
    let espeak = Espeak::default();
    for step in script.steps {
        if closed {
            break;
        }
        let said = match *step {
            Step::Say(text) => {
                let samples = espeak.speak_native(text).await?.resampled(RATE).samples;
                if !client.speak_in_real_time(&samples).await? {
                    closed = true;
                    break;
                }
                text.to_string()
            }
            Step::Keys(digits) => {
                for digit in digits.chars() {
                    client.dtmf(digit).await?;
                }
                format!("(keypad) {digits}")
            }
        };
        // The line stays open, carrying silence, until the agent's reply has played.
        let ended_speaking = Instant::now();
        let reply = client
            .until_mark_on_a_quiet_line(Duration::from_secs(30))
            .await?;
        agent_audio.extend_from_slice(&reply.audio);
        turns.push(TurnLog {
            said,
            reply_ms: reply
                .first_audio
                .map(|t| t.saturating_duration_since(ended_speaking).as_millis()),
            reply_secs: reply.audio.len() as f64 / f64::from(RATE),
        });
        closed = acknowledge(&mut client, &reply).await?;
    }
    if !closed {
        client.stop("callended").await?;
        // Caly closes the socket once the call is recorded.
        let _ = client.until_mark(Duration::from_secs(5)).await;
    }
    let wav = out.join(format!("{sid}.wav"));
    std::fs::write(&wav, wav_bytes(&agent_audio, 1, RATE))?;
    Ok(CallLog {
        greeting_ms,
        turns,
        wav,
        ended_by_caly: closed,
    })
}

/// Echoes the mark that ended what Caly played (Exotel does once the audio has played); true
/// when Caly closed the socket instead.
async fn acknowledge(client: &mut VoiceClient, played: &Played) -> anyhow::Result<bool> {
    if let Some(mark) = &played.mark
        && client.echo_mark(mark).await.is_err()
    {
        // Caly closed the socket right after its last words.
        return Ok(true);
    }
    Ok(played.closed)
}

async fn report(target: &VoiceTarget, n: usize, sid: &str, call: &CallLog) {
    let stored = match &target.api_key {
        Some(key) => stored_call(&target.base, key, sid).await.ok(),
        None => None,
    };
    let greeting = call
        .greeting_ms
        .map_or("none".to_string(), |ms| format!("{ms} ms"));
    let outcome = stored
        .as_ref()
        .and_then(|c| c["call"]["outcome"].as_str().map(String::from))
        .unwrap_or_else(|| "?".into());
    println!(
        "\ncall {} ({sid}): greeting after {greeting}; outcome {outcome}{}; audio {}",
        n + 1,
        if call.ended_by_caly {
            " (Caly ended it)"
        } else {
            ""
        },
        call.wav.display()
    );
    let stored_turns = stored
        .as_ref()
        .and_then(|c| c["turns"].as_array().cloned())
        .unwrap_or_default();
    for (i, turn) in call.turns.iter().enumerate() {
        let row = stored_turns.get(i);
        let field = |key: &str| row.and_then(|t| t[key].as_str()).unwrap_or("?").to_string();
        let latency = call
            .turns
            .get(i)
            .and_then(|t| t.reply_ms)
            .map_or("no reply".to_string(), |ms| format!("{ms} ms"));
        println!(
            "  turn {}: caller said {:?}\n          heard {:?} · intent {} · first reply byte after {latency} ({:.1} s of audio)\n          agent: {:?}",
            i + 1,
            turn.said,
            field("text"),
            field("intent"),
            turn.reply_secs,
            field("reply")
        );
    }
}

/// The call as the API shows it (found by its CallSid among the newest calls).
async fn stored_call(base: &str, key: &str, sid: &str) -> anyhow::Result<Value> {
    let client = reqwest::Client::new();
    let base = base.trim_end_matches('/');
    let list: Value = client
        .get(format!("{base}/api/v1/calls?per_page=200"))
        .bearer_auth(key)
        .send()
        .await?
        .json()
        .await?;
    let id = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["call_sid"] == sid)
        .and_then(|c| c["id"].as_i64())
        .context("the call is not listed")?;
    Ok(client
        .get(format!("{base}/api/v1/calls/{id}"))
        .bearer_auth(key)
        .send()
        .await?
        .json()
        .await?)
}
