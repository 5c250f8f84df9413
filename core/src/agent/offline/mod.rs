//! The offline brain: no model, no network beyond the store. It hears the intent and the slots,
//! remembers across turns what it asked and what was verified, reaches the store only through
//! the tool layer (so privacy holds as for any brain), and answers from templates, one agent
//! per intent.

mod orders;
mod store_info;
mod understand;

pub use understand::{Heard, hear};

use super::brain::{Answer, Brain, BrainError};
use super::conversation::{Awaiting, Conversation};
use super::intent::Intent;
use super::tools::{Toolbox, number_to_name};
use async_trait::async_trait;
use serde_json::{Value, json};

/// The offline brain.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineBrain;

/// What an agent needs: the turn, the memory and the tools.
pub(crate) struct Turn<'t, 'a> {
    pub text: &'t str,
    pub heard: Heard,
    pub conv: &'t mut Conversation,
    pub tools: &'t mut Toolbox<'a>,
}

impl Turn<'_, '_> {
    /// An answer from `agent`.
    pub fn say(&self, agent: Intent, reply: String, handoff: bool) -> Answer {
        Answer {
            reply,
            intent: self.heard.intent,
            agent,
            confidence: self.heard.confidence,
            handoff,
        }
    }

    /// The facts of the order the caller means, once they may hear them; otherwise the answer
    /// that asks for what is missing (the order number, or a proof).
    pub async fn verified_order(&mut self, agent: Intent) -> Result<Value, Answer> {
        if !self.tools.store_available() {
            return Err(self.store_unavailable(agent));
        }
        let number = self
            .heard
            .order_number
            .clone()
            .or_else(|| self.conv.order.clone());
        let Some(number) = number else {
            return self.caller_id_order(agent).await;
        };
        let name = number_to_name(&number);
        let proof = self.heard.name.is_some() || self.heard.pin.is_some();
        if proof && !self.conv.verified_for(&name).is_verified() {
            if self.conv.is_locked() {
                return Err(self.locked(agent));
            }
            let args =
                json!({"order_number": number, "name": self.heard.name, "pin": self.heard.pin});
            let checked = self.tools.run(self.conv, "verify_caller", args).await;
            if checked["found"] == json!(false) {
                return Err(self.not_found(agent, &name));
            }
            if checked["verified"] != json!(true) {
                if checked["locked"] == json!(true) {
                    return Err(self.locked(agent));
                }
                self.wait_for(Awaiting::SecondFact, agent);
                let left = checked["attempts_left"].as_u64().unwrap_or(0);
                let reply = format!(
                    "Sorry, that doesn't match our records for order {name}. Please tell me the name on the order or the PIN code it ships to. {left} attempt{} left.",
                    if left == 1 { "" } else { "s" }
                );
                return Err(self.say(agent, reply, false));
            }
        }
        let found = self
            .tools
            .run(self.conv, "find_order", json!({"order_number": number}))
            .await;
        if found.get("error").is_some() {
            return Err(self.store_unavailable(agent));
        }
        if found["found"] == json!(false) {
            return Err(self.not_found(agent, &name));
        }
        if found["withheld"] == json!(true) {
            if self.conv.is_locked() {
                return Err(self.locked(agent));
            }
            self.wait_for(Awaiting::SecondFact, agent);
            let reply = format!(
                "I found order {name}. To protect your privacy, please tell me the name on the order or the PIN code it ships to."
            );
            return Err(self.say(agent, reply, false));
        }
        self.conv.awaiting = None;
        self.conv.pending = None;
        Ok(found)
    }

    /// With no order number: the caller's latest order when caller ID proves who they are.
    async fn caller_id_order(&mut self, agent: Intent) -> Result<Value, Answer> {
        if self.conv.trusted_caller().is_some() {
            let listed = self.tools.run(self.conv, "caller_orders", json!({})).await;
            if let Some(latest) = listed["orders"].as_array().and_then(|o| o.first()) {
                self.conv.order = latest["order"].as_str().map(String::from);
                self.conv.awaiting = None;
                self.conv.pending = None;
                return Ok(latest.clone());
            }
        }
        self.wait_for(Awaiting::OrderNumber, agent);
        Err(self.say(
            agent,
            "Sure, I can help with that. What is your order number? It's in your order confirmation, like #1001.".into(),
            false,
        ))
    }

    fn wait_for(&mut self, what: Awaiting, agent: Intent) {
        self.conv.awaiting = Some(what);
        self.conv.pending = Some(agent);
    }

    fn not_found(&mut self, agent: Intent, name: &str) -> Answer {
        self.conv.order = None;
        self.wait_for(Awaiting::OrderNumber, agent);
        self.say(
            agent,
            format!(
                "I couldn't find an order {name}. Could you check the number and say it again?"
            ),
            false,
        )
    }

    fn locked(&mut self, agent: Intent) -> Answer {
        // Still listening for proofs, so that each one is refused too.
        self.wait_for(Awaiting::SecondFact, agent);
        self.say(
            agent,
            "I'm sorry, I couldn't verify the order, so I can't share its details. Let me connect you to someone from our team.".into(),
            true,
        )
    }

    /// The store cannot be read (not connected, disconnected, or failing): a person helps.
    pub fn store_unavailable(&self, agent: Intent) -> Answer {
        self.say(
            agent,
            "I'm sorry, I can't reach the store's order system right now. Let me connect you to someone from our team.".into(),
            true,
        )
    }
}

#[async_trait]
impl Brain for OfflineBrain {
    async fn answer(
        &self,
        text: &str,
        conv: &mut Conversation,
        tools: &mut Toolbox<'_>,
    ) -> Result<Answer, BrainError> {
        let heard = hear(text, conv);
        let agent = heard.intent;
        let mut turn = Turn {
            text,
            heard,
            conv,
            tools,
        };
        let answer = match agent {
            Intent::Greeting => store_info::greeting(&turn),
            Intent::OrderStatus => orders::order_status(&mut turn).await,
            Intent::Tracking => orders::tracking(&mut turn).await,
            Intent::Refund => orders::refund(&mut turn).await,
            Intent::Return => orders::return_request(&mut turn).await,
            Intent::Payment => orders::payment(&mut turn).await,
            Intent::Cancellation => orders::cancellation(&mut turn).await,
            Intent::AddressChange => orders::address_change(&mut turn).await,
            Intent::ProductInquiry => store_info::product_inquiry(&mut turn).await,
            Intent::Stock => store_info::stock(&mut turn).await,
            Intent::Discount => store_info::discount(&mut turn),
            Intent::Policy => store_info::policy(&mut turn),
            Intent::Complaint => store_info::complaint(&mut turn).await,
            Intent::Handoff => store_info::handoff(&mut turn).await,
        };
        turn.conv.turns += 1;
        Ok(answer)
    }
}
#[cfg(test)]
mod tests;
