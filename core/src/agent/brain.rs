//! One interface for both brains: given what the caller said, the conversation's memory and
//! the tools, answer with a reply, the intent, the agent that answered and whether a person
//! should take over.

use super::conversation::Conversation;
use super::intent::Intent;
use super::tools::Toolbox;
use async_trait::async_trait;

/// A brain's answer to one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// What to say.
    pub reply: String,
    /// What the caller wanted.
    pub intent: Intent,
    /// Which of the fourteen agents answered.
    pub agent: Intent,
    /// How sure the brain is of the intent, 0–1.
    pub confidence: f32,
    /// Whether a person should take over.
    pub handoff: bool,
}

/// Why a brain gave no answer (the turn then says the fallback line and offers a human).
#[derive(Debug, thiserror::Error)]
pub enum BrainError {
    /// The language model failed or answered nonsense.
    #[error("the language model failed: {0}")]
    Model(String),
}

/// A brain: the offline agent or the LLM agent.
#[async_trait]
pub trait Brain: Send + Sync {
    /// Answers `text`, reading and updating `conv`, using `tools`.
    async fn answer(
        &self,
        text: &str,
        conv: &mut Conversation,
        tools: &mut Toolbox<'_>,
    ) -> Result<Answer, BrainError>;
}

/// Said when the brain fails or is too slow: a person is offered.
pub const FALLBACK_LINE: &str = "Sorry, I'm having trouble looking that up right now. Let me connect you to someone from our team who can help.";
