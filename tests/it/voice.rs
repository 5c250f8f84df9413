//! Live voice over a real websocket, as Exotel's Voicebot applet drives it: the greeting within
//! a second, reply frames of the right size and pace followed by a mark, barge-in, keypad input,
//! both key spellings and both encodings, `stop` with both reasons, the fallback line when a
//! provider is too slow, and the sync Passthru's 200 (a person) or 302 (resolved) afterwards.

use crate::support::voicebot::{FakeVoicebot, Received, SameWords, ScriptedEars};
use crate::support::{Backend, Database, Options, TestApp};
use caly_core::calls::turn_audio;
use caly_core::integrations::speech::{Encoding, Espeak, Speech, SpeechToText};
use caly_core::tenancy::profile;
use caly_core::voice::VoiceSettings;
use caly_entities::{recording, stage_run, turn};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RAHUL: &str = "+919812345678";

async fn spawn(backend: Backend, heard: &[&str], delay: Duration, voice: VoiceSettings) -> TestApp {
    let ears = Arc::new(ScriptedEars::new(heard, delay));
    spawn_hearing(backend, ears, voice).await
}

async fn spawn_hearing(
    backend: Backend,
    ears: Arc<dyn SpeechToText>,
    voice: VoiceSettings,
) -> TestApp {
    spawn_with(backend, ears, voice, false, Database::Shared).await
}

async fn spawn_with(
    backend: Backend,
    ears: Arc<dyn SpeechToText>,
    voice: VoiceSettings,
    socket_runs_turns: bool,
    database: Database,
) -> TestApp {
    let speech = Speech::with(Some(ears), Some(Arc::new(Espeak::default())));
    let app = TestApp::spawn_opts(
        backend,
        Options {
            speech: Some(speech),
            voice: Some(voice),
            socket_runs_turns,
            // A socket that runs its turns needs no workers to answer: none run at first.
            workers: !socket_runs_turns,
            database,
            ..Options::default()
        },
    )
    .await;
    crate::turns::connect(&app).await;
    app
}

fn socket_url(app: &TestApp) -> String {
    format!(
        "{}/voice/exotel/{}/{}",
        app.base.replacen("http", "ws", 1),
        app.tenant.tenant.id,
        app.tenant.webhook_secret
    )
}

fn media(messages: &[Received]) -> Vec<&Received> {
    messages.iter().filter(|m| m.event() == "media").collect()
}

fn mark_of(messages: &[Received]) -> String {
    let last = messages.last().expect("messages");
    assert_eq!(last.event(), "mark");
    last.message["mark"]["name"].as_str().unwrap().to_string()
}

/// Every frame has the framing's size (a multiple of 320, at least 3,200 bytes) and the frames
/// are paced in real time (one chunk ahead at most).
fn assert_framed(frames: &[&Received], chunk: usize, chunk_ms: u64) {
    assert!(!frames.is_empty(), "no audio");
    for frame in frames {
        let bytes = frame.payload().len();
        assert_eq!(bytes, chunk, "frame size");
        assert_eq!(bytes % 320, 0);
        assert!(bytes >= 3200);
    }
    if frames.len() >= 4 {
        let spread = frames.last().unwrap().at - frames[0].at;
        let least = Duration::from_millis(chunk_ms * (frames.len() as u64 - 2)) * 8 / 10;
        assert!(
            spread >= least,
            "{} frames in {spread:?}: not paced (at least {least:?})",
            frames.len()
        );
    }
}

async fn passthru(app: &TestApp, call_sid: &str) -> u16 {
    app.passthru_get(&[
        ("CallSid", call_sid),
        ("CallFrom", "09812345678"),
        ("CallTo", "08047491899"),
        ("Direction", "incoming"),
        ("CallType", "completed"),
        ("Stream[StreamSID]", "MZ1"),
        ("Stream[Status]", "completed"),
        ("Stream[Duration]", "20"),
    ])
    .await
    .status()
    .as_u16()
}

async fn call_json(app: &TestApp, call_sid: &str) -> Value {
    let call = app.call_by_sid(call_sid).await;
    let (code, body) = app.api_get(&format!("/api/v1/calls/{}", call.id)).await;
    assert_eq!(code, 200, "{body}");
    body
}

async fn greeted(bot: &mut FakeVoicebot, started: Instant) -> Vec<Received> {
    let greeting = bot.until_mark(Duration::from_secs(10)).await;
    let first = media(&greeting)[0].at;
    assert!(
        first - started < Duration::from_secs(1),
        "the greeting began {:?} after start",
        first - started
    );
    greeting
}

async fn answered_and_resolved(backend: Backend, socket_runs_turns: bool) {
    answered_and_resolved_on(backend, socket_runs_turns, Database::Shared).await;
}

/// A call greeted, answered and resolved over the socket, on `database`; with
/// `socket_runs_turns`, the socket's process runs each turn's first stage itself.
pub(crate) async fn answered_and_resolved_on(
    backend: Backend,
    socket_runs_turns: bool,
    database: Database,
) {
    let heard = ["Where is my order 1004?", "No thanks, that's all. Bye!"];
    let ears = Arc::new(ScriptedEars::new(&heard, Duration::ZERO));
    let mut app = spawn_with(
        backend,
        ears,
        VoiceSettings::default(),
        socket_runs_turns,
        database,
    )
    .await;
    let sid = format!("a1{}", uuid::Uuid::new_v4().simple());
    let mut bot = FakeVoicebot::connect(&socket_url(&app), None).await;
    let started = Instant::now();
    bot.start(&sid, RAHUL, Encoding::Pcm16, 8000, false).await;
    let greeting = greeted(&mut bot, started).await;
    assert_framed(&media(&greeting), 3200, 200);
    bot.echo_mark(&mark_of(&greeting)).await;

    bot.utter("Where is my order one zero zero four").await;
    let reply = bot.until_mark(Duration::from_secs(20)).await;
    assert_framed(&media(&reply), 3200, 200);
    assert_eq!(mark_of(&reply), "turn-1");
    bot.echo_mark("turn-1").await;

    bot.utter("No thanks, that's all, bye").await;
    let goodbye = bot.until_mark(Duration::from_secs(20)).await;
    bot.echo_mark(&mark_of(&goodbye)).await;
    bot.until_closed(Duration::from_secs(10)).await;

    assert_eq!(passthru(&app, &sid).await, 302, "a resolved call hangs up");
    let call = call_json(&app, &sid).await;
    let turns = call["turns"].as_array().unwrap();
    assert_eq!(turns[0]["source"], "voice");
    assert!(
        turns[0]["text"].as_str().unwrap().contains("1004"),
        "{call}"
    );
    assert!(
        turns[0]["reply"].as_str().unwrap().contains("1004"),
        "{call}"
    );
    assert!(turns[0]["latency_ms"]["transcribe"].is_u64(), "{call}");
    assert_eq!(
        turns[1]["reply"],
        caly_core::voice::phrases::GOODBYE,
        "the goodbye turn keeps the words the caller heard: {call}"
    );
    let row = app.call_by_sid(&sid).await;
    if socket_runs_turns {
        // The conversation above was answered with no worker running: by the socket's own
        // process, each stage handed to the next. The post-call stages need the workers.
        app.start_workers();
    }
    app.drain().await;
    // Each turn's stages ran once and succeeded, whether `agent_reply`'s answer was stored by
    // its own write or with the words: the goodbye is the socket's own phrase, not spoken.
    let runs = stage_run::Entity::find()
        .filter(stage_run::Column::CallId.eq(row.id))
        .all(&app.app.db)
        .await
        .unwrap();
    for (n, turn) in turns.iter().enumerate() {
        let key = format!("turn:{}", turn["id"]);
        let mut ran: Vec<_> = runs
            .iter()
            .filter(|r| r.dedupe_key == key)
            .map(|r| (r.stage.as_str(), r.status, r.attempts))
            .collect();
        ran.sort_by_key(|(stage, ..)| *stage);
        let done = caly_core::RunStatus::Succeeded;
        let mut expected = vec![("agent_reply", done, 1), ("turn_transcribe", done, 1)];
        if n == 0 {
            expected.insert(1, ("speak", done, 1));
        }
        assert_eq!(ran, expected, "turn {n}: {call}");
    }
    assert_eq!(row.outcome.as_deref(), Some("resolved"));
    assert_eq!(row.outcome_reason.as_deref(), Some("goodbye"));
    assert!(row.bot_answered);
    let ours = recording::Entity::find()
        .filter(recording::Column::CallId.eq(row.id))
        .filter(recording::Column::Source.eq("caly"))
        .one(&app.app.db)
        .await
        .unwrap()
        .expect("Caly's own recording of the bot leg");
    let wav = app.app.store.read_all(&ours.object_key).await.unwrap();
    let wav = caly_core::integrations::speech::audio::read_wav(&wav).unwrap();
    assert_eq!(wav.channels.len(), 2, "agent and caller channels");
    assert!(
        wav.channels[0].iter().any(|s| s.abs() > 1000),
        "the agent spoke"
    );
    assert!(
        wav.channels[1].iter().any(|s| s.abs() > 1000),
        "the caller spoke"
    );
}

#[tokio::test]
async fn a_call_is_greeted_answered_and_resolved_on_the_embedded_default() {
    answered_and_resolved(Backend::Embedded, false).await;
}

#[tokio::test]
async fn a_call_is_greeted_answered_and_resolved_on_postgres_and_redis() {
    answered_and_resolved(Backend::Production, false).await;
}

#[tokio::test]
async fn a_call_is_answered_with_the_socket_running_its_turns_first_stage_itself() {
    answered_and_resolved(Backend::Production, true).await;
}

#[tokio::test]
async fn barge_in_clears_the_greeting_and_asking_for_a_person_hands_off() {
    let heard = ["I want to talk to a person please"];
    let app = spawn(
        Backend::Embedded,
        &heard,
        Duration::ZERO,
        VoiceSettings::default(),
    )
    .await;
    let sid = format!("b2{}", uuid::Uuid::new_v4().simple());
    let mut bot = FakeVoicebot::connect(&socket_url(&app), None).await;
    bot.start(&sid, RAHUL, Encoding::Pcm16, 16000, false).await;
    let first = bot
        .next(Duration::from_secs(5))
        .await
        .expect("greeting audio");
    assert_eq!(first.event(), "media");
    assert_eq!(first.payload().len(), 3200, "16 kHz PCM16: 100 ms frames");
    bot.utter("I want to talk to a person please").await;
    let mut cleared = false;
    let mut reply_mark = None;
    while let Some(message) = bot.next(Duration::from_secs(20)).await {
        match message.event() {
            "clear" => cleared = true,
            "mark" if cleared => {
                let name = message.message["mark"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string();
                if name.starts_with("turn-") {
                    reply_mark = Some(name);
                    break;
                }
            }
            _ => {}
        }
    }
    assert!(cleared, "speaking over the greeting sends clear");
    bot.echo_mark(&reply_mark.expect("the handoff reply")).await;
    bot.until_closed(Duration::from_secs(10)).await;
    assert_eq!(
        passthru(&app, &sid).await,
        200,
        "a handoff goes to a person"
    );
    let row = app.call_by_sid(&sid).await;
    assert_eq!(row.outcome.as_deref(), Some("handed_off"));
    assert_eq!(row.outcome_reason.as_deref(), Some("caller_asked"));
}

#[tokio::test]
async fn keypad_digits_are_a_turn_in_mulaw_with_camel_case_keys() {
    let app = spawn(
        Backend::Embedded,
        &[],
        Duration::ZERO,
        VoiceSettings::default(),
    )
    .await;
    let sid = format!("c3{}", uuid::Uuid::new_v4().simple());
    let mut bot = FakeVoicebot::connect(&socket_url(&app), None).await;
    let started = Instant::now();
    bot.start(&sid, RAHUL, Encoding::Mulaw, 8000, true).await;
    let greeting = greeted(&mut bot, started).await;
    assert_framed(&media(&greeting), 3200, 400);
    assert_eq!(greeting[0].message["streamSid"], bot.stream_sid);
    bot.echo_mark(&mark_of(&greeting)).await;
    for digit in ['1', '0', '0', '4', '#'] {
        bot.dtmf(digit).await;
    }
    let reply = bot.until_mark(Duration::from_secs(20)).await;
    assert!(!media(&reply).is_empty());
    bot.echo_mark(&mark_of(&reply)).await;
    bot.stop("stopped").await;
    bot.until_closed(Duration::from_secs(10)).await;
    let call = call_json(&app, &sid).await;
    let turn = &call["turns"][0];
    assert_eq!(turn["source"], "dtmf");
    assert_eq!(turn["text"], "1004");
    assert!(turn["reply"].as_str().unwrap().contains("1004"), "{call}");
    let row = app.call_by_sid(&sid).await;
    assert_eq!(row.outcome_reason.as_deref(), Some("stopped"));
    assert_eq!(passthru(&app, &sid).await, 302);
}

#[tokio::test]
async fn a_slow_provider_gets_the_fallback_line_then_a_person() {
    let voice = VoiceSettings {
        turn_timeout: Duration::from_secs(1),
        ..VoiceSettings::default()
    };
    let app = spawn(Backend::Embedded, &["hello"], Duration::from_secs(6), voice).await;
    let sid = format!("d4{}", uuid::Uuid::new_v4().simple());
    let mut bot = FakeVoicebot::connect(&socket_url(&app), None).await;
    bot.start(&sid, RAHUL, Encoding::Pcm16, 8000, false).await;
    let greeting = bot.until_mark(Duration::from_secs(10)).await;
    bot.echo_mark(&mark_of(&greeting)).await;
    bot.utter("Where is my order one zero zero four").await;
    let fallback = bot.until_mark(Duration::from_secs(10)).await;
    assert!(!media(&fallback).is_empty(), "the fallback line is spoken");
    bot.echo_mark(&mark_of(&fallback)).await;
    bot.until_closed(Duration::from_secs(10)).await;
    assert_eq!(passthru(&app, &sid).await, 200);
    let row = app.call_by_sid(&sid).await;
    assert_eq!(row.outcome.as_deref(), Some("handed_off"));
    assert_eq!(row.outcome_reason.as_deref(), Some("provider_failed"));
    let call = call_json(&app, &sid).await;
    assert_eq!(call["turns"][0]["status"], "timed_out");
    assert_eq!(call["turns"][0]["handoff"], true);
}

#[tokio::test]
async fn the_socket_checks_its_secret_answers_plain_gets_and_takes_basic_auth() {
    let app = spawn(
        Backend::Embedded,
        &[],
        Duration::ZERO,
        VoiceSettings::default(),
    )
    .await;
    let id = app.tenant.tenant.id;
    let plain = app
        .client
        .get(socket_url(&app).replacen("ws", "http", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
    let body: Value = plain.json().await.unwrap();
    assert_eq!(body["url"], socket_url(&app));
    let wrong = format!("{}/voice/exotel/{id}/not-the-secret", app.base);
    assert_eq!(app.client.get(&wrong).send().await.unwrap().status(), 404);
    let other = format!(
        "{}/voice/exotel/999999/{}",
        app.base, app.tenant.webhook_secret
    );
    assert_eq!(app.client.get(&other).send().await.unwrap().status(), 404);

    let basic = format!("{}/voice/exotel/{id}", app.base.replacen("http", "ws", 1));
    let mut bot =
        FakeVoicebot::connect(&basic, Some((&id.to_string(), &app.tenant.webhook_secret))).await;
    let sid = format!("e5{}", uuid::Uuid::new_v4().simple());
    let started = Instant::now();
    bot.start(&sid, RAHUL, Encoding::Pcm16, 24000, true).await;
    let greeting = greeted(&mut bot, started).await;
    assert_framed(&media(&greeting), 4800, 100);
    bot.stop("callended").await;
    bot.until_closed(Duration::from_secs(10)).await;
    let row = app.call_by_sid(&sid).await;
    assert_eq!(row.outcome.as_deref(), Some("resolved"));
    assert_eq!(row.outcome_reason.as_deref(), Some("caller_hung_up"));
}

/// What the fake ears hear in every piece of speech: a phone number, an OTP and an order.
const SECRETS: &str = "My number is 98765 43210 and the OTP is 482913, where is order 2041?";

/// One short call: greeting, one caller turn and its reply, then the caller hangs up; then the
/// post-call work runs.
async fn short_call(app: &TestApp, sid: &str) -> Value {
    let mut bot = FakeVoicebot::connect(&socket_url(app), None).await;
    bot.start(sid, RAHUL, Encoding::Pcm16, 8000, false).await;
    let greeting = bot.until_mark(Duration::from_secs(10)).await;
    bot.echo_mark(&mark_of(&greeting)).await;
    bot.utter("My number is nine eight seven six five, where is my order")
        .await;
    let reply = bot.until_mark(Duration::from_secs(20)).await;
    bot.echo_mark(&mark_of(&reply)).await;
    bot.stop("callended").await;
    bot.until_closed(Duration::from_secs(10)).await;
    app.drain().await;
    call_json(app, sid).await
}

fn segments(call: &Value) -> &Vec<Value> {
    call["transcript"]["segments"]
        .as_array()
        .expect("transcript.segments")
}

#[tokio::test]
async fn the_post_call_transcript_names_speakers_and_redacts_unless_kept() {
    let ears = Arc::new(SameWords(SECRETS));
    let app = spawn_hearing(Backend::Production, ears, VoiceSettings::default()).await;

    let sid = format!("t1{}", uuid::Uuid::new_v4().simple());
    let call = short_call(&app, &sid).await;
    let said = segments(&call);
    let speakers: Vec<&str> = said
        .iter()
        .map(|s| s["speaker"].as_str().unwrap())
        .collect();
    assert!(speakers.contains(&"bot"), "{call}");
    assert!(speakers.contains(&"caller"), "{call}");
    let mut last_start = 0;
    for segment in said {
        let (start, end) = (
            segment["start_ms"].as_u64().unwrap(),
            segment["end_ms"].as_u64().unwrap(),
        );
        assert!(start >= last_start && end > start, "{segment}");
        last_start = start;
        assert_eq!(segment["source"], "caly");
        let text = segment["text"].as_str().unwrap();
        assert_eq!(
            text, "My number is [phone] and the OTP is [code], where is order 2041?",
            "redacted by default; the order number stays"
        );
    }
    assert_eq!(call["transcript"]["redacted"], true);
    let turn_text = call["turns"][0]["text"].as_str().unwrap();
    assert!(
        turn_text.contains("[phone]") && !turn_text.contains("43210"),
        "{call}"
    );
    // At rest too, and the per-turn audio is gone once the call is over.
    let row = app.call_by_sid(&sid).await;
    let turns = turn::Entity::find()
        .filter(turn::Column::CallId.eq(row.id))
        .all(&app.app.db)
        .await
        .unwrap();
    assert!(
        turns
            .iter()
            .all(|t| !t.input.contains("43210") && t.input.contains("[code]"))
    );
    for turn in &turns {
        let scratch = &app.app.scratch;
        assert!(
            turn_audio::caller_audio(scratch, turn).await.is_err(),
            "the live stages' audio is forgotten"
        );
        assert!(
            turn_audio::reply_parts(scratch, turn.id, 0)
                .await
                .unwrap()
                .is_empty()
        );
    }

    // A store that keeps the text gets it as said.
    let tenant = caly_core::TenantId(app.tenant.tenant.id);
    let mut kept = profile::profile_of(&app.app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    kept.redact_transcripts = false;
    profile::save_profile(&app.app.db, tenant, &kept, chrono::Utc::now())
        .await
        .unwrap();
    let sid = format!("t2{}", uuid::Uuid::new_v4().simple());
    let call = short_call(&app, &sid).await;
    assert!(!segments(&call).is_empty(), "{call}");
    assert!(
        segments(&call).iter().all(|s| s["text"] == SECRETS),
        "{call}"
    );
    assert_eq!(call["transcript"]["redacted"], false);
    assert!(
        call["turns"][0]["text"]
            .as_str()
            .unwrap()
            .contains("98765 43210")
    );
}

/// The setting one connection of `db` runs with.
pub(crate) async fn synchronous_commit(db: &impl sea_orm::ConnectionTrait) -> String {
    use sea_orm::Statement;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SHOW synchronous_commit",
        ))
        .await
        .unwrap()
        .expect("one row");
    row.try_get_by_index::<String>(0).unwrap()
}

#[tokio::test]
async fn live_turn_writes_do_not_wait_for_the_disk_and_the_rest_does() {
    let app = TestApp::spawn(Backend::Production).await;
    assert_eq!(synchronous_commit(&app.app.live_db).await, "off");
    assert_eq!(synchronous_commit(&app.app.db).await, "on");
    // A live stage's context writes through the live pool; every other stage's through `db`.
    assert_eq!(synchronous_commit(&app.app.on_live_lane().db).await, "off");
    app.stop().await;
}

/// A PostgreSQL + Redis app that has taken one [`short_call`] (CallSid `prefix…`), and its call.
async fn one_short_call_on_postgres(prefix: &str) -> (TestApp, caly_entities::call::Model) {
    let app = spawn(
        Backend::Production,
        &[SECRETS],
        Duration::ZERO,
        Default::default(),
    )
    .await;
    let sid = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
    short_call(&app, &sid).await;
    let call = app.call_by_sid(&sid).await;
    (app, call)
}

#[tokio::test]
async fn a_live_stage_reads_its_turn_alongside_the_claim_as_it_would_after_it() {
    use caly_core::pipeline::stage::{Subject, TurnSubject};
    let (app, call) = one_short_call_on_postgres("ra").await;
    let runs = stage_run::Entity::find()
        .filter(stage_run::Column::CallId.eq(call.id))
        .filter(stage_run::Column::Stage.is_in(["turn_transcribe", "agent_reply", "speak"]))
        .all(&app.app.db)
        .await
        .unwrap();
    assert_eq!(runs.len(), 3, "one run of each live stage for the one turn");
    let job = |run: &stage_run::Model| {
        caly_jobs::StageJob::new(caly_jobs::StageRunId(run.id), run.stage.clone().into())
    };
    for run in &runs {
        let ahead = TurnSubject::read_ahead(&app.app, &job(run))
            .await
            .unwrap_or_else(|| panic!("{} read nothing ahead", run.stage));
        assert_eq!(ahead.utterance, None, "the job named no input");
        let loaded = TurnSubject::load(&app.app, run).await.unwrap();
        assert_eq!(ahead.call, loaded.call, "{}", run.stage);
        assert_eq!(ahead.turn, loaded.turn, "{}", run.stage);
        assert_eq!(ahead.sample_rate, Some(8000), "{}", run.stage);
        assert_eq!(ahead.sample_rate, loaded.sample_rate, "{}", run.stage);
    }
    // A run about something else reads nothing ahead: the runner loads it after the claim.
    let other = stage_run::Entity::find()
        .filter(stage_run::Column::CallId.eq(call.id))
        .filter(stage_run::Column::Stage.is_not_in(["turn_transcribe", "agent_reply", "speak"]))
        .one(&app.app.db)
        .await
        .unwrap()
        .expect("a post-call run of the call");
    assert!(
        TurnSubject::read_ahead(&app.app, &job(&other))
            .await
            .is_none()
    );
    // A job that says where its turn's utterance waits gets it read alongside: that turn's
    // own, never another's.
    let first = runs.iter().find(|r| r.stage == "turn_transcribe").unwrap();
    let samples = |n: i16| (0..n).map(|i| i * 7).collect::<Vec<i16>>();
    let heard = samples(400);
    turn_audio::put_utterance(&app.app.scratch, call.id, 1, &heard, 8000)
        .await
        .unwrap();
    turn_audio::put_utterance(&app.app.scratch, call.id, 2, &samples(200), 8000)
        .await
        .unwrap();
    let named = |seq| job(first).with_input(turn_audio::utterance_key(call.id, seq));
    let ahead = TurnSubject::read_ahead(&app.app, &named(1)).await.unwrap();
    assert_eq!(ahead.turn.seq, 1);
    let utterance = ahead.utterance.expect("the utterance read alongside");
    assert_eq!((utterance.samples, utterance.rate), (heard, 8000));
    let ahead = TurnSubject::read_ahead(&app.app, &named(2)).await.unwrap();
    assert_eq!(ahead.utterance, None, "turn 2's audio is not turn 1's");
    app.stop().await;
}

/// What an arming statement returned for `run` is what it stored.
async fn assert_run_as_stored(db: &impl sea_orm::ConnectionTrait, run: &stage_run::Model) {
    let stored = stage_run::Entity::find_by_id(run.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        &stored, run,
        "what the statement returned is what it stored"
    );
}

#[tokio::test]
async fn on_postgres_a_live_stage_arms_its_follow_up_claimed_for_its_own_worker() {
    use caly_core::calls::turns::{self, Arm, Armed};
    use caly_core::calls::voice::{TurnStart, VoiceInput, start_voice_turn};
    use caly_core::pipeline::runs::NewRun;
    use caly_core::pipeline::stages::{speak, transcribe, turn_transcribe};
    let (app, call) = one_short_call_on_postgres("ho").await;
    // Only a worker that consumes the next stage hands it on.
    assert!(app.app.hand_on_lease(&speak::NAME).is_none());
    let worker = app.app.clone().consuming(&[speak::NAME]);
    let lease = worker.hand_on_lease(&speak::NAME).expect("consumed here");
    assert!(worker.hand_on_lease(&transcribe::NAME).is_none());

    // A new turn (its own first run is only dispatched after a minute, so no worker takes it).
    let now = chrono::Utc::now();
    let db = &app.app.live_db;
    let (turn, start) = start_voice_turn(
        &app.app,
        &call,
        VoiceInput::Keypad("12".into()),
        8000,
        None,
        now,
    )
    .await
    .unwrap();
    let TurnStart::Push(job) = start else {
        panic!("a process that consumes no live stage pushes the turn: {start:?}");
    };
    assert_eq!(job.input(), None, "keypad digits have no utterance");
    let next = Arm {
        run: NewRun::for_turn(&speak::NAME, &call, turn.id),
        claimed_until: Some(lease),
    };
    let armed = turns::set_transcript(db, &turn, "one two", 7, next.clone(), now)
        .await
        .unwrap();
    let Some(Armed::Claimed(claimed)) = armed else {
        panic!("armed claimed: {armed:?}");
    };
    let run = &claimed.run;
    assert_eq!((run.stage.as_str(), run.attempts), ("speak", 1));
    assert_eq!(run.status, caly_core::RunStatus::Running);
    let held = (run.locked_until.expect("leased") - lease).num_milliseconds();
    assert_eq!(held, 0, "leased until the given time");
    assert_eq!(claimed.turn.input, "one two", "the turn as written");
    let latency: Value = serde_json::from_str(&claimed.turn.latency).unwrap();
    assert_eq!(latency["transcribe"], 7);
    assert_run_as_stored(db, run).await;
    // Armed once: the same run again is nothing new.
    let again = turns::set_transcript(db, &turn, "one two", 7, next, now)
        .await
        .unwrap();
    assert!(again.is_none(), "{again:?}");
    // Without a lease, a follow-up is armed pending for any worker.
    let other = Arm {
        run: NewRun::for_turn(&transcribe::NAME, &call, turn.id),
        claimed_until: None,
    };
    let armed = turns::set_transcript(db, &turn, "one two", 7, other, now)
        .await
        .unwrap();
    let Some(Armed::Dispatched(id)) = armed else {
        panic!("armed dispatched: {armed:?}");
    };
    let pending = stage_run::Entity::find_by_id(id.0)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.status, caly_core::RunStatus::Pending);
    assert_eq!((pending.attempts, pending.locked_until), (0, None));
    // A spoken turn's job names where its utterance waits, and the utterance is there.
    let said: Vec<i16> = (0..320).map(|i| i * 3).collect();
    let speech = VoiceInput::Speech(said.clone());
    let (spoken, start) = start_voice_turn(&app.app, &call, speech.clone(), 8000, None, now)
        .await
        .unwrap();
    let TurnStart::Push(job) = start else {
        panic!("pushed: {start:?}");
    };
    let key = turn_audio::utterance_key(call.id, spoken.seq);
    assert_eq!(job.input(), Some(key.as_str()));
    let stored = turn_audio::utterance_at(&app.app.scratch, &key)
        .await
        .unwrap();
    assert_eq!(stored.map(|audio| audio.samples), Some(said.clone()));
    // A socket in a process that consumes the first stage claims its run in the same write
    // and runs it here: the call, the turn and the utterance in hand, the utterance also in
    // scratch for any worker that takes the run over should this process die.
    let socket = app.app.clone().consuming(&[turn_transcribe::NAME]);
    let before = chrono::Utc::now();
    let (here, start) = start_voice_turn(&socket, &call, speech, 8000, None, now)
        .await
        .unwrap();
    let TurnStart::RunHere(first) = start else {
        panic!("run here: {start:?}");
    };
    assert_eq!(first.stage, turn_transcribe::NAME);
    let run = &first.run;
    assert_eq!(
        (run.status, run.attempts),
        (caly_core::RunStatus::Running, 1)
    );
    assert_eq!(run.dedupe_key, format!("turn:{}", here.id));
    assert!(run.locked_until.expect("leased") > before);
    assert_run_as_stored(db, run).await;
    let subject = &first.subject;
    assert_eq!((subject.turn.id, subject.call.id), (here.id, call.id));
    assert_eq!(subject.sample_rate, Some(8000));
    let heard = subject.utterance.as_ref().expect("the utterance in hand");
    assert_eq!((&heard.samples, heard.rate), (&said, 8000));
    let key = turn_audio::utterance_key(call.id, here.seq);
    let stored = turn_audio::utterance_at(&app.app.scratch, &key)
        .await
        .unwrap();
    assert_eq!(stored.map(|audio| audio.samples), Some(said));
    app.stop().await;
}

/// The words a turn heard and the answer to them, stored in one write with the turn's
/// `agent_reply` run recorded done; a second write for the same turn changes nothing.
async fn words_and_answer_stored_together(backend: Backend) {
    words_and_answer_stored_together_on(backend, Database::Shared).await;
}

/// [`words_and_answer_stored_together`] on `database`.
pub(crate) async fn words_and_answer_stored_together_on(backend: Backend, database: Database) {
    use caly_core::RunStatus;
    use caly_core::agent::conversation::Conversation;
    use caly_core::agent::tools::{TaskKind, TaskRequest};
    use caly_core::calls::turns::{self, Arm, Armed, Heard, Recorded, Reply, TurnAnswer};
    use caly_core::calls::voice::{VoiceInput, start_voice_turn};
    use caly_core::pipeline::runs::NewRun;
    use caly_core::pipeline::stages::{agent_reply, speak};
    let ears = Arc::new(ScriptedEars::new(&[SECRETS], Duration::ZERO));
    let app = spawn_with(backend, ears, Default::default(), false, database).await;
    let sid = format!("hw{}", uuid::Uuid::new_v4().simple());
    short_call(&app, &sid).await;
    let call = app.call_by_sid(&sid).await;
    let now = chrono::Utc::now();
    // A new spoken turn (its first run is only dispatched after a minute: no worker takes it).
    let speech = VoiceInput::Speech(vec![100; 800]);
    let (turn, _) = start_voice_turn(&app.app, &call, speech, 8000, None, now)
        .await
        .unwrap();
    let record = || async {
        let heard = Heard {
            text: "cancel order 1004".into(),
            took_ms: 9,
            replied: NewRun::for_turn(&agent_reply::NAME, &call, turn.id),
            replied_note: "answered by cancellation".into(),
        };
        let memory = Conversation::default();
        let answer = TurnAnswer {
            reply: "I have asked the team to cancel order 1004.".into(),
            intent: "cancellation".into(),
            agent: "cancellation".into(),
            confidence: 0.9,
            verified: true,
            handoff: false,
            tool_calls: Vec::new(),
            latency: serde_json::json!({"brain": 1}),
            error: None,
            tasks: vec![TaskRequest {
                kind: TaskKind::Cancellation,
                order: Some("#1004".into()),
                details: "cancel order 1004".into(),
            }],
            redacting: true,
        };
        let reply = Reply {
            memory: &memory,
            answer,
            caller: Some(RAHUL.into()),
        };
        let next = Arm {
            run: NewRun::for_turn(&speak::NAME, &call, turn.id),
            claimed_until: None,
        };
        turns::record_heard_answer(&app.app.live_db, &turn, heard, reply, Some(next), now)
            .await
            .unwrap()
    };
    let Recorded::Stored(Some(Armed::Dispatched(speak_run))) = record().await else {
        panic!("stored, speak armed");
    };
    let stored = turn::Entity::find_by_id(turn.id)
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, "answered");
    assert_eq!(stored.input, "cancel order 1004");
    assert_eq!(
        stored.reply.as_deref(),
        Some("I have asked the team to cancel order 1004.")
    );
    let latency: Value = serde_json::from_str(&stored.latency).unwrap();
    assert_eq!(
        (latency["transcribe"].as_u64(), latency["brain"].as_u64()),
        (Some(9), Some(1))
    );
    let key = format!("turn:{}", turn.id);
    let runs_of_turn = || {
        stage_run::Entity::find()
            .filter(stage_run::Column::DedupeKey.eq(key.as_str()))
            .all(&app.app.db)
    };
    let runs = runs_of_turn().await.unwrap();
    let replied = runs
        .iter()
        .find(|r| r.stage == "agent_reply")
        .expect("agent_reply's run");
    assert_eq!(
        (replied.status, replied.attempts),
        (RunStatus::Succeeded, 1)
    );
    assert_eq!(replied.outcome.as_deref(), Some("answered by cancellation"));
    assert_eq!(replied.locked_until, None);
    let spoken = runs
        .iter()
        .find(|r| r.stage == "speak")
        .expect("speak's run");
    assert_eq!(
        (spoken.id, spoken.status),
        (speak_run.0, RunStatus::Pending)
    );
    let tasks = caly_entities::task::Entity::find()
        .filter(caly_entities::task::Column::TurnId.eq(turn.id))
        .all(&app.app.db)
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].kind, "cancellation");
    // Answered already: the same write again stores nothing and records no second run.
    assert_eq!(record().await, Recorded::Stale);
    let again = runs_of_turn().await.unwrap();
    assert_eq!(again.len(), runs.len());
    app.stop().await;
}

#[tokio::test]
async fn the_words_and_their_answer_are_stored_in_one_write_on_the_embedded_default() {
    words_and_answer_stored_together(Backend::Embedded).await;
}

#[tokio::test]
async fn the_words_and_their_answer_are_stored_in_one_write_on_postgres() {
    words_and_answer_stored_together(Backend::Production).await;
}

#[tokio::test]
async fn past_its_credit_limit_a_stores_calls_go_to_its_people_and_only_the_operator_sets_it() {
    use caly_core::tenancy::accounts::Role;
    use reqwest::Method;
    let app = spawn(
        Backend::Embedded,
        &[],
        Duration::ZERO,
        VoiceSettings::default(),
    )
    .await;
    let tenant = app.tenant.tenant.id;
    let path = format!("/api/v1/operator/tenants/{tenant}/billing");
    let limit = serde_json::json!({"credit_limit_paise": 0, "rate_paise_per_min": 2500});
    // The store's own owner and API keys may not; the operator's person may.
    let token = app.only_the_operator_may(Method::PUT, &path, &limit).await;
    let token = token.as_str();
    let set = app
        .request(Method::PUT, &path, Some(token), Some(limit))
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["credit_limit_paise"], 0);
    assert_eq!(set.body["rate_paise_per_min"], 2500);
    assert_eq!(set.body["over_credit_limit"], true);
    let listed = app
        .request(Method::GET, "/api/v1/operator/tenants", Some(token), None)
        .await;
    assert!(
        listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == tenant)
    );
    let bad = app
        .request(
            Method::PUT,
            &path,
            Some(token),
            Some(serde_json::json!({"credit_limit_paise": -5})),
        )
        .await;
    assert_eq!(bad.status, 422);

    // The call is handed to a person at once.
    let sid = format!("cl{}", uuid::Uuid::new_v4().simple());
    let mut bot = FakeVoicebot::connect(&socket_url(&app), None).await;
    bot.start(&sid, RAHUL, Encoding::Pcm16, 16000, false).await;
    bot.until_closed(Duration::from_secs(10)).await;
    assert_eq!(passthru(&app, &sid).await, 200, "a person takes the call");
    let row = app.call_by_sid(&sid).await;
    assert_eq!(row.outcome_reason.as_deref(), Some("credit_limit"));
    // Lifting the limit gives the calls back to the agent.
    let lifted = app
        .request(
            Method::PUT,
            &path,
            Some(token),
            Some(serde_json::json!({"credit_limit_paise": null})),
        )
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    assert_eq!(lifted.body["credit_limit_paise"], serde_json::Value::Null);
    let (_, owner) = app.signed_in(Role::Owner).await;
    let audit = app
        .request(
            Method::GET,
            "/api/v1/audit?action=billing.",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        audit.body["total"], 2,
        "the store sees who changed its billing"
    );
}
