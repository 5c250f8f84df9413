//! A Voicebot-side client: speaks Exotel's Voicebot protocol to Caly's socket as the applet
//! would (`connected`, `start`, 100 ms `media` frames, echoed `mark`s, `stop`), and collects
//! what Caly plays back. Used by `caly simulate --voice` and `caly bench turn`.

use anyhow::Context;
use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One connected Voicebot stream (PCM16).
pub struct VoiceClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    stream_sid: String,
    rate: u32,
    chunk: u64,
}

/// What Caly played until it sent a mark (or closed the socket).
#[derive(Debug, Default)]
pub struct Played {
    /// The audio, PCM16 at the stream's rate.
    pub audio: Vec<i16>,
    /// When its first frame arrived.
    pub first_audio: Option<Instant>,
    /// The mark that ended it.
    pub mark: Option<String>,
    /// True when Caly closed the socket.
    pub closed: bool,
    /// `clear` messages seen.
    pub clears: usize,
}

impl VoiceClient {
    /// Connects to a Voicebot socket URL (`ws://…/voice/exotel/{tenant}/{secret}`).
    pub async fn connect(url: &str) -> anyhow::Result<VoiceClient> {
        // Nagle off, as a telephony platform's media socket would have it: the frame that ends
        // an utterance goes at once, not after the previous frame's acknowledgement.
        let (socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        Ok(VoiceClient {
            socket,
            stream_sid: String::new(),
            rate: 8000,
            chunk: 0,
        })
    }

    async fn send(&mut self, value: Value) -> anyhow::Result<()> {
        self.socket.send(Message::text(value.to_string())).await?;
        Ok(())
    }

    /// `connected` then `start` for a call from `from`, PCM16 at `rate`.
    pub async fn start(
        &mut self,
        call_sid: &str,
        account_sid: &str,
        from: &str,
        rate: u32,
    ) -> anyhow::Result<()> {
        self.rate = rate;
        self.stream_sid = format!("MZ{call_sid}");
        self.send(json!({"event": "connected"})).await?;
        let sid = self.stream_sid.clone();
        self.send(
            json!({"event": "start", "sequence_number": "1", "stream_sid": sid,
            "start": {"stream_sid": sid, "call_sid": call_sid, "account_sid": account_sid,
                "from": from, "to": "+918047491899", "custom_parameters": {},
                "media_format": {"encoding": "audio/x-raw", "sample_rate": rate.to_string(),
                    "bit_rate": "16"}}}),
        )
        .await
    }

    /// Sends caller audio as 100 ms `media` frames, as fast as the socket takes them.
    pub async fn send_audio(&mut self, samples: &[i16]) -> anyhow::Result<()> {
        let frame = (self.rate / 10).max(1) as usize;
        for piece in samples.chunks(frame) {
            self.chunk += 1;
            let bytes: Vec<u8> = piece.iter().flat_map(|s| s.to_le_bytes()).collect();
            let payload = base64::engine::general_purpose::STANDARD.encode(bytes);
            let (sid, chunk) = (self.stream_sid.clone(), self.chunk);
            self.send(json!({"event": "media", "stream_sid": sid, "media": {
                "chunk": chunk.to_string(), "timestamp": (chunk * 100).to_string(),
                "payload": payload}}))
                .await?;
        }
        Ok(())
    }

    /// Sends caller audio in real time (one 100 ms frame every 100 ms), as a phone line does.
    /// Returns false when Caly closed the socket meanwhile (a handoff ends the bot's leg).
    pub async fn speak_in_real_time(&mut self, samples: &[i16]) -> anyhow::Result<bool> {
        let frame = (self.rate / 10).max(1) as usize;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        for piece in samples.chunks(frame) {
            tick.tick().await;
            if self.send_audio(piece).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A keypad digit.
    pub async fn dtmf(&mut self, digit: char) -> anyhow::Result<()> {
        let sid = self.stream_sid.clone();
        self.send(json!({"event": "dtmf", "stream_sid": sid,
            "dtmf": {"digit": digit.to_string(), "duration": "100"}}))
            .await
    }

    /// Echoes a mark: the audio before it has played.
    pub async fn echo_mark(&mut self, name: &str) -> anyhow::Result<()> {
        let sid = self.stream_sid.clone();
        self.send(json!({"event": "mark", "stream_sid": sid, "mark": {"name": name}}))
            .await
    }

    /// `stop` with `reason` (`callended` or `stopped`).
    pub async fn stop(&mut self, reason: &str) -> anyhow::Result<()> {
        let sid = self.stream_sid.clone();
        self.send(json!({"event": "stop", "stream_sid": sid,
            "stop": {"reason": reason}}))
            .await
    }

    /// Collects what Caly plays until its next mark, the socket closes, or `wait` passes.
    pub async fn until_mark(&mut self, wait: Duration) -> anyhow::Result<Played> {
        self.listen(wait, false).await
    }

    /// As [`VoiceClient::until_mark`], while the line carries silence in real time (100 ms
    /// frames), as a phone line does after the caller stops talking.
    pub async fn until_mark_on_a_quiet_line(&mut self, wait: Duration) -> anyhow::Result<Played> {
        self.listen(wait, true).await
    }

    async fn listen(&mut self, wait: Duration, quiet_line: bool) -> anyhow::Result<Played> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut played = Played::default();
        let frame = Duration::from_millis(100);
        let mut next_frame = tokio::time::Instant::now() + frame;
        loop {
            let until = if quiet_line {
                next_frame.min(deadline)
            } else {
                deadline
            };
            let next = tokio::time::timeout_at(until, self.socket.next()).await;
            if next.is_err() && quiet_line && until < deadline {
                let silence = vec![0i16; (self.rate / 10).max(1) as usize];
                if self.send_audio(&silence).await.is_err() {
                    // Caly closed the socket: the call is over for the bot.
                    played.closed = true;
                    return Ok(played);
                }
                next_frame += frame;
                continue;
            }
            let message = match next {
                Err(_) => return Ok(played),
                Ok(None) | Ok(Some(Err(_))) => {
                    played.closed = true;
                    return Ok(played);
                }
                Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<Value>(&text)?,
                Ok(Some(Ok(Message::Close(_)))) => {
                    played.closed = true;
                    return Ok(played);
                }
                Ok(Some(Ok(_))) => continue,
            };
            match message["event"].as_str() {
                Some("media") => {
                    played.first_audio.get_or_insert_with(Instant::now);
                    let payload = message["media"]["payload"].as_str().unwrap_or_default();
                    let bytes = base64::engine::general_purpose::STANDARD.decode(payload)?;
                    played.audio.extend(
                        bytes
                            .chunks_exact(2)
                            .map(|b| i16::from_le_bytes([b[0], b[1]])),
                    );
                }
                Some("mark") => {
                    played.mark = message["mark"]["name"].as_str().map(String::from);
                    return Ok(played);
                }
                Some("clear") => played.clears += 1,
                _ => {}
            }
        }
    }
}

/// A steady tone at `rate`: a stand-in for speech that any voice-activity detector hears.
pub fn tone(ms: u32, rate: u32) -> Vec<i16> {
    (0..(ms * rate / 1000))
        .map(|i| if (i / 4) % 2 == 0 { 4000 } else { -4000 })
        .collect()
}
