//! Language models behind one trait: a chat with tool calling. The provider is any
//! OpenAI-compatible server (OpenAI itself, or a compatible one), configured platform-wide
//! with an optional per-tenant override; the agent's LLM brain talks only to [`ChatModel`].

pub(crate) mod openai;

pub use openai::OpenAiChat;

use crate::platform::egress::EgressError;
use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::Value;

/// Where a model is served: an OpenAI-compatible base URL (`…/v1`), its key and the model.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// API key.
    pub api_key: SecretString,
    /// Model name, e.g. `gpt-4o-mini`.
    pub model: String,
}

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestedCall {
    /// The provider's id for the call (echoed with the result).
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments as the model wrote them (JSON text).
    pub arguments: String,
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatMessage {
    /// Instructions.
    System(String),
    /// What the caller said.
    User(String),
    /// What the model said or asked to run.
    Assistant {
        /// Its words.
        content: Option<String>,
        /// The tools it called.
        calls: Vec<RequestedCall>,
    },
    /// A tool's result.
    Tool {
        /// The call it answers.
        call_id: String,
        /// The result as JSON text.
        content: String,
    },
}

/// A tool the model may call.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// Name.
    pub name: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// JSON Schema of its arguments.
    pub parameters: Value,
}

/// What the model did with its turn.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelTurn {
    /// It answered.
    Text(String),
    /// It asked for tools first.
    Calls(Vec<RequestedCall>),
}

/// Why the model gave nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The outbound policy refused the provider's address.
    #[error("the model's address was refused: {0}")]
    Refused(#[from] EgressError),
    /// The provider failed or refused.
    #[error("the model provider failed: {0}")]
    Provider(String),
    /// The answer had neither words nor tool calls.
    #[error("the model's answer is not usable: {0}")]
    Unusable(String),
}

impl LlmError {
    /// A short reason fit to show a tenant (never the provider's own text).
    pub fn reason(&self) -> &'static str {
        match self {
            LlmError::Refused(_) => "the model's address is refused by the outbound policy",
            LlmError::Provider(_) => "the model provider failed or refused the request",
            LlmError::Unusable(_) => "the model's answer was not usable",
        }
    }
}

/// A chat model with tool calling.
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// The model's next move given the chat so far and the tools it may call.
    async fn next(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
    ) -> Result<ModelTurn, LlmError>;
}
