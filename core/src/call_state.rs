//! The call state machine: ringing → in_progress → completed / missed / busy / failed.

use serde::{Deserialize, Serialize};

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Exotel has the call; nobody picked up yet.
    Ringing,
    /// Someone (the bot or a human) is on the call.
    InProgress,
    /// Final: the call was answered and ended.
    Completed,
    /// Final: no-answer, canceled, caller hung up before an answer.
    Missed,
    /// Final: the line was busy.
    Busy,
    /// Final: the call failed.
    Failed,
}

impl CallState {
    /// Every state.
    pub const ALL: [CallState; 6] = [
        CallState::Ringing,
        CallState::InProgress,
        CallState::Completed,
        CallState::Missed,
        CallState::Busy,
        CallState::Failed,
    ];

    /// Stable name used in the database and API.
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Ringing => "ringing",
            CallState::InProgress => "in_progress",
            CallState::Completed => "completed",
            CallState::Missed => "missed",
            CallState::Busy => "busy",
            CallState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Maps an Exotel status (`queued, ringing, in-progress, completed, busy, failed, no-answer,
    /// canceled`, plus `client-hangup`) to a state.
    pub fn from_exotel_status(status: &str) -> Option<Self> {
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

    /// True for completed, missed, busy and failed.
    pub fn is_final(self) -> bool {
        !matches!(self, CallState::Ringing | CallState::InProgress)
    }

    /// Applies an incoming state to the current one. States only move forward; the first final
    /// state sticks, except that a bot-answered call is never left as missed.
    pub fn advance(current: CallState, incoming: CallState, bot_answered: bool) -> CallState {
        let next = if current.is_final() {
            current
        } else if incoming.is_final() || incoming == CallState::InProgress {
            incoming
        } else {
            current
        };
        if bot_answered && next == CallState::Missed {
            CallState::Completed
        } else {
            next
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_only_move_forward() {
        use CallState::*;
        assert_eq!(CallState::advance(Ringing, InProgress, false), InProgress);
        assert_eq!(CallState::advance(InProgress, Ringing, false), InProgress);
        assert_eq!(CallState::advance(InProgress, Missed, false), Missed);
        assert_eq!(CallState::advance(Completed, Missed, false), Completed);
        assert_eq!(CallState::advance(Missed, Completed, false), Missed);
        assert_eq!(CallState::advance(Missed, InProgress, true), Completed);
    }

    #[test]
    fn exotel_statuses_map() {
        assert_eq!(
            CallState::from_exotel_status("no-answer"),
            Some(CallState::Missed)
        );
        assert_eq!(
            CallState::from_exotel_status("client-hangup"),
            Some(CallState::Missed)
        );
        assert_eq!(CallState::from_exotel_status("whatever"), None);
    }
}
