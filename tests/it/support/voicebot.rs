//! Exotel's side of the Voicebot socket, for tests: connects like the applet (secret in the
//! path, or Basic auth), sends `connected`/`start`/`media`/`dtmf`/`mark`/`stop` in either key
//! spelling and either encoding, and collects what Caly sends back with arrival times. Also
//! scripted speech engines: a transcriber that returns what the test says the caller said,
//! optionally slowly.

use async_trait::async_trait;
use base64::Engine;
use caly_core::integrations::speech::{Audio, Encoding, Espeak, SpeechError, SpeechToText};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A transcriber that hears, in order, the texts it was given (and then nothing).
pub struct ScriptedEars {
    heard: Mutex<VecDeque<String>>,
    delay: Duration,
}

impl ScriptedEars {
    /// Hears `texts` in order, each after `delay`.
    pub fn new(texts: &[&str], delay: Duration) -> Self {
        ScriptedEars {
            heard: Mutex::new(texts.iter().map(|t| t.to_string()).collect()),
            delay,
        }
    }
}

#[async_trait]
impl SpeechToText for ScriptedEars {
    fn name(&self) -> String {
        "scripted".into()
    }

    async fn transcribe(&self, audio: &Audio) -> Result<String, SpeechError> {
        assert!(audio.duration_ms() > 200, "an utterance, not a click");
        tokio::time::sleep(self.delay).await;
        Ok(self.heard.lock().unwrap().pop_front().unwrap_or_default())
    }
}

/// Speech-to-text that hears the same words in every piece of speech (the post-call
/// transcript's tests look at speakers, times and redaction, not at recognition).
pub struct SameWords(pub &'static str);

#[async_trait]
impl SpeechToText for SameWords {
    fn name(&self) -> String {
        "same-words".into()
    }

    async fn transcribe(&self, _audio: &Audio) -> Result<String, SpeechError> {
        Ok(self.0.to_string())
    }
}

/// `text` spoken by espeak-ng at `rate`, as a phone line would carry it.
pub async fn spoken(text: &str, rate: u32) -> Vec<i16> {
    Espeak::default()
        .speak_native(text)
        .await
        .expect("espeak-ng is installed by scripts/test.sh")
        .resampled(rate)
        .samples
}

/// One message from Caly with when it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// The JSON.
    pub message: Value,
    /// Arrival.
    pub at: Instant,
}

impl Received {
    /// The event name.
    pub fn event(&self) -> &str {
        self.message["event"].as_str().unwrap_or_default()
    }

    /// Decoded media payload bytes.
    pub fn payload(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(self.message["media"]["payload"].as_str().unwrap())
            .unwrap()
    }
}

/// Exotel's end of one call.
pub struct FakeVoicebot {
    socket: Socket,
    /// The stream id it announced.
    pub stream_sid: String,
    /// The encoding it announced.
    pub encoding: Encoding,
    /// Its sample rate.
    pub rate: u32,
    camel: bool,
}

impl FakeVoicebot {
    /// Connects to `url` (http(s) base already turned into ws), optionally with Basic auth.
    pub async fn connect(url: &str, basic: Option<(&str, &str)>) -> FakeVoicebot {
        let mut request = url.into_client_request().unwrap();
        if let Some((user, secret)) = basic {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
            request
                .headers_mut()
                .insert("Authorization", format!("Basic {token}").parse().unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("socket");
        FakeVoicebot {
            socket,
            stream_sid: String::new(),
            encoding: Encoding::Pcm16,
            rate: 8000,
            camel: false,
        }
    }

    async fn send(&mut self, value: Value) {
        self.socket
            .send(Message::Text(value.to_string().into()))
            .await
            .unwrap();
    }

    fn sid_key(&self) -> &'static str {
        if self.camel {
            "streamSid"
        } else {
            "stream_sid"
        }
    }

    /// `connected` then `start` for `call_sid` from `from`, in the docs' spelling (snake case,
    /// strings) or the samples' (camelCase, numbers).
    pub async fn start(
        &mut self,
        call_sid: &str,
        from: &str,
        encoding: Encoding,
        rate: u32,
        camel: bool,
    ) {
        self.stream_sid = format!("MZ{}", &call_sid[..8.min(call_sid.len())]);
        self.encoding = encoding;
        self.rate = rate;
        self.camel = camel;
        self.send(json!({"event": "connected"})).await;
        let name = match encoding {
            Encoding::Pcm16 => "audio/x-raw",
            Encoding::Mulaw => "audio/x-mulaw",
        };
        let start = if camel {
            json!({"event": "start", "sequence_number": 1, "streamSid": self.stream_sid,
                "start": {"callSid": call_sid, "accountSid": "acme1", "from": from,
                    "to": "+918047491899", "mediaFormat": {"encoding": name, "sampleRate": rate}}})
        } else {
            json!({"event": "start", "sequence_number": "1", "stream_sid": self.stream_sid,
                "start": {"stream_sid": self.stream_sid, "call_sid": call_sid,
                    "account_sid": "acme1", "from": from, "to": "+918047491899",
                    "media_format": {"encoding": name, "sample_rate": rate.to_string(),
                        "bit_rate": "16"}}})
        };
        self.send(start).await;
    }

    /// Sends caller audio in 100 ms media frames (as fast as it can; Caly assumes nothing about
    /// timing or frame size).
    pub async fn say(&mut self, samples: &[i16]) {
        let frame = (self.rate / 10) as usize;
        for (i, chunk) in samples.chunks(frame).enumerate() {
            let payload =
                base64::engine::general_purpose::STANDARD.encode(self.encoding.encode(chunk));
            let key = self.sid_key();
            self.send(json!({"event": "media", key: self.stream_sid,
                "media": {"chunk": i + 1, "timestamp": (i * 100).to_string(), "payload": payload}}))
                .await;
        }
    }

    /// Speech followed by a second of silence (the pause that ends an utterance).
    pub async fn utter(&mut self, text: &str) {
        let mut samples = spoken(text, self.rate).await;
        samples.extend(vec![0i16; self.rate as usize]);
        self.say(&samples).await;
    }

    /// A keypad digit.
    pub async fn dtmf(&mut self, digit: char) {
        let key = self.sid_key();
        self.send(json!({"event": "dtmf", key: self.stream_sid,
            "dtmf": {"digit": digit.to_string(), "duration": "100"}}))
            .await;
    }

    /// Echoes a mark (Exotel does when the audio before it has played).
    pub async fn echo_mark(&mut self, name: &str) {
        let key = self.sid_key();
        self.send(json!({"event": "mark", key: self.stream_sid, "mark": {"name": name}}))
            .await;
    }

    /// `stop` with `reason` (`callended` or `stopped`).
    pub async fn stop(&mut self, reason: &str) {
        let key = self.sid_key();
        self.send(json!({"event": "stop", key: self.stream_sid,
            "stop": {"call_sid": "x", "account_sid": "acme1", "reason": reason}}))
            .await;
    }

    /// The next message, or `None` when the socket closed or `wait` passed.
    pub async fn next(&mut self, wait: Duration) -> Option<Received> {
        loop {
            match tokio::time::timeout(wait, self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Some(Received {
                        message: serde_json::from_str(&text).unwrap(),
                        at: Instant::now(),
                    });
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => {
                    return None;
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Everything up to and including the next mark (panics after `wait` without one).
    pub async fn until_mark(&mut self, wait: Duration) -> Vec<Received> {
        let mut got = Vec::new();
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .next(left)
                .await
                .unwrap_or_else(|| panic!("no mark within {wait:?}; got {} messages", got.len()));
            let is_mark = message.event() == "mark";
            got.push(message);
            if is_mark {
                return got;
            }
        }
    }

    /// Sends any text message; false once the socket is closed.
    pub async fn send_text(&mut self, text: String) -> bool {
        self.socket.send(Message::Text(text.into())).await.is_ok()
    }

    /// Whether Caly closes the socket within `wait` (anything it sends meanwhile is skipped).
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) => return false,
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Reads until the socket closes; returns what came before.
    pub async fn until_closed(&mut self, wait: Duration) -> Vec<Received> {
        let mut got = Vec::new();
        while let Some(message) = self.next(wait).await {
            got.push(message);
        }
        got
    }
}

/// The offline engines as a deployment detects them: the local Whisper model that
/// `scripts/test.sh` installs (`CALY_TEST_WHISPER_MODEL`) and espeak-ng. Fails, saying what is
/// missing, when this build has no Whisper (`--features whisper`) or the model is not there.
pub async fn offline_speech() -> caly_core::integrations::speech::Speech {
    use caly_core::integrations::speech::{Speech, SpeechEngine, SpeechSettings};
    let model = std::env::var("CALY_TEST_WHISPER_MODEL").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/caly-tools/whisper-tiny.en")
    });
    let settings = SpeechSettings {
        engine: SpeechEngine::Offline,
        whisper_model: model.into(),
        ..SpeechSettings::default()
    };
    let speech = Speech::detect(&settings, None, &super::loopback_egress()).await;
    assert!(
        speech.is_complete(),
        "the offline engines are missing (bash scripts/test.sh builds with --features whisper \
         and installs the model):\n{}",
        speech.report()
    );
    speech
}
