//! How a voicebot call ends, and what the sync Passthru after the Voicebot applet answers:
//! 200 (branch A: Connect to a person) when the call must go to a human, 302 (branch B:
//! Hangup) when the agent resolved it or a callback was taken.

/// What happened to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The agent answered and the caller is done.
    Resolved,
    /// A person takes the call.
    HandedOff,
    /// Outside support hours: a callback request was recorded instead of a handoff.
    Callback,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::HandedOff => "handed_off",
            Outcome::Callback => "callback",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Outcome::Resolved, Outcome::HandedOff, Outcome::Callback]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Why the call ended as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The caller asked for a person.
    CallerAsked,
    /// The caller complained.
    Complaint,
    /// The agent kept misunderstanding.
    Misunderstood,
    /// Speech or the model failed or timed out.
    ProviderFailed,
    /// Too many live calls (the tenant's or the node's).
    Limit,
    /// The store sends every call to a person.
    SendAllToHuman,
    /// This deployment cannot hear or speak (engines missing).
    SpeechUnavailable,
    /// The caller said goodbye.
    Goodbye,
    /// The caller hung up.
    CallerHungUp,
    /// The store's balance reached its credit limit.
    CreditLimit,
    /// The caller stayed silent through the prompts.
    CallerSilent,
    /// Exotel ended the applet.
    Stopped,
}

impl Reason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::CallerAsked => "caller_asked",
            Reason::Complaint => "complaint",
            Reason::Misunderstood => "misunderstood",
            Reason::ProviderFailed => "provider_failed",
            Reason::Limit => "limit",
            Reason::SendAllToHuman => "send_all_to_human",
            Reason::CreditLimit => "credit_limit",
            Reason::SpeechUnavailable => "speech_unavailable",
            Reason::Goodbye => "goodbye",
            Reason::CallerHungUp => "caller_hung_up",
            Reason::CallerSilent => "caller_silent",
            Reason::Stopped => "stopped",
        }
    }
}

/// The Passthru's answer for a call: 200 sends it to a person, 302 hangs up. A call the
/// voicebot never decided (or never saw) goes to a person: never drop a caller.
pub fn passthru_status(outcome: Option<Outcome>) -> u16 {
    match outcome {
        Some(Outcome::Resolved) | Some(Outcome::Callback) => 302,
        Some(Outcome::HandedOff) | None => 200,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_resolved_call_or_a_callback_hangs_up() {
        assert_eq!(passthru_status(Some(Outcome::Resolved)), 302);
        assert_eq!(passthru_status(Some(Outcome::Callback)), 302);
        assert_eq!(passthru_status(Some(Outcome::HandedOff)), 200);
        assert_eq!(passthru_status(None), 200);
        for o in [Outcome::Resolved, Outcome::HandedOff, Outcome::Callback] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }
}
