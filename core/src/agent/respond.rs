//! Answers one turn: the conversation's memory, the tenant's store (when connected) and
//! profile, the brain (the LLM when one is configured, else the offline agent), a time limit
//! with the fallback line, and what a refused Shopify token means (the store is marked
//! disconnected and a person takes over). The `agent_reply` stage calls this and stores the
//! result.

use super::brain::{Answer, Brain, BrainError, FALLBACK_LINE};
use super::conversation::Conversation;
use super::intent::Intent;
use super::llm_brain::LlmBrain;
use super::offline::OfflineBrain;
use super::store_data::StoreData;
use super::tools::Toolbox;
use crate::calls::proof_failures::DbProofGuard;
use crate::calls::turns::{self, TurnAnswer};
use crate::integrations::llm::{LlmError, OpenAiChat};
use crate::integrations::shopify::ShopifyClient;
use crate::platform::ahead::Ahead;
use crate::tenancy::profile::StoreProfile;
use crate::tenancy::{llm, profile, shopify};
use crate::{App, CoreError};
use caly_entities::{call, turn};
use caly_jobs::{CallId, TenantId};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The tenant's brain: the LLM when one is configured (theirs, else the platform's), else the
/// offline agent. A model whose address the policy refuses is an error the turn reports.
async fn brain_for(
    app: &App,
    tenant: TenantId,
) -> Result<Result<Box<dyn Brain>, LlmError>, CoreError> {
    let config = match llm::model_for(app, tenant).await {
        Ok(Some(config)) => config,
        Ok(None) => return Ok(Ok(Box::new(OfflineBrain))),
        Err(CoreError::Crypto(error)) => {
            tracing::warn!(%error, "the tenant's model key cannot be read");
            let unreadable = "the tenant's model key cannot be read".to_string();
            return Ok(Err(LlmError::Provider(unreadable)));
        }
        Err(other) => return Err(other),
    };
    Ok(OpenAiChat::new(&config, &app.settings.egress)
        .map(|model| Box::new(LlmBrain::new(Arc::new(model))) as Box<dyn Brain>))
}

/// The fallback line, handing the caller to a person.
fn fallback() -> Answer {
    Answer {
        reply: FALLBACK_LINE.into(),
        intent: Intent::Handoff,
        agent: Intent::Handoff,
        confidence: 0.0,
        handoff: true,
    }
}

/// What answering a turn of a call reads before its brain starts: the conversation's memory,
/// the tenant's store client, profile and brain. None of it depends on the turn's words.
pub struct AnswerInputs {
    memory: Conversation,
    client: Option<ShopifyClient>,
    profile: Option<StoreProfile>,
    brain: Result<Box<dyn Brain>, LlmError>,
}

impl AnswerInputs {
    /// Reads them, together: a caller may be waiting on this turn.
    pub async fn read(app: &App, call: &call::Model) -> Result<Self, CoreError> {
        let tenant = TenantId(call.tenant_id);
        let (memory, client, profile, brain) = tokio::try_join!(
            turns::memory_of(&app.db, call),
            shopify::connected_client(app, tenant),
            profile::profile_of(&app.db, tenant),
            brain_for(app, tenant),
        )?;
        Ok(AnswerInputs {
            memory,
            client,
            profile,
            brain,
        })
    }
}

/// [`AnswerInputs`] being read ahead, while the turn's words are still being heard
/// (`turn_transcribe` starts it, or the socket that heard them when the turn runs on its node).
/// A turn's writes come before the next turn starts, so what is read ahead is what the turn
/// would read itself.
#[derive(Clone, Debug)]
pub struct InputsAhead(Ahead<Result<AnswerInputs, CoreError>>);

impl InputsAhead {
    /// Starts reading the inputs for answering a turn of `call`.
    pub fn start(app: &App, call: &call::Model) -> Self {
        let (app, call) = (app.clone(), call.clone());
        InputsAhead(Ahead::start(async move {
            AnswerInputs::read(&app, &call).await
        }))
    }
}

/// The answer to a turn and the conversation's memory after it.
pub type Answered = (TurnAnswer, Conversation);

/// A turn's answer being worked out as soon as its words are heard, while the transcript is
/// being stored: `turn_transcribe` starts it, and `agent_reply`, handed the turn on, takes it
/// rather than answering again. Only for the very turn and words it was started with.
#[derive(Clone, Debug)]
pub struct AnswerAhead {
    turn: i64,
    heard: String,
    answer: Ahead<Result<Answered, CoreError>>,
}

impl AnswerAhead {
    /// Starts answering `heard`, a turn of `call` whose input is what was heard, from the
    /// `inputs` read ahead.
    pub fn start(
        app: &App,
        call: &call::Model,
        heard: turn::Model,
        inputs: InputsAhead,
        now: DateTime<Utc>,
    ) -> Self {
        let (app, call) = (app.clone(), call.clone());
        let (turn, words) = (heard.id, heard.input.clone());
        let answer =
            Ahead::start(async move { answer_turn(&app, &call, &heard, Some(inputs), now).await });
        AnswerAhead {
            turn,
            heard: words,
            answer,
        }
    }

    /// The answer worked out ahead for `turn` as it is now (same turn, same words), once.
    pub async fn take_for(&self, turn: &turn::Model) -> Option<Result<Answered, CoreError>> {
        if turn.id != self.turn || turn.input != self.heard {
            return None;
        }
        self.answer.take().await
    }

    /// The answer, once, if it is worked out within `wait`; else `None`, and it stays to be
    /// taken by [`AnswerAhead::take_for`].
    pub async fn ready_within(&self, wait: Duration) -> Option<Result<Answered, CoreError>> {
        self.answer.take_within(wait).await
    }
}

/// The answer to `turn` of `call` and the conversation's memory after it, from the inputs read
/// `ahead` when there are some, else read now. The brain may record what it learns on the way
/// (a failed proof of identity, a refused store token), even for an answer worked out ahead
/// that is then not used.
pub async fn answer_turn(
    app: &App,
    call: &call::Model,
    turn: &turn::Model,
    ahead: Option<InputsAhead>,
    now: DateTime<Utc>,
) -> Result<Answered, CoreError> {
    let tenant = TenantId(call.tenant_id);
    let queued_ms = (now - turn.created_at).num_milliseconds().max(0);
    let started = Instant::now();
    let read_ahead = match ahead {
        Some(InputsAhead(inputs)) => inputs.take().await,
        None => None,
    };
    let inputs = match read_ahead {
        Some(inputs) => inputs?,
        None => AnswerInputs::read(app, call).await?,
    };
    let AnswerInputs {
        mut memory,
        client,
        profile,
        brain,
    } = inputs;
    let store: Option<&dyn StoreData> = client.as_ref().map(|c| c as &dyn StoreData);
    let guard = DbProofGuard {
        db: app.db.clone(),
        tenant,
        call: CallId(call.id),
        now,
    };
    let mut tools = Toolbox::new(store, profile.as_ref(), now).with_guard(&guard);
    let mut working = memory.clone();
    let thinking = async {
        match &brain {
            Ok(brain) => brain.answer(&turn.input, &mut working, &mut tools).await,
            Err(refused) => {
                tracing::warn!(error = %refused, "the language model is not usable");
                Err(BrainError::Model(refused.reason().into()))
            }
        }
    };
    let thinking_from = Instant::now();
    let thought = tokio::time::timeout(app.settings.agent_timeout, thinking).await;
    // The brain's own time (model or rules, with its Shopify calls), in microseconds: what a
    // turn spends outside the pipeline.
    let brain_us = thinking_from.elapsed().as_micros() as u64;
    let (answer, error) = match thought {
        Ok(Ok(answer)) => {
            working.remember(&turn.input, &answer.reply);
            memory = working;
            (answer, None)
        }
        Ok(Err(err)) => (fallback(), Some(err.to_string())),
        Err(_) => (
            fallback(),
            Some(format!(
                "the agent did not answer within {}s",
                app.settings.agent_timeout.as_secs()
            )),
        ),
    };
    let failed = error.is_some();
    let mut answer = answer;
    if let Some(failure) = &tools.store_error
        && shopify::note_failure(&app.db, tenant, failure, now).await?
    {
        answer.handoff = true;
    }
    let store_ms = tools.store_time.as_millis() as u64;
    let total_ms = started.elapsed().as_millis() as u64;
    let latency = json!({"queue": queued_ms, "shopify": store_ms,
        "agent": total_ms.saturating_sub(store_ms), "total": queued_ms as u64 + total_ms,
        "brain_us": brain_us});
    let answer = TurnAnswer {
        reply: answer.reply,
        intent: answer.intent.label().into(),
        agent: answer.agent.label().into(),
        confidence: f64::from(answer.confidence),
        verified: memory.is_verified(),
        handoff: answer.handoff,
        tool_calls: tools.calls,
        latency,
        error,
        // A request made by a brain that then failed was never confirmed to the caller.
        tasks: if failed { Vec::new() } else { tools.tasks },
        redacting: profile::redacts(profile.as_ref()),
    };
    Ok((answer, memory))
}
