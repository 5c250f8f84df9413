//! What the agent remembers across the turns of one conversation: who is calling, the orders
//! prefetched for their number, the order being discussed, which orders the caller proved are
//! theirs, what the agent is waiting to hear, and how many proofs failed. Stored as JSON with
//! the call; only the tool layer reads the prefetched orders.

use super::intent::Intent;
use super::verification::Verified;
use crate::integrations::shopify::store::Order;
use serde::{Deserialize, Serialize};

/// Wrong names or PIN codes allowed before verification locks for the conversation.
pub const MAX_FAILED_CHECKS: u32 = 3;

/// What the agent asked the caller for and is waiting to hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Awaiting {
    /// The order number.
    OrderNumber,
    /// The name on the order or its shipping PIN code.
    SecondFact,
}

/// One order the caller proved is theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedOrder {
    /// The order's name, e.g. `#2041`.
    pub order: String,
    /// How it was proven.
    pub how: Verified,
}

/// The conversation's memory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Conversation {
    /// The caller's number in E.164, when known.
    pub caller: Option<String>,
    /// Whether the number came from the phone network (caller ID). A number typed into a
    /// text conversation is not caller ID.
    #[serde(default)]
    pub caller_id_trusted: bool,
    /// The caller's recent orders, looked up by phone when the conversation opened.
    #[serde(default)]
    pub prefetched: Vec<Order>,
    /// Whether the prefetch ran (successfully) for this conversation.
    #[serde(default)]
    pub prefetch_done: bool,
    /// When the prefetched orders were fetched.
    #[serde(default)]
    pub prefetched_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The order being discussed.
    #[serde(default)]
    pub order: Option<String>,
    /// Orders the caller proved are theirs.
    #[serde(default)]
    pub verified: Vec<VerifiedOrder>,
    /// What the agent is waiting to hear.
    #[serde(default)]
    pub awaiting: Option<Awaiting>,
    /// The question waiting on an order number or a proof.
    #[serde(default)]
    pub pending: Option<Intent>,
    /// Wrong names or PIN codes so far.
    #[serde(default)]
    pub failed_checks: u32,
    /// The product being discussed.
    #[serde(default)]
    pub product: Option<String>,
    /// Turns answered.
    #[serde(default)]
    pub turns: u32,
    /// The last few exchanges, for a brain that reads the conversation (the LLM).
    #[serde(default)]
    pub history: Vec<Exchange>,
}

/// One exchange: what the caller said and what the agent answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// The caller's words.
    pub caller: String,
    /// The agent's reply.
    pub agent: String,
}

/// Exchanges kept in [`Conversation::history`].
pub const HISTORY: usize = 6;

impl Conversation {
    /// A new conversation with `caller`; `trusted` when the number is caller ID.
    pub fn new(caller: Option<String>, trusted: bool) -> Self {
        Conversation {
            caller,
            caller_id_trusted: trusted,
            ..Conversation::default()
        }
    }

    /// How the caller proved `order` is theirs, if they did.
    pub fn verified_for(&self, order: &str) -> Verified {
        self.verified
            .iter()
            .find(|v| super::tools::same_order(&v.order, order))
            .map_or(Verified::No, |v| v.how)
    }

    /// Whether any order was verified in this conversation.
    pub fn is_verified(&self) -> bool {
        !self.verified.is_empty()
    }

    /// Records a proof for `order`.
    pub fn mark_verified(&mut self, order: &str, how: Verified) {
        if how.is_verified() && self.verified_for(order) == Verified::No {
            self.verified.push(VerifiedOrder {
                order: order.to_string(),
                how,
            });
        }
    }

    /// Remembers an exchange, keeping the last [`HISTORY`].
    pub fn remember(&mut self, caller: &str, agent: &str) {
        self.history.push(Exchange {
            caller: caller.to_string(),
            agent: agent.to_string(),
        });
        let extra = self.history.len().saturating_sub(HISTORY);
        self.history.drain(..extra);
    }

    /// Whether too many proofs failed to try again.
    pub fn is_locked(&self) -> bool {
        self.failed_checks >= MAX_FAILED_CHECKS
    }

    /// The caller's number when it may verify them (caller ID only).
    pub fn trusted_caller(&self) -> Option<&str> {
        self.caller.as_deref().filter(|_| self.caller_id_trusted)
    }
}
