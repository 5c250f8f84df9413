//! One live call on the Voicebot socket, from `start` to `stop`. The api hands it the socket's
//! text messages and sends what it returns; everything else is here. The session keeps only
//! what the live call needs (audio being played, the detector, the recording): every turn is in
//! the database as it happens, and the live-turn stages run on the workers, which tell this
//! node through the hand-back when a turn's transcript, answer or next reply part is stored.

use super::ending;
use super::farewell::is_farewell;
use super::frames::Framing;
use super::outcome::{Outcome, Reason};
use super::phrases;
use super::protocol::{self, Inbound, Start};
use super::recorder::Recorder;
use super::vad::{Vad, VadEvent};
use crate::App;
use crate::agent::brain::FALLBACK_LINE;
use crate::calls::turn_audio;
use crate::calls::turns::{self, ANSWERED, PENDING, TIMED_OUT, UNHEARD};
use crate::calls::voice::{self, TurnStart, VoiceInput};
use crate::pipeline::runner;
use crate::platform::handback::{Waiter, Woken};
use crate::tenancy::profile::{StoreProfile, profile_of};
use caly_entities::{call, tenant};
use caly_jobs::TenantId;
use chrono::Utc;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The live calls this api node holds (the per-node limit).
#[derive(Debug, Default)]
pub struct NodeCalls {
    live: AtomicUsize,
    /// This node's name, stored on each session.
    pub name: String,
}

impl NodeCalls {
    /// A node called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        NodeCalls {
            live: AtomicUsize::new(0),
            name: name.into(),
        }
    }

    /// Live calls now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

struct Held(Arc<NodeCalls>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The words a call opens with when the store set none: who answers, that it is an AI, and
/// that the call is recorded.
pub fn default_greeting(store: &str) -> String {
    format!(
        "Hello, thank you for calling {store}. I'm an AI assistant, and this call is recorded. How can I help you today?"
    )
}

/// Runs one call: reads `incoming` socket messages, writes to `outgoing`; returns when the
/// call is over (the api then closes the socket, which moves Exotel's flow to the Passthru).
pub async fn run(
    app: App,
    tenant: tenant::Model,
    node: Arc<NodeCalls>,
    mut incoming: mpsc::Receiver<String>,
    outgoing: mpsc::Sender<String>,
) {
    let settings = app.settings.voice.clone();
    let start =
        match tokio::time::timeout(settings.start_timeout, wait_for_start(&mut incoming)).await {
            Ok(Some(start)) => start,
            _ => {
                tracing::warn!("the Voicebot socket sent no start; closing");
                return;
            }
        };
    if !start.account_sid.is_empty() && start.account_sid != tenant.exotel_sid {
        tracing::warn!(
            tenant = tenant.id,
            "start.account_sid is not the tenant's Exotel account; closing"
        );
        return;
    }
    node.live.fetch_add(1, Ordering::SeqCst);
    let held = Held(node.clone());
    let call = match voice::open_call(&app, &tenant, &start, &node.name, Utc::now()).await {
        Ok(call) => call,
        Err(error) => {
            tracing::error!(%error, "could not open the voice call; closing (the Passthru hands it to a person)");
            return;
        }
    };
    let profile = profile_of(&app.db, TenantId(tenant.id))
        .await
        .ok()
        .flatten();
    let over_limit = held.0.live() > settings.max_calls_per_node
        || voice::live_calls(&app.db, TenantId(tenant.id), Utc::now())
            .await
            .is_ok_and(|n| n > settings.max_calls_per_tenant);
    let mut session = Session::new(app, call, start, profile, outgoing);
    session.open(&tenant, over_limit).await;
    session.run(&mut incoming).await;
    drop(held);
}

async fn wait_for_start(incoming: &mut mpsc::Receiver<String>) -> Option<Start> {
    while let Some(text) = incoming.recv().await {
        match protocol::parse(&text) {
            Ok(Inbound::Start(start)) => return Some(start),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "ignored a message before start"),
        }
    }
    None
}

/// A turn the workers are on.
struct InFlight {
    id: i64,
    seq: i32,
    next_part: i32,
    deadline: Instant,
    /// The caller spoke over it: its remaining audio is not played.
    skip_audio: bool,
}

struct Session {
    app: App,
    call: call::Model,
    start: Start,
    profile: Option<StoreProfile>,
    out: mpsc::Sender<String>,
    framing: Framing,
    vad: Vad,
    recorder: Recorder,
    playback: VecDeque<Vec<u8>>,
    pending_mark: Option<String>,
    awaiting_mark: Option<(String, Instant)>,
    next_send_at: Instant,
    turn: Option<InFlight>,
    /// The number of this socket's last turn: the next is expected one after it.
    last_seq: Option<i32>,
    queued: VecDeque<VoiceInput>,
    dtmf: String,
    dtmf_deadline: Option<Instant>,
    quiet_since: Option<Instant>,
    prompts: u32,
    ending: Option<(Outcome, Reason)>,
    stop_reason: String,
    waiter: Option<Waiter>,
    marks: u32,
    closed: bool,
}

impl Session {
    fn new(
        app: App,
        call: call::Model,
        start: Start,
        profile: Option<StoreProfile>,
        out: mpsc::Sender<String>,
    ) -> Self {
        let format = start.format;
        let vad = Vad::new(format.rate, app.settings.voice.vad);
        Session {
            framing: Framing::for_format(format),
            recorder: Recorder::new(format.rate),
            vad,
            app,
            call,
            start,
            profile,
            out,
            playback: VecDeque::new(),
            pending_mark: None,
            awaiting_mark: None,
            next_send_at: Instant::now(),
            turn: None,
            last_seq: None,
            queued: VecDeque::new(),
            dtmf: String::new(),
            dtmf_deadline: None,
            quiet_since: None,
            prompts: 0,
            ending: None,
            stop_reason: "closed".into(),
            waiter: None,
            marks: 0,
            closed: false,
        }
    }

    fn open_now(&self) -> bool {
        self.profile
            .as_ref()
            .is_some_and(|p| p.support_hours.is_open_at(Utc::now()))
    }

    /// Greets the caller, or hands the call on at once when it cannot be taken.
    async fn open(&mut self, tenant: &tenant::Model, over_limit: bool) {
        match self
            .app
            .handback
            .subscribe(&voice::handback_key(self.call.id))
            .await
        {
            Ok(waiter) => self.waiter = Some(waiter),
            Err(error) => {
                tracing::warn!(%error, "no hand-back subscription; checking turns every 250 ms")
            }
        }
        let over_credit = tenant
            .credit_limit_paise
            .is_some_and(|limit| tenant.balance_paise >= limit);
        let refuse = if over_limit {
            Some(Reason::Limit)
        } else if over_credit {
            Some(Reason::CreditLimit)
        } else if self.profile.as_ref().is_some_and(|p| p.send_all_to_human) {
            Some(Reason::SendAllToHuman)
        } else if self.app.speech.tts.is_none() {
            Some(Reason::SpeechUnavailable)
        } else {
            None
        };
        if let Some(reason) = refuse {
            self.hand_off(None, reason).await;
            return;
        }
        let greeting = self
            .profile
            .as_ref()
            .map(|p| p.greeting.clone())
            .unwrap_or_else(|| default_greeting(&tenant.name));
        self.say_phrase(&greeting).await;
    }

    async fn run(&mut self, incoming: &mut mpsc::Receiver<String>) {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut heartbeat = tokio::time::interval(Duration::from_secs(10));
        while !self.closed {
            let wait_turn = self.turn.is_some();
            tokio::select! {
                message = incoming.recv() => match message {
                    Some(text) => self.on_message(&text).await,
                    None => {
                        self.stop_reason = "closed".into();
                        self.decide_if_undecided(Outcome::Resolved, Reason::CallerHungUp);
                        break;
                    }
                },
                woken = wait_notice(self.waiter.as_mut()), if wait_turn => {
                    match woken {
                        Woken::Closed => self.waiter = None,
                        Woken::Carrying(notice) => self.play_carried(&notice).await,
                        Woken::Notified | Woken::TimedOut => {}
                    }
                    self.poll_turn().await;
                }
                _ = tick.tick() => self.on_tick().await,
                _ = heartbeat.tick() => {
                    let _ = voice::heartbeat(&self.app.db, caly_jobs::CallId(self.call.id), Utc::now()).await;
                }
            }
        }
        let decided = self
            .ending
            .unwrap_or((Outcome::Resolved, Reason::CallerHungUp));
        if let Err(error) = ending::finish(
            &self.app,
            &self.call,
            decided,
            &self.stop_reason,
            &self.recorder,
        )
        .await
        {
            tracing::error!(%error, call = self.call.id, "could not record how the call ended");
        }
    }

    async fn on_message(&mut self, text: &str) {
        let message = match protocol::parse(text) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "ignored a Voicebot message");
                return;
            }
        };
        match message {
            Inbound::Media(bytes) => {
                let samples = self.start.format.encoding.decode(&bytes);
                self.recorder.caller(&samples);
                for event in self.vad.push(&samples) {
                    match event {
                        VadEvent::SpeechStarted => self.on_speech_started().await,
                        VadEvent::Utterance(samples) => {
                            self.submit(VoiceInput::Speech(samples)).await
                        }
                    }
                }
            }
            Inbound::Dtmf(digit) => {
                self.on_speech_started().await;
                if digit == '#' {
                    self.flush_keypad().await;
                } else {
                    self.dtmf.push(digit);
                    self.dtmf_deadline = Some(Instant::now() + self.app.settings.voice.dtmf_gap);
                }
            }
            Inbound::Mark(name) => {
                if self.awaiting_mark.as_ref().is_some_and(|(m, _)| *m == name) {
                    self.awaiting_mark = None;
                    // Exotel has played everything before the mark: the next reply starts
                    // now, not one frame after audio it no longer holds.
                    if self.playback.is_empty() {
                        self.next_send_at = Instant::now();
                    }
                    self.after_playback();
                }
            }
            Inbound::Stop(reason) => {
                let why = if reason == "callended" {
                    Reason::CallerHungUp
                } else {
                    Reason::Stopped
                };
                self.decide_if_undecided(Outcome::Resolved, why);
                self.stop_reason = reason;
                self.closed = true;
            }
            Inbound::Start(_) | Inbound::Connected | Inbound::Other(_) => {}
        }
    }

    fn speaking(&self) -> bool {
        !self.playback.is_empty() || self.awaiting_mark.is_some()
    }

    /// The caller started talking (or pressed a key): barge-in when the agent is speaking.
    async fn on_speech_started(&mut self) {
        self.quiet_since = None;
        self.prompts = 0;
        if self.speaking() && self.ending.is_none() {
            self.playback.clear();
            self.pending_mark = None;
            self.awaiting_mark = None;
            self.recorder.cut_agent();
            if let Some(turn) = self.turn.as_mut() {
                turn.skip_audio = true;
            }
            let _ = self.out.send(protocol::clear(&self.start.stream_sid)).await;
            // Exotel dropped what it held: nothing is ahead any more.
            self.next_send_at = Instant::now();
        }
    }

    async fn flush_keypad(&mut self) {
        self.dtmf_deadline = None;
        let digits = std::mem::take(&mut self.dtmf);
        if !digits.is_empty() {
            self.submit(VoiceInput::Keypad(digits)).await;
        }
    }

    async fn submit(&mut self, input: VoiceInput) {
        if self.ending.is_some() {
            return;
        }
        if self.turn.is_some() {
            self.queued.push_back(input);
            return;
        }
        self.start_turn(input).await;
    }

    async fn start_turn(&mut self, input: VoiceInput) {
        if matches!(input, VoiceInput::Speech(_)) && self.app.speech.stt.is_none() {
            self.say_phrase(phrases::KEYPAD_ONLY).await;
            return;
        }
        let rate = self.start.format.rate;
        let now = Utc::now();
        // The turn's own writes are live-lane writes: they do not wait for the log flush.
        match voice::start_voice_turn(
            &self.app,
            &self.call,
            input,
            rate,
            self.last_seq.map(|seq| seq + 1),
            now,
        )
        .await
        {
            Ok((turn, start)) => {
                self.last_seq = Some(turn.seq);
                match start {
                    TurnStart::Push(job) => {
                        if let Err(error) = self.app.queue.push(job).await {
                            tracing::warn!(%error, "live push failed; the dispatcher pushes the turn again");
                        }
                    }
                    TurnStart::RunHere(first) => {
                        runner::run_handed_on(&self.app.on_live_lane(), *first);
                    }
                }
                self.turn = Some(InFlight {
                    id: turn.id,
                    seq: turn.seq,
                    next_part: 0,
                    deadline: Instant::now() + self.app.settings.voice.turn_timeout,
                    skip_audio: false,
                });
            }
            Err(error) => {
                tracing::error!(%error, "could not store a voice turn");
                self.hand_off(None, Reason::ProviderFailed).await;
            }
        }
    }

    /// Reads the turn in flight: queues new reply audio, and acts once the turn is done.
    async fn poll_turn(&mut self) {
        let Some(flight) = self.turn.as_ref() else {
            return;
        };
        let (id, from) = (flight.id, flight.next_part);
        // The reply audio first: it is usually why the socket was woken, and the caller hears
        // it before the turn's row is read.
        let parts = turn_audio::reply_parts(&self.app.scratch, id, from)
            .await
            .unwrap_or_default();
        self.play_parts(parts).await;
        let tenant = TenantId(self.call.tenant_id);
        let row = match turns::find_turn(&self.app.live_db, tenant, id).await {
            Ok(row) => row,
            Err(error) => {
                tracing::warn!(%error, "could not read the turn");
                return;
            }
        };
        match row.status.as_str() {
            PENDING => {}
            UNHEARD => self.turn_done().await,
            TIMED_OUT => {
                self.turn = None;
                self.say_phrase(FALLBACK_LINE).await;
                self.hand_off(Some(row.id), Reason::ProviderFailed).await;
            }
            ANSWERED if is_farewell(&row.input) && !row.handoff => {
                self.turn = None;
                self.ending = Some((Outcome::Resolved, Reason::Goodbye));
                self.say_phrase(phrases::GOODBYE).await;
            }
            _ => self.finish_reply(row).await,
        }
    }

    /// Plays the reply part a notice carries, when it is the next one of the turn in flight
    /// (any other is read from scratch).
    async fn play_carried(&mut self, notice: &[u8]) {
        let Some((turn, part, samples)) = turn_audio::carried_reply_part(notice) else {
            return;
        };
        if self
            .turn
            .as_ref()
            .is_some_and(|flight| flight.id == turn && flight.next_part == part)
        {
            self.play_parts(vec![(part, samples)]).await;
        }
    }

    /// Queues reply parts of the turn in flight and sends what is due.
    async fn play_parts(&mut self, parts: Vec<(i32, Vec<i16>)>) {
        let Some(flight) = self.turn.as_mut() else {
            return;
        };
        if parts.is_empty() {
            return;
        }
        for (part, samples) in parts {
            flight.next_part = part + 1;
            flight.deadline = Instant::now() + self.app.settings.voice.turn_timeout;
            if !flight.skip_audio {
                let wire = self.start.format.encoding.encode(&samples);
                self.recorder.agent(&samples);
                self.playback.extend(self.framing.chunks(&wire));
            }
        }
        if !flight.skip_audio {
            self.send_due().await;
        }
    }

    /// After the turn's row is read: the parts stored since the audio was read, then, once the
    /// whole reply is queued, its mark and what follows it (a handoff, a callback, the next
    /// turn).
    async fn finish_reply(&mut self, row: caly_entities::turn::Model) {
        let Some(flight) = self.turn.as_ref() else {
            return;
        };
        if row.reply_parts.is_some_and(|n| flight.next_part < n) {
            let parts = turn_audio::reply_parts(&self.app.scratch, row.id, flight.next_part)
                .await
                .unwrap_or_default();
            self.play_parts(parts).await;
        }
        let Some(flight) = self.turn.as_ref() else {
            return;
        };
        let skip = flight.skip_audio;
        let seq = flight.seq;
        let complete = row.reply_parts.is_some_and(|n| flight.next_part >= n);
        if !complete {
            return;
        }
        if !skip {
            self.queue_mark(format!("turn-{seq}")).await;
        }
        if row.handoff {
            let reason = match row.intent.as_deref() {
                Some("complaint") => Reason::Complaint,
                Some("handoff") => Reason::CallerAsked,
                _ if row.error.is_some() => Reason::ProviderFailed,
                _ => Reason::Misunderstood,
            };
            self.turn = None;
            self.hand_off(Some(row.id), reason).await;
            return;
        }
        if ending::took_callback(&self.app, row.id)
            .await
            .unwrap_or(false)
        {
            self.ending = Some((Outcome::Callback, Reason::CallerAsked));
        }
        self.turn_done().await;
    }

    async fn turn_done(&mut self) {
        self.turn = None;
        if !self.speaking() {
            self.quiet_since = Some(Instant::now());
        }
        // A call that is ending takes no more turns.
        if self.ending.is_none()
            && let Some(next) = self.queued.pop_front()
        {
            self.start_turn(next).await;
        }
    }

    /// Decides a handoff (a callback outside support hours) and says so before closing.
    async fn hand_off(&mut self, turn: Option<i64>, reason: Reason) {
        if self.ending.is_some() {
            return;
        }
        let open = self.open_now() || turn.is_none();
        let outcome =
            ending::handoff_or_callback(&self.app, &self.call, turn, reason, open, Utc::now())
                .await
                .unwrap_or(Outcome::HandedOff);
        self.ending = Some((outcome, reason));
        // Record it now: the Passthru that follows the socket must see it.
        let _ = voice::record_outcome(
            &self.app.db,
            TenantId(self.call.tenant_id),
            caly_jobs::CallId(self.call.id),
            outcome,
            reason,
        )
        .await;
        if !self.speaking() {
            self.closed = true;
        }
    }

    fn decide_if_undecided(&mut self, outcome: Outcome, reason: Reason) {
        if self.ending.is_none() {
            self.ending = Some((outcome, reason));
        }
    }

    /// Says a cached phrase, then a mark.
    async fn say_phrase(&mut self, text: &str) {
        let Some(tts) = self.app.speech.tts.clone() else {
            return;
        };
        let rate = self.start.format.rate;
        match self
            .app
            .phrases
            .get(tts.as_ref(), &self.app.store, text, rate)
            .await
        {
            Ok(samples) => {
                let wire = self.start.format.encoding.encode(&samples);
                self.recorder.agent(&samples);
                self.playback.extend(self.framing.chunks(&wire));
                self.send_due().await;
                self.marks += 1;
                let name = format!("say-{}", self.marks);
                self.queue_mark(name).await;
            }
            Err(error) => {
                tracing::warn!(%error, "a phrase could not be spoken");
                if self.ending.is_none() {
                    self.hand_off(None, Reason::ProviderFailed).await;
                }
            }
        }
    }

    async fn queue_mark(&mut self, name: String) {
        self.pending_mark = Some(name);
        self.send_due().await;
    }

    /// Sends the chunks that are due: real-time pacing, one chunk ahead.
    async fn send_due(&mut self) {
        let now = Instant::now();
        if self.next_send_at < now {
            self.next_send_at = now;
        }
        while !self.playback.is_empty() && self.next_send_at <= now + self.framing.chunk_duration {
            let chunk = self.playback.pop_front().expect("not empty");
            let message = protocol::media(&self.start.stream_sid, &chunk);
            if self.out.send(message).await.is_err() {
                self.closed = true;
                return;
            }
            self.next_send_at += self.framing.chunk_duration;
        }
        if self.playback.is_empty()
            && let Some(name) = self.pending_mark.take()
        {
            let _ = self
                .out
                .send(protocol::mark(&self.start.stream_sid, &name))
                .await;
            // If Exotel never echoes it, count it as played a little after the audio ends.
            let fallback = self.next_send_at + Duration::from_secs(2);
            self.awaiting_mark = Some((name, fallback));
        }
    }

    fn after_playback(&mut self) {
        if self.speaking() {
            return;
        }
        if self.ending.is_some() && self.turn.is_none() {
            self.closed = true;
            return;
        }
        if self.turn.is_none() {
            self.quiet_since = Some(Instant::now());
        }
    }

    async fn on_tick(&mut self) {
        self.send_due().await;
        let now = Instant::now();
        if let Some((_, by)) = &self.awaiting_mark
            && now >= *by
        {
            self.awaiting_mark = None;
            self.after_playback();
        }
        if self.dtmf_deadline.is_some_and(|d| now >= d) {
            self.flush_keypad().await;
        }
        if let Some(flight) = &self.turn {
            if now >= flight.deadline {
                let (id, tenant) = (flight.id, TenantId(self.call.tenant_id));
                let why = "the agent did not answer in time";
                match turns::fail_turn(&self.app.live_db, tenant, id, why, Utc::now()).await {
                    Ok(row) if row.status == TIMED_OUT => self.poll_turn().await,
                    // Answered, but its speech never finished: the fallback, then a person.
                    _ => {
                        self.turn = None;
                        self.say_phrase(FALLBACK_LINE).await;
                        self.hand_off(Some(id), Reason::ProviderFailed).await;
                    }
                }
            } else if self.waiter.is_none() {
                self.poll_turn().await;
            }
        }
        self.check_silence(now).await;
    }

    async fn check_silence(&mut self, now: Instant) {
        let idle = self.turn.is_none()
            && !self.speaking()
            && self.ending.is_none()
            && !self.vad.is_speaking()
            && self.dtmf.is_empty();
        let Some(since) = self.quiet_since.filter(|_| idle) else {
            return;
        };
        if now.duration_since(since) < self.app.settings.voice.silence_prompt {
            return;
        }
        self.quiet_since = None;
        if self.prompts < self.app.settings.voice.silence_prompts {
            self.prompts += 1;
            self.say_phrase(phrases::STILL_THERE).await;
        } else {
            self.ending = Some((Outcome::Resolved, Reason::CallerSilent));
            self.say_phrase(phrases::GOODBYE_SILENT).await;
        }
    }
}

/// Waits for a hand-back notice; without a subscription, the tick polls instead.
async fn wait_notice(waiter: Option<&mut Waiter>) -> Woken {
    match waiter {
        Some(waiter) => waiter.wait(Duration::from_secs(1)).await,
        None => std::future::pending().await,
    }
}
