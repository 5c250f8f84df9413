//! The statuses stored as text columns, as enums: each spelled once, here. Comparing one with a
//! `&str` works (`call.state == "completed"`), so tests and logs read naturally.

use sea_orm::DeriveValueType;
use serde::{Deserialize, Serialize};

/// A stored text that is not one of the enum's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown value '{}'", self.0)
    }
}

impl std::error::Error for UnknownValue {}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, DeriveValueType)]
        #[sea_orm(value_type = "String")]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// Parses a stored name.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text).ok_or_else(|| UnknownValue(text.to_string()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

text_enum!(
    /// Where a call is in its life: ringing → in_progress → completed / missed / busy / failed.
    CallState {
        /// Exotel has the call; nobody picked up yet.
        Ringing = "ringing",
        /// Someone (the bot or a human) is on the call.
        InProgress = "in_progress",
        /// Final: the call was answered and ended.
        Completed = "completed",
        /// Final: no-answer, canceled, caller hung up before an answer.
        Missed = "missed",
        /// Final: the line was busy.
        Busy = "busy",
        /// Final: the call failed.
        Failed = "failed",
    }
);

impl CallState {
    /// True for completed, missed, busy and failed.
    pub fn is_final(self) -> bool {
        !matches!(self, CallState::Ringing | CallState::InProgress)
    }
}

text_enum!(
    /// Where a call is in billing.
    BillingStatus {
        /// The call is not over.
        NotFinal = "not_final",
        /// Final; the charge stage has not run yet.
        Pending = "pending",
        /// Final, but no duration is known yet: visible and waiting.
        AwaitingDuration = "awaiting_duration",
        /// Charged.
        Charged = "charged",
        /// Charged, then a better duration arrived: its adjustment is due.
        AdjustmentDue = "adjustment_due",
    }
);

text_enum!(
    /// Where a stage run is.
    RunStatus {
        /// Waiting to run (possibly already pushed to the queue).
        Pending = "pending",
        /// A worker holds it until `locked_until`.
        Running = "running",
        /// Done.
        Succeeded = "succeeded",
        /// Gave up: permanent error or out of attempts. Replay re-arms it.
        Failed = "failed",
    }
);

text_enum!(
    /// What a stage run is about.
    RunSubject {
        /// One call (`call_id`, `call_sid`).
        Call = "call",
        /// One tenant, under a natural key such as `invoice:{tenant}:2026-11`.
        Tenant = "tenant",
        /// The whole deployment, under a natural key such as `backup:2026-11-22`.
        Platform = "platform",
    }
);

text_enum!(
    /// What moved money in a tenant's ledger.
    LedgerKind {
        /// A call's charge: one per call.
        Charge = "charge",
        /// A correction to a call's charge (a better duration arrived): one per call and source.
        Adjustment = "adjustment",
        /// Money Caly owes back or forgives: lowers the balance.
        Credit = "credit",
        /// Money the tenant paid: lowers the balance.
        Payment = "payment",
    }
);

text_enum!(
    /// How a conversation reaches Caly.
    Channel {
        /// A phone call through Exotel.
        Phone = "phone",
        /// A typed conversation with the agent (tests, demos, chat): never billed.
        Text = "text",
    }
);

text_enum!(
    /// Whether Caly can reach a tenant's Shopify store.
    StoreStatus {
        /// The token works.
        Connected = "connected",
        /// Shopify refused the token (revoked, or the app was uninstalled).
        Disconnected = "disconnected",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_stored_names() {
        for state in CallState::ALL {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(state.as_str().parse::<CallState>().unwrap(), *state);
        }
        for status in BillingStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for status in RunStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!("ringing?".parse::<CallState>().is_err());
        assert!(CallState::Missed.is_final() && !CallState::InProgress.is_final());
    }
}
