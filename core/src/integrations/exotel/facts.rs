//! What one Exotel event says about its call: state, durations, recording, parties.

use super::EventFields;
use crate::CallState;
use crate::calls::state::never_missed_if_bot_answered;
use serde::{Deserialize, Serialize};

/// Which Exotel webhook delivered an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookKind {
    /// A Passthru applet call (GET query, form or JSON).
    Passthru,
    /// A StatusCallback from the Calls API (JSON or form).
    StatusCallback,
    /// Fetched by Caly from the Call Details API (reconciliation).
    CallDetails,
    /// The Voicebot socket's `start` event: the bot took the call, which is in progress.
    Voicebot,
}

impl HookKind {
    /// Stable name stored on raw events.
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Passthru => "passthru",
            HookKind::StatusCallback => "status_callback",
            HookKind::CallDetails => "call_details",
            HookKind::Voicebot => "voicebot",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            HookKind::Passthru,
            HookKind::StatusCallback,
            HookKind::CallDetails,
            HookKind::Voicebot,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Where a call's billable seconds came from, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationSource {
    /// `ConversationDuration` (both legs connected).
    ConversationDuration,
    /// `Stream[Duration]` (the voicebot's conversation).
    StreamDuration,
    /// The caller leg's `OnCallDuration`.
    CallerLegOnCall,
    /// `DialCallDuration` (the dialled leg).
    DialCallDuration,
}

impl DurationSource {
    /// Stable name stored on calls and charges.
    pub fn as_str(self) -> &'static str {
        match self {
            DurationSource::ConversationDuration => "conversation_duration",
            DurationSource::StreamDuration => "stream_duration",
            DurationSource::CallerLegOnCall => "caller_leg_on_call",
            DurationSource::DialCallDuration => "dial_call_duration",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            DurationSource::ConversationDuration,
            DurationSource::StreamDuration,
            DurationSource::CallerLegOnCall,
            DurationSource::DialCallDuration,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// The facts one event carries, already interpreted (raw strings kept where they are odd).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFacts {
    /// Caller number as sent.
    pub from_raw: Option<String>,
    /// Dialled number as sent.
    pub to_raw: Option<String>,
    /// `incoming`, `outbound-dial`, `outbound-api`, ...
    pub direction: Option<String>,
    /// The state this event implies, if any.
    pub state: Option<CallState>,
    /// True when the voicebot took the call (stream completed or had a duration).
    pub bot_answered: bool,
    /// Best billable duration this event offers, with its source.
    pub duration: Option<(i64, DurationSource)>,
    /// Recording URL, preferring the call recording over the stream recording.
    pub recording_url: Option<String>,
    /// Start time as sent (IST text).
    pub start_time_raw: Option<String>,
    /// End time as sent (IST text).
    pub end_time_raw: Option<String>,
    /// The number the Connect applet dialled (`DialWhomNumber`), as sent.
    pub dialed_raw: Option<String>,
}

impl CallFacts {
    /// Interprets an event's fields.
    pub fn from_fields(kind: HookKind, f: &EventFields) -> Self {
        let stream_duration = f.stream_value("Duration").and_then(parse_seconds);
        let bot_answered = f
            .stream_value("Status")
            .is_some_and(|s| s.eq_ignore_ascii_case("completed"))
            || stream_duration.is_some_and(|d| d > 0)
            || kind == HookKind::Voicebot;
        CallFacts {
            from_raw: f.get(&["CallFrom", "From"]).map(str::to_string),
            to_raw: f
                .get(&["CallTo", "To", "PhoneNumberSid"])
                .map(str::to_string),
            direction: f.get(&["Direction"]).map(str::to_string),
            state: event_state(kind, f, bot_answered),
            bot_answered,
            duration: best_duration(f, stream_duration),
            recording_url: f
                .get(&["RecordingUrl"])
                .or_else(|| f.stream_value("RecordingUrl"))
                .filter(|u| !u.eq_ignore_ascii_case("null"))
                .map(str::to_string),
            start_time_raw: f.get(&["StartTime"]).map(str::to_string),
            end_time_raw: f.get(&["EndTime"]).map(str::to_string),
            dialed_raw: f
                .get(&["DialWhomNumber"])
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
        }
    }
}

/// Longest believable call: Exotel streams end at 60 minutes; a day leaves ample room.
pub const MAX_CALL_SECONDS: i64 = 86_400;

fn parse_seconds(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    raw.parse::<i64>()
        .ok()
        .or_else(|| {
            raw.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f.ceil() as i64)
        })
        .filter(|s| (0..=MAX_CALL_SECONDS).contains(s))
}

fn best_duration(f: &EventFields, stream_duration: Option<i64>) -> Option<(i64, DurationSource)> {
    let caller_leg = f
        .legs
        .first()
        .and_then(|leg| leg.get("OnCallDuration"))
        .and_then(|v| parse_seconds(v));
    [
        (
            f.get(&["ConversationDuration"]).and_then(parse_seconds),
            DurationSource::ConversationDuration,
        ),
        (stream_duration, DurationSource::StreamDuration),
        (caller_leg, DurationSource::CallerLegOnCall),
        (
            f.get(&["DialCallDuration"]).and_then(parse_seconds),
            DurationSource::DialCallDuration,
        ),
    ]
    .into_iter()
    .find_map(|(secs, source)| secs.map(|s| (s, source)))
}

/// The state an event implies. The human leg's `DialCallStatus` never makes a bot-answered call missed.
fn event_state(kind: HookKind, f: &EventFields, bot_answered: bool) -> Option<CallState> {
    let status = match kind {
        HookKind::Voicebot => return Some(CallState::InProgress),
        HookKind::StatusCallback | HookKind::CallDetails => {
            if f.get(&["EventType"]) == Some("answered") {
                return Some(CallState::InProgress);
            }
            f.get(&["Status", "CallStatus"])
        }
        HookKind::Passthru => f.get(&["CallStatus"]),
    };
    if let Some(state) = status.and_then(call_state_of) {
        return Some(never_missed_if_bot_answered(state, bot_answered));
    }
    if kind == HookKind::Passthru {
        let from_type = f.get(&["CallType"]).and_then(|t| match t {
            "call-attempt" => Some(CallState::InProgress),
            "completed" => Some(CallState::Completed),
            "client-hangup" | "incomplete" | "voicemail" => Some(CallState::Missed),
            _ => None,
        });
        let from_dial = f.get(&["DialCallStatus"]).and_then(call_state_of);
        // A bot conversation that ended is a completed call even before the flow ends.
        let from_stream = bot_answered.then_some(CallState::Completed);
        let state = match (from_type, from_dial) {
            (Some(CallState::InProgress), Some(dial)) if dial.is_final() => Some(dial),
            (Some(t), _) => Some(t),
            (None, dial) => dial.or(from_stream),
        };
        return state.map(|s| never_missed_if_bot_answered(s, bot_answered));
    }
    None
}

/// Maps an Exotel status (`queued, ringing, in-progress, completed, busy, failed, no-answer,
/// canceled`, plus `client-hangup`) to a call state.
pub fn call_state_of(status: &str) -> Option<CallState> {
    match status.trim().to_ascii_lowercase().as_str() {
        "queued" | "ringing" => Some(CallState::Ringing),
        "in-progress" | "in_progress" | "answered" => Some(CallState::InProgress),
        "completed" => Some(CallState::Completed),
        "busy" => Some(CallState::Busy),
        "failed" => Some(CallState::Failed),
        "no-answer" | "canceled" | "cancelled" | "client-hangup" => Some(CallState::Missed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exotel_statuses_map() {
        assert_eq!(call_state_of("no-answer"), Some(CallState::Missed));
        assert_eq!(call_state_of("client-hangup"), Some(CallState::Missed));
        assert_eq!(call_state_of("whatever"), None);
    }

    #[test]
    fn absurd_durations_are_not_durations() {
        assert_eq!(parse_seconds("61"), Some(61));
        assert_eq!(parse_seconds("59.2"), Some(60));
        for odd in ["1e30", "inf", "NaN", "-5", "86401", "abc"] {
            assert_eq!(parse_seconds(odd), None, "{odd}");
        }
    }
}
