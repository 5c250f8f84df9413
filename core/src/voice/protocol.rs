//! Exotel's Voicebot websocket messages (specs/exotel.md (e)). Inbound: `connected`, `start`,
//! `media`, `dtmf`, `mark`, `stop`; `stream_sid` or `streamSid`, at the top or inside `start`;
//! numbers as strings or numbers; the encoding and rate from `start.media_format` (PCM16 when
//! absent). Outbound: `media`, `mark` and `clear`, with both spellings of the stream id.

use crate::integrations::speech::Encoding;
use base64::Engine;
use serde_json::{Value, json};

/// How the call's audio is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaFormat {
    /// PCM16 or μ-law.
    pub encoding: Encoding,
    /// 8,000, 16,000 or 24,000 samples a second.
    pub rate: u32,
}

impl Default for MediaFormat {
    fn default() -> Self {
        MediaFormat {
            encoding: Encoding::Pcm16,
            rate: 8000,
        }
    }
}

impl MediaFormat {
    /// Bytes of one second of audio on the wire.
    pub fn bytes_per_second(&self) -> usize {
        self.rate as usize * self.encoding.bytes_per_sample()
    }
}

/// The `start` event's facts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Start {
    /// Stream id (echoed on every outbound message).
    pub stream_sid: String,
    /// Exotel's CallSid.
    pub call_sid: String,
    /// The Exotel account the call belongs to.
    pub account_sid: String,
    /// The caller, as sent.
    pub from: Option<String>,
    /// The number dialled, as sent.
    pub to: Option<String>,
    /// The audio format.
    pub format: MediaFormat,
}

/// One inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// The socket is up.
    Connected,
    /// The stream starts.
    Start(Start),
    /// Caller audio (wire bytes, already base64-decoded).
    Media(Vec<u8>),
    /// A keypad digit.
    Dtmf(char),
    /// Exotel finished playing the audio sent before this mark.
    Mark(String),
    /// The stream ends: `stopped` (the applet ended) or `callended` (the caller hung up).
    Stop(String),
    /// An event Caly does not act on.
    Other(String),
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable Voicebot message: {0}")]
pub struct ProtocolError(pub String);

/// A field as text whether it came as a string or a number.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn either<'a>(object: &'a Value, snake: &str, camel: &str) -> Option<&'a Value> {
    object.get(snake).or_else(|| object.get(camel))
}

/// The encoding named by `media_format.encoding` (PCM16 when absent or unknown-but-raw).
pub fn parse_encoding(name: Option<&str>) -> Result<Encoding, ProtocolError> {
    let Some(name) = name.map(|n| n.trim().to_ascii_lowercase()) else {
        return Ok(Encoding::Pcm16);
    };
    let base = name.split(';').next().unwrap_or_default().trim();
    match base {
        "" | "audio/x-raw" | "raw" | "pcm" | "pcm16" | "slin" | "linear16" | "audio/l16"
        | "audio/pcm" | "s16le" => Ok(Encoding::Pcm16),
        "audio/x-mulaw" | "mulaw" | "ulaw" | "audio/mulaw" | "audio/basic" | "pcmu"
        | "audio/pcmu" | "g711_ulaw" => Ok(Encoding::Mulaw),
        other => Err(ProtocolError(format!(
            "encoding '{other}' is not PCM16 or μ-law"
        ))),
    }
}

fn parse_rate(value: Option<String>, encoding_name: Option<&str>) -> Result<u32, ProtocolError> {
    // `audio/x-mulaw;rate=8000` carries the rate in the encoding.
    let from_name = encoding_name.and_then(|n| {
        n.split(';')
            .filter_map(|p| p.trim().strip_prefix("rate="))
            .next()
            .map(str::to_string)
    });
    let Some(raw) = value.or(from_name) else {
        return Ok(8000);
    };
    match raw.trim().parse::<u32>() {
        Ok(rate @ (8000 | 16000 | 24000)) => Ok(rate),
        // Some samples give kHz.
        Ok(khz @ (8 | 16 | 24)) => Ok(khz * 1000),
        _ => Err(ProtocolError(format!(
            "sample rate '{raw}' is not 8000, 16000 or 24000"
        ))),
    }
}

fn parse_start(message: &Value) -> Result<Start, ProtocolError> {
    let start = message.get("start").unwrap_or(&Value::Null);
    let stream_sid = text(either(message, "stream_sid", "streamSid"))
        .or_else(|| text(either(start, "stream_sid", "streamSid")))
        .ok_or_else(|| ProtocolError("start carries no stream_sid".into()))?;
    let call_sid = text(either(start, "call_sid", "callSid"))
        .or_else(|| text(either(message, "call_sid", "callSid")))
        .ok_or_else(|| ProtocolError("start carries no call_sid".into()))?;
    let account_sid = text(either(start, "account_sid", "accountSid"))
        .or_else(|| text(either(message, "account_sid", "accountSid")))
        .unwrap_or_default();
    let format = either(start, "media_format", "mediaFormat").unwrap_or(&Value::Null);
    let encoding_name = text(format.get("encoding"));
    let encoding = parse_encoding(encoding_name.as_deref())?;
    let rate = parse_rate(
        text(either(format, "sample_rate", "sampleRate")),
        encoding_name.as_deref(),
    )?;
    Ok(Start {
        stream_sid,
        call_sid,
        account_sid,
        from: text(start.get("from")),
        to: text(start.get("to")),
        format: MediaFormat { encoding, rate },
    })
}

/// Reads one text message.
pub fn parse(message: &str) -> Result<Inbound, ProtocolError> {
    let value: Value =
        serde_json::from_str(message).map_err(|e| ProtocolError(format!("not JSON: {e}")))?;
    let event = text(value.get("event")).ok_or_else(|| ProtocolError("no event".into()))?;
    match event.as_str() {
        "connected" => Ok(Inbound::Connected),
        "start" => Ok(Inbound::Start(parse_start(&value)?)),
        "media" => {
            let payload = value
                .get("media")
                .and_then(|m| m.get("payload"))
                .and_then(Value::as_str)
                .ok_or_else(|| ProtocolError("media carries no payload".into()))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(payload.trim())
                .map_err(|e| ProtocolError(format!("media payload is not base64: {e}")))?;
            Ok(Inbound::Media(bytes))
        }
        "dtmf" => {
            let digit = text(value.get("dtmf").and_then(|d| d.get("digit")))
                .and_then(|d| d.chars().next())
                .filter(|c| c.is_ascii_digit() || *c == '*' || *c == '#')
                .ok_or_else(|| ProtocolError("dtmf carries no digit".into()))?;
            Ok(Inbound::Dtmf(digit))
        }
        "mark" => Ok(Inbound::Mark(
            text(value.get("mark").and_then(|m| m.get("name"))).unwrap_or_default(),
        )),
        "stop" => Ok(Inbound::Stop(
            text(value.get("stop").and_then(|s| s.get("reason")))
                .unwrap_or_else(|| "stopped".into()),
        )),
        other => Ok(Inbound::Other(other.to_string())),
    }
}

/// An outbound `media` message carrying `bytes` of wire audio.
pub fn media(stream_sid: &str, bytes: &[u8]) -> String {
    let payload = base64::engine::general_purpose::STANDARD.encode(bytes);
    json!({"event": "media", "stream_sid": stream_sid, "streamSid": stream_sid,
        "media": {"payload": payload}})
    .to_string()
}

/// An outbound `mark`: Exotel echoes it when the audio sent before it has played.
pub fn mark(stream_sid: &str, name: &str) -> String {
    json!({"event": "mark", "stream_sid": stream_sid, "streamSid": stream_sid,
        "mark": {"name": name}})
    .to_string()
}

/// An outbound `clear`: drop the audio queued at Exotel (barge-in).
pub fn clear(stream_sid: &str) -> String {
    json!({"event": "clear", "stream_sid": stream_sid, "streamSid": stream_sid}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_reads_both_spellings_and_numbers() {
        let docs = r#"{"event":"start","sequence_number":"1","stream_sid":"MZ1",
          "start":{"stream_sid":"MZ1","call_sid":"CA1","account_sid":"acme1","from":"+919876543210",
          "to":"+918047491899","custom_parameters":{"tenant":"t42"},
          "media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}}"#;
        let Inbound::Start(start) = parse(docs).unwrap() else {
            panic!("a start")
        };
        assert_eq!(start.stream_sid, "MZ1");
        assert_eq!(start.call_sid, "CA1");
        assert_eq!(start.account_sid, "acme1");
        assert_eq!(start.format, MediaFormat::default());

        let camel = r#"{"event":"start","sequence_number":1,"streamSid":"MZ2",
          "start":{"callSid":"CA2","accountSid":"acme1",
          "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":16000}}}"#;
        let Inbound::Start(start) = parse(camel).unwrap() else {
            panic!("a start")
        };
        assert_eq!(start.stream_sid, "MZ2");
        assert_eq!(start.format.encoding, Encoding::Mulaw);
        assert_eq!(start.format.rate, 16000);

        // The older sample: no top-level stream id, no media format.
        let older = r#"{"event":"start","start":{"stream_sid":"MZ3","call_sid":"CA3"}}"#;
        let Inbound::Start(start) = parse(older).unwrap() else {
            panic!("a start")
        };
        assert_eq!(start.stream_sid, "MZ3");
        assert_eq!(start.format, MediaFormat::default());

        let odd = r#"{"event":"start","stream_sid":"MZ4","start":{"call_sid":"CA4",
          "media_format":{"encoding":"audio/x-raw","sample_rate":"44100"}}}"#;
        assert!(parse(odd).unwrap_err().0.contains("44100"));
        let mulaw_in_name = r#"{"event":"start","stream_sid":"MZ5","start":{"call_sid":"CA5",
          "media_format":{"encoding":"audio/x-mulaw;rate=8000"}}}"#;
        let Inbound::Start(start) = parse(mulaw_in_name).unwrap() else {
            panic!("a start")
        };
        assert_eq!(start.format.encoding, Encoding::Mulaw);
    }

    #[test]
    fn other_events_are_read() {
        let media = r#"{"event":"media","sequence_number":3,"stream_sid":"MZ1",
          "media":{"chunk":2,"timestamp":"200","payload":"AAEC"}}"#;
        assert_eq!(parse(media).unwrap(), Inbound::Media(vec![0, 1, 2]));
        let dtmf = r#"{"event":"dtmf","streamSid":"MZ1","dtmf":{"digit":5,"duration":"100"}}"#;
        assert_eq!(parse(dtmf).unwrap(), Inbound::Dtmf('5'));
        let mark = r#"{"event":"mark","stream_sid":"MZ1","mark":{"name":"turn-3-end"}}"#;
        assert_eq!(parse(mark).unwrap(), Inbound::Mark("turn-3-end".into()));
        let stop = r#"{"event":"stop","stop":{"call_sid":"CA1","reason":"callended"}}"#;
        assert_eq!(parse(stop).unwrap(), Inbound::Stop("callended".into()));
        assert_eq!(
            parse(r#"{"event":"connected"}"#).unwrap(),
            Inbound::Connected
        );
        assert!(parse("not json").is_err());
        assert!(parse(r#"{"event":"media","media":{"payload":"%%%"}}"#).is_err());
    }

    #[test]
    fn outbound_messages_carry_both_spellings() {
        let m: Value = serde_json::from_str(&media("MZ1", &[0, 1, 2])).unwrap();
        assert_eq!(m["stream_sid"], "MZ1");
        assert_eq!(m["streamSid"], "MZ1");
        assert_eq!(m["media"]["payload"], "AAEC");
        let c: Value = serde_json::from_str(&clear("MZ1")).unwrap();
        assert_eq!(c["event"], "clear");
        let k: Value = serde_json::from_str(&mark("MZ1", "reply-1")).unwrap();
        assert_eq!(k["mark"]["name"], "reply-1");
    }
}
