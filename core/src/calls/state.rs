//! The call state machine: ringing → in_progress → completed / missed / busy / failed.
//! States only move forward, the first final state sticks, and a call the voicebot answered is
//! never missed. The states themselves are [`CallState`], stored as text.

use crate::CallState;

/// A call the voicebot answered was not missed, whatever the human leg did: `Missed` becomes
/// `Completed` for it. This is the only place that rule is written.
pub fn never_missed_if_bot_answered(state: CallState, bot_answered: bool) -> CallState {
    if bot_answered && state == CallState::Missed {
        CallState::Completed
    } else {
        state
    }
}

/// Applies an incoming state to the current one.
pub fn advance(current: CallState, incoming: CallState, bot_answered: bool) -> CallState {
    let next = if current.is_final() {
        current
    } else if incoming.is_final() || incoming == CallState::InProgress {
        incoming
    } else {
        current
    };
    never_missed_if_bot_answered(next, bot_answered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_only_move_forward() {
        use CallState::*;
        assert_eq!(advance(Ringing, InProgress, false), InProgress);
        assert_eq!(advance(InProgress, Ringing, false), InProgress);
        assert_eq!(advance(InProgress, Missed, false), Missed);
        assert_eq!(advance(Completed, Missed, false), Completed);
        assert_eq!(advance(Missed, Completed, false), Missed);
        assert_eq!(advance(Missed, InProgress, true), Completed);
    }
}
