//! The LLM brain: chat completions with tool calling. The model sees the store's profile, the
//! last few exchanges and what the caller said, and calls the same tools as the offline brain,
//! so an order's details reach it only once the caller is verified. The intent is routed by the
//! offline classifier (with the conversation's memory), so both brains label turns alike.

use super::brain::{Answer, Brain, BrainError};
use super::conversation::Conversation;
use super::intent::Intent;
use super::offline::hear;
use super::tools::Toolbox;
use crate::integrations::llm::{ChatMessage, ChatModel, ModelTurn, ToolSpec};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::Arc;

/// Rounds of tool calls before the model must answer.
const MAX_ROUNDS: usize = 5;

/// The LLM brain over one chat model.
pub struct LlmBrain {
    model: Arc<dyn ChatModel>,
}

impl LlmBrain {
    /// A brain over `model`.
    pub fn new(model: Arc<dyn ChatModel>) -> Self {
        LlmBrain { model }
    }
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

/// The tools the model may call (the tool layer enforces who may see what).
pub fn tool_specs() -> Vec<ToolSpec> {
    let text = |d: &str| json!({"type": "string", "description": d});
    vec![
        ToolSpec {
            name: "find_order",
            description: "Looks up an order by the number the caller reads out. Returns its status, items, shipments, refunds and amounts once the caller is verified for it; otherwise says it is withheld.",
            parameters: object(
                json!({"order_number": text("e.g. 2041 or #2041")}),
                &["order_number"],
            ),
        },
        ToolSpec {
            name: "verify_caller",
            description: "Checks the caller against an order: the name on the order or its shipping PIN code.",
            parameters: object(
                json!({"order_number": text("the order"), "name": text("the name the caller gave"),
                    "pin": text("the 6-digit PIN code the caller gave")}),
                &["order_number"],
            ),
        },
        ToolSpec {
            name: "caller_orders",
            description: "The recent orders of the caller, known by caller ID (phone calls only).",
            parameters: object(json!({}), &[]),
        },
        ToolSpec {
            name: "search_products",
            description: "Finds products for sale by name, with price, description and stock per variant.",
            parameters: object(
                json!({"query": text("product words, e.g. cotton kurta")}),
                &["query"],
            ),
        },
        ToolSpec {
            name: "create_task",
            description: "Records a request for staff: cancellation or address_change (only for an unfulfilled order of a verified caller), complaint, or callback.",
            parameters: object(
                json!({"kind": {"type": "string", "enum": ["cancellation", "address_change", "complaint", "callback"]},
                    "order_number": text("the order, when it concerns one"),
                    "details": text("what the caller asked, in their words")}),
                &["kind", "details"],
            ),
        },
        ToolSpec {
            name: "store_policy",
            description: "The store's own words on shipping, returns, refunds, cash on delivery, offers or support hours.",
            parameters: object(
                json!({"topic": {"type": "string", "enum": ["shipping", "returns", "refunds", "cod", "offers", "hours"]}}),
                &["topic"],
            ),
        },
        ToolSpec {
            name: "transfer_to_human",
            description: "Hands the caller to a person (in support hours; outside them a callback is recorded).",
            parameters: object(json!({"reason": text("why")}), &[]),
        },
    ]
}

fn instructions(tools: &Toolbox<'_>, agent: Intent) -> String {
    let bot = tools
        .profile()
        .map_or("the store's assistant", |p| p.bot_name.as_str());
    format!(
        "You are {bot}, an AI assistant answering a store's customers on the phone. Answer in one \
         to three short spoken sentences, in the caller's language (English or Hinglish). Use the \
         tools for every fact about orders, products and the store's policies; never invent one. \
         Order details are shared only with a verified caller: when a result is withheld, ask for \
         the name on the order or the shipping PIN code, then call verify_caller. Never read out a \
         street address. Cancellations and address changes are requests you record with \
         create_task for staff to confirm. When the caller wants a person or you cannot help, call \
         transfer_to_human. This request was routed to the '{}' agent.",
        agent.label()
    )
}

#[async_trait]
impl Brain for LlmBrain {
    async fn answer(
        &self,
        text: &str,
        conv: &mut Conversation,
        tools: &mut Toolbox<'_>,
    ) -> Result<Answer, BrainError> {
        let heard = hear(text, conv);
        let specs = tool_specs();
        let mut messages = vec![ChatMessage::System(instructions(tools, heard.intent))];
        for exchange in &conv.history {
            messages.push(ChatMessage::User(exchange.caller.clone()));
            messages.push(ChatMessage::Assistant {
                content: Some(exchange.agent.clone()),
                calls: Vec::new(),
            });
        }
        messages.push(ChatMessage::User(text.to_string()));
        for _ in 0..MAX_ROUNDS {
            let turn = self.model.next(&messages, &specs).await.map_err(|e| {
                // The provider's own text can carry account ids or a reply: logs only.
                tracing::warn!(error = %e, "the language model failed");
                BrainError::Model(e.reason().into())
            })?;
            let calls = match turn {
                ModelTurn::Text(reply) => {
                    conv.turns += 1;
                    let handoff = tools.handoff;
                    return Ok(Answer {
                        reply,
                        intent: heard.intent,
                        agent: if handoff {
                            Intent::Handoff
                        } else {
                            heard.intent
                        },
                        confidence: heard.confidence,
                        handoff,
                    });
                }
                ModelTurn::Calls(calls) => calls,
            };
            messages.push(ChatMessage::Assistant {
                content: None,
                calls: calls.clone(),
            });
            for call in calls {
                let arguments: Value = serde_json::from_str(&call.arguments)
                    .unwrap_or_else(|_| json!({"unreadable": call.arguments}));
                let seen = if arguments.get("unreadable").is_some() {
                    json!({"error": "the arguments are not a JSON object"})
                } else {
                    tools.run(conv, &call.name, arguments).await
                };
                messages.push(ChatMessage::Tool {
                    call_id: call.id,
                    content: seen.to_string(),
                });
            }
        }
        Err(BrainError::Model(format!(
            "no answer after {MAX_ROUNDS} rounds of tool calls"
        )))
    }
}
