//! `caly bench turn`: a live voice turn's time from the end of the caller's utterance to the
//! first byte of reply audio, over the real Voicebot socket, on the configured database and
//! queue, with the api and the workers in this process.
//!
//! The pipeline's own overhead is that time less what the providers spent (speech-to-text,
//! the agent's brain, the first sentence's speech), as each stage recorded it: the voice-activity
//! decision, the queue hops, the hand-back and the database writes. It is measured with the
//! providers stubbed at zero latency, at 1 and 50 concurrent calls; then the end-to-end turn
//! with the offline engines (espeak-ng, and Whisper when built with `--features whisper`) at 1
//! and 4, the caller's question spoken by espeak-ng.
//!
//! Callers behave as a phone line does: audio arrives in real time, 100 ms frames, silence
//! included while the agent answers, and concurrent calls start spread over one turn's length,
//! so their utterances end at different moments. `--burst` instead starts every call at once
//! and sends each utterance as fast as the socket takes it: all calls' turns reach the pipeline
//! in the same millisecond, a worst case no phone line produces. Each table follows an
//! uncounted warm-up call long enough to use every pooled connection.

use super::stats::percentiles;
use super::{BenchApp, bench_app};
use crate::voice_client::{Played, VoiceClient, tone};
use async_trait::async_trait;
use caly_core::integrations::speech::{
    Audio, Speech, SpeechEngine, SpeechError, SpeechSettings, SpeechToText, TextToSpeech,
};
use caly_core::platform::settings::websocket_base;
use caly_core::{CallId, TenantId};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the stub ears hear: a question the offline agent answers from the profile.
const HEARD: &str = "what are your working hours";
/// The voice-activity detector's default silence that ends an utterance.
const SILENCE_MS: u32 = 700;
const RATE: u32 = 8000;
/// Turns of the uncounted warm-up call: enough for each statement of a turn to have been
/// prepared on every one of the live pool's connections, as on a server that has been up a while.
const WARM_UP_TURNS: usize = 16;
/// Concurrent calls start spread over this much time: about one turn (utterance, silence, reply).
const STAGGER: Duration = Duration::from_secs(2);

/// How the bench callers send their audio.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// As a phone line: in real time, with calls starting spread over [`STAGGER`].
    PhoneLine,
    /// Every call at once, each utterance as fast as the socket takes it.
    Burst,
}

/// Speech-to-text that hears [`HEARD`] at once.
struct InstantEars;

#[async_trait]
impl SpeechToText for InstantEars {
    fn name(&self) -> String {
        "stub (zero latency)".into()
    }

    async fn transcribe(&self, _audio: &Audio) -> Result<String, SpeechError> {
        Ok(HEARD.into())
    }
}

/// Text-to-speech that answers each sentence with 300 ms of tone at once.
struct InstantVoice;

#[async_trait]
impl TextToSpeech for InstantVoice {
    fn name(&self) -> String {
        "stub (zero latency)".into()
    }

    async fn synthesize(&self, _text: &str, rate: u32) -> Result<Audio, SpeechError> {
        Ok(Audio::new(tone(300, rate), rate))
    }
}

/// One turn as the caller saw it.
struct TurnTime {
    call_sid: String,
    seq: usize,
    end_to_end: Duration,
}

/// Runs the benchmark and prints its tables.
pub async fn run(
    turns: usize,
    stubbed: &[usize],
    offline: &[usize],
    arrival: Arrival,
    through_queue: bool,
) -> anyhow::Result<()> {
    let bench = bench_app("turn", 5000).await?;
    let _store = bench.connect_local_store().await?;
    println!(
        "caly bench turn: end of utterance → first reply byte over the Voicebot socket, \
         {turns} turns per call"
    );
    println!("pipeline overhead = turn time − speech-to-text − brain − first sentence's speech");
    let how = match arrival {
        Arrival::PhoneLine => {
            "callers speak in real time; concurrent calls start spread over 2 s (--burst: all at once)"
        }
        Arrival::Burst => {
            "--burst: every call starts at once and sends each utterance as fast as the socket takes it"
        }
    };
    println!("{how}");
    if through_queue {
        println!(
            "--through-queue: the socket pushes each turn's first stage for a worker to pop and claim"
        );
    } else {
        println!(
            "the socket runs each turn's first stage in this process, whose workers consume its \
             queue (--through-queue: push it for a worker to pop and claim)"
        );
    }
    let stub = Speech::with(Some(Arc::new(InstantEars)), Some(Arc::new(InstantVoice)));
    println!("\nproviders stubbed at zero latency (offline rules agent)");
    let line = Line {
        turns,
        arrival,
        through_queue,
    };
    measure(&bench, stub, line, stubbed, &tone(600, RATE)).await?;

    let settings = SpeechSettings {
        engine: SpeechEngine::Offline,
        ..bench.app.settings.speech.clone()
    };
    let offline_speech = Speech::detect(&settings, None, &bench.app.settings.egress).await;
    let Some(tts) = offline_speech.tts.clone() else {
        println!("\noffline engines: missing\n{}", offline_speech.report());
        return Ok(());
    };
    // The caller's words, spoken: what the offline engines hear.
    let mut question = tts.synthesize(HEARD, RATE).await?.samples;
    // espeak-ng ends with some silence of its own: without it, the 700 ms of silence that ends
    // the utterance starts where the bench's clock expects it to.
    let spoken = question.iter().rposition(|s| s.unsigned_abs() > 300);
    question.truncate(spoken.map_or(0, |last| last + 1));
    let offline_speech = if offline_speech.stt.is_some() {
        offline_speech
    } else {
        println!("\n{}", offline_speech.report());
        println!("(speech-to-text stubbed: build with --features whisper for the offline Whisper)");
        Speech::with(Some(Arc::new(InstantEars)), Some(tts))
    };
    println!(
        "\noffline engines, end to end (the caller says {HEARD:?}): {}",
        offline_speech.report().replace('\n', "; ")
    );
    measure(&bench, offline_speech, line, offline, &question).await?;
    Ok(())
}

/// What each bench call does.
#[derive(Clone, Copy)]
struct Line {
    turns: usize,
    arrival: Arrival,
    through_queue: bool,
}

async fn measure(
    bench: &BenchApp,
    speech: Speech,
    line: Line,
    levels: &[usize],
    utterance: &[i16],
) -> anyhow::Result<()> {
    let app = bench.app.clone().with_speech(speech);
    // The socket's side of the process: with the workers' stages, it runs a turn's first
    // stage itself (they are spawned below with the same).
    let socket_app = if line.through_queue {
        app.clone()
    } else {
        app.clone().consuming(&app.stages.names())
    };
    let serving = BenchApp {
        app: socket_app,
        tenant: bench.tenant.clone(),
        base: Default::default(),
    };
    let (_, stop) = serving.serve_api().await?;
    let concurrency = levels.iter().copied().max().unwrap_or(1).max(4);
    let workers = super::spawn_workers(&app, concurrency, &stop);
    let url = format!(
        "{}/voice/exotel/{}/{}",
        websocket_base(&serving.base_url()),
        bench.tenant.tenant.id,
        bench.tenant.webhook_secret.expose_secret()
    );
    println!(
        "{:>6} {:>7} {:>22} {:>22} {:>22}",
        "calls", "turns", "turn p50/p99 ms", "providers p50/p99", "overhead p50/p99"
    );
    // One call first, not counted: pools, prepared statements and subscriptions warm up.
    let warm_up = Line {
        turns: WARM_UP_TURNS,
        arrival: Arrival::Burst,
        ..line
    };
    one_call(
        url.clone(),
        format!("bw{}", uuid_like()),
        0,
        warm_up,
        utterance.to_vec(),
    )
    .await?;
    let tenant = TenantId(bench.tenant.tenant.id);
    // Each round starts once the post-call stages (recording, transcript, charge) of the calls
    // before it have finished, with this table's engines: they would share the cores with the
    // round's turns.
    settle(&app, tenant).await?;
    for (round, &level) in levels.iter().enumerate() {
        let mut tasks = Vec::new();
        let level = level.max(1);
        for c in 0..level {
            let sid = format!("bt{round}x{c}x{}", uuid_like());
            let utterance = utterance.to_vec();
            let start_after = match line.arrival {
                Arrival::PhoneLine => STAGGER * c as u32 / level as u32,
                Arrival::Burst => Duration::ZERO,
            };
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(start_after).await;
                one_call(url, sid, c, line, utterance).await
            }));
        }
        let mut times = Vec::new();
        for task in tasks {
            times.extend(task.await??);
        }
        settle(&app, tenant).await?;
        let (mut total, mut providers, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
        for time in &times {
            let spent = provider_time(&app, tenant, time).await?;
            total.push(time.end_to_end);
            providers.push(spent);
            overhead.push(time.end_to_end.saturating_sub(spent));
        }
        let pair = |values: &mut Vec<Duration>| {
            let (p50, p99) = percentiles(values);
            format!("{p50:.1} / {p99:.1}")
        };
        println!(
            "{:>6} {:>7} {:>22} {:>22} {:>22}",
            level,
            times.len(),
            pair(&mut total),
            pair(&mut providers),
            pair(&mut overhead)
        );
    }
    stop.cancel();
    let _ = workers.await;
    Ok(())
}

fn uuid_like() -> String {
    let digest =
        caly_core::platform::crypto::digest_hex(&format!("{:?}", std::time::SystemTime::now()));
    digest[..12].to_string()
}

/// One call: greeted, then `line.turns` times the `utterance`, each timed from the frame that
/// completes the silence ending it to the first frame of the reply.
async fn one_call(
    url: String,
    call_sid: String,
    n: usize,
    line: Line,
    utterance: Vec<i16>,
) -> anyhow::Result<Vec<TurnTime>> {
    let mut client = VoiceClient::connect(&url).await?;
    let caller = format!("+9198{:08}", 20_000_000 + n);
    client.start(&call_sid, "bench", &caller, RATE).await?;
    let greeting = listen(&mut client, line.arrival).await?;
    let mark = greeting
        .mark
        .ok_or_else(|| anyhow::anyhow!("no greeting on {call_sid}"))?;
    client.echo_mark(&mark).await?;
    let mut times = Vec::new();
    let last_frame = (RATE / 10) as usize;
    for seq in 1..=line.turns {
        let mut speech = utterance.clone();
        // All but the last 100 ms of the silence that ends the utterance...
        speech.extend(vec![0i16; (SILENCE_MS * RATE / 1000) as usize - last_frame]);
        match line.arrival {
            Arrival::PhoneLine => {
                if !client.speak_in_real_time(&speech).await? {
                    anyhow::bail!("{call_sid} closed during turn {seq}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Arrival::Burst => client.send_audio(&speech).await?,
        }
        // ...then the frame that completes it: the detector decides on this one.
        let sent = Instant::now();
        client.send_audio(&vec![0i16; last_frame]).await?;
        let reply = listen(&mut client, line.arrival).await?;
        let first = reply
            .first_audio
            .ok_or_else(|| anyhow::anyhow!("no reply audio on {call_sid} turn {seq}"))?;
        times.push(TurnTime {
            call_sid: call_sid.clone(),
            seq,
            end_to_end: first.saturating_duration_since(sent),
        });
        match reply.mark {
            Some(mark) => client.echo_mark(&mark).await?,
            None => anyhow::bail!("turn {seq} of {call_sid} ended without a mark"),
        }
    }
    client.stop("callended").await?;
    Ok(times)
}

/// Waits (up to five minutes) until none of the tenant's stage runs is running, or pushed and
/// due. (The bench runs no dispatcher: a run nobody pushed, such as a call's `reconcile`,
/// stays pending.)
async fn settle(app: &caly_core::App, tenant: TenantId) -> anyhow::Result<()> {
    use caly_core::RunStatus;
    use caly_entities::stage_run;
    use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let busy = stage_run::Entity::find()
            .filter(stage_run::Column::TenantId.eq(tenant.0))
            .filter(
                Condition::any()
                    .add(stage_run::Column::Status.eq(RunStatus::Running))
                    .add(
                        Condition::all()
                            .add(stage_run::Column::Status.eq(RunStatus::Pending))
                            .add(stage_run::Column::DispatchedAt.is_not_null())
                            .add(stage_run::Column::NextRunAt.lte(chrono::Utc::now())),
                    ),
            )
            .count(&app.db)
            .await?;
        if busy == 0 || Instant::now() > deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What Caly plays until its next mark; a phone line carries silence meanwhile.
async fn listen(client: &mut VoiceClient, arrival: Arrival) -> anyhow::Result<Played> {
    let wait = Duration::from_secs(30);
    match arrival {
        Arrival::PhoneLine => client.until_mark_on_a_quiet_line(wait).await,
        Arrival::Burst => client.until_mark(wait).await,
    }
}

/// What the providers spent on a turn, as its stages recorded it.
async fn provider_time(
    app: &caly_core::App,
    tenant: TenantId,
    time: &TurnTime,
) -> anyhow::Result<Duration> {
    let call = caly_core::calls::find_call_by_sid(&app.db, tenant, &time.call_sid).await?;
    let turns = caly_core::calls::turns::turns_of_call(&app.db, tenant, CallId(call.id)).await?;
    let turn = turns
        .iter()
        .find(|t| t.seq as usize == time.seq)
        .ok_or_else(|| anyhow::anyhow!("turn {} of {} not stored", time.seq, time.call_sid))?;
    let latency: &Value = &turn.latency_ms;
    let ms = |key: &str| Duration::from_millis(latency[key].as_u64().unwrap_or(0));
    let brain = Duration::from_micros(latency["brain_us"].as_u64().unwrap_or(0));
    Ok(ms("transcribe") + brain + ms("speak_first"))
}
