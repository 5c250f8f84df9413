//! [`ChatModel`] over an OpenAI-compatible chat-completions endpoint, through `async-openai`.
//! The HTTP client is Caly's: the base URL passes the egress policy (https on an allowed port,
//! or loopback with its switch), redirects are not followed, and timeouts are the policy's.

use super::{ChatMessage, ChatModel, LlmConfig, LlmError, ModelTurn, RequestedCall, ToolSpec};
use crate::platform::egress::{AllowList, EgressSettings};
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, CreateChatCompletionRequest, CreateChatCompletionResponse,
};
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// A chat model served by an OpenAI-compatible provider.
pub struct OpenAiChat {
    client: Client<OpenAIConfig>,
    model: String,
}

impl std::fmt::Debug for OpenAiChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiChat")
            .field("model", &self.model)
            .finish()
    }
}

impl OpenAiChat {
    /// A client for `config`, checked against the outbound policy.
    pub fn new(config: &LlmConfig, egress: &EgressSettings) -> Result<Self, LlmError> {
        Ok(OpenAiChat {
            client: provider_client(config, egress)?,
            model: config.model.clone(),
        })
    }
}

/// An `async-openai` client for an OpenAI-compatible endpoint: the base URL passes the egress
/// policy, redirects are not followed, and the policy's timeouts apply. Chat and speech share it.
pub(crate) fn provider_client(
    config: &LlmConfig,
    egress: &EgressSettings,
) -> Result<Client<OpenAIConfig>, LlmError> {
    let url = url::Url::parse(config.base_url.trim())
        .map_err(|_| crate::platform::egress::EgressError::NotAUrl)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(LlmError::Unusable(
            "the base URL must not carry a query or fragment".into(),
        ));
    }
    let host = url
        .host_str()
        .ok_or(crate::platform::egress::EgressError::NotAUrl)?
        .to_string();
    // The operator chose this host; the policy still rules scheme, port and loopback.
    egress.check(&AllowList::parse(&host, "CALY_LLM_BASE_URL"), url.as_str())?;
    let http = reqwest013::Client::builder()
        .redirect(reqwest013::redirect::Policy::none())
        .connect_timeout(egress.connect_timeout)
        .read_timeout(egress.read_timeout)
        .timeout(egress.total_timeout)
        .build()
        .map_err(|e| LlmError::Provider(e.to_string()))?;
    let settings = OpenAIConfig::new()
        .with_api_base(url.as_str().trim_end_matches('/'))
        .with_api_key(config.api_key.expose_secret());
    Ok(Client::with_config(settings).with_http_client(http))
}

fn message_json(message: &ChatMessage) -> Value {
    match message {
        ChatMessage::System(text) => json!({"role": "system", "content": text}),
        ChatMessage::User(text) => json!({"role": "user", "content": text}),
        ChatMessage::Assistant { content, calls } => {
            let mut m = json!({"role": "assistant", "content": content});
            if !calls.is_empty() {
                m["tool_calls"] = calls
                    .iter()
                    .map(|c| {
                        json!({"id": c.id, "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments}})
                    })
                    .collect();
            }
            m
        }
        ChatMessage::Tool { call_id, content } => {
            json!({"role": "tool", "tool_call_id": call_id, "content": content})
        }
    }
}

/// The request as OpenAI's chat-completions JSON, read into `async-openai`'s type.
fn request(
    model: &str,
    messages: &[ChatMessage],
    tools: &[ToolSpec],
) -> Result<CreateChatCompletionRequest, LlmError> {
    let tools: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({"type": "function", "function": {"name": t.name,
            "description": t.description, "parameters": t.parameters}})
        })
        .collect();
    let body = json!({
        "model": model,
        "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
        "tools": tools,
        "tool_choice": "auto",
    });
    serde_json::from_value(body).map_err(|e| LlmError::Unusable(format!("request: {e}")))
}

fn turn_of(response: CreateChatCompletionResponse) -> Result<ModelTurn, LlmError> {
    let message = response
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::Unusable("no choices".into()))?
        .message;
    let calls: Vec<RequestedCall> = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .filter_map(|call| match call {
            ChatCompletionMessageToolCalls::Function(f) => Some(RequestedCall {
                id: f.id,
                name: f.function.name,
                arguments: f.function.arguments,
            }),
            ChatCompletionMessageToolCalls::Custom(_) => None,
        })
        .collect();
    if !calls.is_empty() {
        return Ok(ModelTurn::Calls(calls));
    }
    match message.content.map(|c| c.trim().to_string()) {
        Some(text) if !text.is_empty() => Ok(ModelTurn::Text(text)),
        _ => Err(LlmError::Unusable("neither words nor tool calls".into())),
    }
}

#[async_trait]
impl ChatModel for OpenAiChat {
    async fn next(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
    ) -> Result<ModelTurn, LlmError> {
        let request = request(&self.model, messages, tools)?;
        let response = self
            .client
            .chat()
            .create(request)
            .await
            .map_err(|e| LlmError::Provider(e.to_string()))?;
        turn_of(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_become_openai_requests() {
        let messages = [
            ChatMessage::System("be brief".into()),
            ChatMessage::User("where is 2041".into()),
            ChatMessage::Assistant {
                content: None,
                calls: vec![RequestedCall {
                    id: "call_1".into(),
                    name: "find_order".into(),
                    arguments: "{\"order_number\":\"2041\"}".into(),
                }],
            },
            ChatMessage::Tool {
                call_id: "call_1".into(),
                content: "{\"withheld\":true}".into(),
            },
        ];
        let tools = [ToolSpec {
            name: "find_order",
            description: "Looks up an order",
            parameters: json!({"type": "object", "properties": {"order_number": {"type": "string"}}}),
        }];
        let built = request("m", &messages, &tools).unwrap();
        let sent = serde_json::to_value(&built).unwrap();
        assert_eq!(sent["messages"].as_array().unwrap().len(), 4);
        assert_eq!(
            sent["messages"][2]["tool_calls"][0]["function"]["name"],
            "find_order"
        );
        assert_eq!(sent["messages"][3]["tool_call_id"], "call_1");
        assert_eq!(sent["tools"][0]["function"]["name"], "find_order");
    }

    #[test]
    fn a_base_url_passes_the_outbound_policy() {
        let config = |url: &str| LlmConfig {
            base_url: url.into(),
            api_key: "sk-test".to_string().into(),
            model: "m".into(),
        };
        let strict = EgressSettings {
            allow_loopback: false,
            ..EgressSettings::loopback()
        };
        assert!(OpenAiChat::new(&config("https://api.openai.com/v1"), &strict).is_ok());
        assert!(OpenAiChat::new(&config("http://api.openai.com/v1"), &strict).is_err());
        assert!(OpenAiChat::new(&config("http://127.0.0.1:8077/v1"), &strict).is_err());
        assert!(
            OpenAiChat::new(
                &config("http://127.0.0.1:8077/v1"),
                &EgressSettings::loopback()
            )
            .is_ok()
        );
        assert!(OpenAiChat::new(&config("not a url"), &strict).is_err());
        assert!(OpenAiChat::new(&config("https://api.openai.com/v1?key=sk"), &strict).is_err());
    }
}
