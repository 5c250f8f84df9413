//! A call's post-call transcript: each stored recording cut into timed pieces of speech per
//! channel, transcribed, tagged by speaker and kept as one transcript per (call, source), each
//! on its recording's own timeline. Reading a call's transcript places them on one timeline:
//! Caly's recording is the bot leg from the start; Exotel's follows it (the human leg of the
//! Voicebot → Passthru → Connect flow), or covers the whole call when it is as long as the call,
//! in which case its bot-leg part gives way to Caly's, which knows who spoke.
//!
//! Speakers: `bot` (Caly's agent), `caller`, `agent` (a person, on Exotel's dual-channel WAV,
//! left channel) and `mixed` (both sides of Exotel's mono recording).

pub mod chunks;
pub mod decode;
pub mod redact;

use super::recordings::RecordingSource;
use crate::CoreError;
use crate::agent::conversation::Conversation;
use caly_entities::{conversation, transcript, turn};
use caly_jobs::{CallId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

/// Who is speaking in a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// Caly's AI agent.
    Bot,
    /// The shopper who called.
    Caller,
    /// A person of the store's team.
    Agent,
    /// Both sides on one channel (Exotel's mono recording).
    Mixed,
}

/// One timed piece of what was said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Where it starts, from the start of the call's recording.
    pub start_ms: u64,
    /// Where it ends.
    pub end_ms: u64,
    /// Who said it.
    pub speaker: Speaker,
    /// What was said (redacted unless the store keeps the text).
    pub text: String,
}

/// Who speaks on each channel of a recording from `source` with `channels` channels; a
/// recording read as one mixed channel gets one entry.
pub fn speakers(source: RecordingSource, channels: usize) -> Vec<Speaker> {
    match (source, channels) {
        // Caly's own: agent left, caller right.
        (RecordingSource::Caly, 2) => vec![Speaker::Bot, Speaker::Caller],
        (RecordingSource::Caly, _) => vec![Speaker::Mixed],
        // Exotel's dual-channel WAV: left agent, right customer (specs/exotel.md (d)).
        (RecordingSource::Exotel, 2) => vec![Speaker::Agent, Speaker::Caller],
        (RecordingSource::Exotel, _) => vec![Speaker::Mixed],
    }
}

/// A transcript about to be stored.
#[derive(Debug, Clone)]
pub struct NewTranscript {
    /// Owning tenant.
    pub tenant: TenantId,
    /// The call.
    pub call: CallId,
    /// The recording it was made from.
    pub source: RecordingSource,
    /// The speech-to-text engine.
    pub engine: String,
    /// Whether its text was redacted.
    pub redacted: bool,
    /// The recording's length.
    pub duration_ms: u64,
    /// Its segments, in time order.
    pub segments: Vec<Segment>,
}

/// Stores (or replaces) the transcript of one (call, source).
pub async fn store(
    db: &impl ConnectionTrait,
    new: NewTranscript,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let segments = serde_json::to_string(&new.segments).unwrap_or_else(|_| "[]".into());
    transcript::Entity::insert(transcript::ActiveModel {
        tenant_id: Set(new.tenant.0),
        call_id: Set(new.call.0),
        source: Set(new.source.as_str().into()),
        engine: Set(new.engine),
        redacted: Set(new.redacted),
        duration_ms: Set(i64::try_from(new.duration_ms).unwrap_or(i64::MAX)),
        segments: Set(segments),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([transcript::Column::CallId, transcript::Column::Source])
            .update_columns([
                transcript::Column::Engine,
                transcript::Column::Redacted,
                transcript::Column::DurationMs,
                transcript::Column::Segments,
                transcript::Column::CreatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A segment as the API shows it: where it came from, on the call's one timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentView {
    /// Where it starts, from the start of the call.
    pub start_ms: u64,
    /// Where it ends.
    pub end_ms: u64,
    /// `bot`, `caller`, `agent` or `mixed`.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
    /// The recording it came from: `caly` or `exotel`.
    pub source: &'static str,
}

/// A call's transcript as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TranscriptView {
    /// Every segment, in time order (empty until the post-call `transcribe` has run).
    pub segments: Vec<SegmentView>,
    /// Whether any of it was redacted.
    pub redacted: bool,
}

/// One source's transcript: its recording's length and its segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    /// The recording's length.
    pub duration_ms: u64,
    /// Its segments on its own timeline.
    pub segments: Vec<Segment>,
}

/// Slack when judging whether Exotel's recording covers the whole call.
const WHOLE_CALL_SLACK_MS: u64 = 2_000;

/// Places the transcripts of Caly's and Exotel's recordings on the call's timeline (see the
/// module's documentation). `call_ms` is the call's length when known.
pub fn place(caly: Option<&Leg>, exotel: Option<&Leg>, call_ms: Option<u64>) -> Vec<SegmentView> {
    let mut out = Vec::new();
    let view = |s: &Segment, offset: u64, source| SegmentView {
        start_ms: s.start_ms + offset,
        end_ms: s.end_ms + offset,
        speaker: s.speaker,
        text: s.text.clone(),
        source,
    };
    let bot_ms = caly.map_or(0, |c| c.duration_ms);
    if let Some(caly) = caly {
        out.extend(caly.segments.iter().map(|s| view(s, 0, "caly")));
    }
    if let Some(exotel) = exotel {
        let whole_call = caly.is_some()
            && call_ms.is_some_and(|call| exotel.duration_ms + bot_ms > call + WHOLE_CALL_SLACK_MS);
        if whole_call {
            let after_bot = exotel.segments.iter().filter(|s| s.start_ms >= bot_ms);
            out.extend(after_bot.map(|s| view(s, 0, "exotel")));
        } else {
            out.extend(exotel.segments.iter().map(|s| view(s, bot_ms, "exotel")));
        }
    }
    out.sort_by_key(|s| (s.start_ms, s.end_ms));
    out
}

/// The call's transcript on one timeline.
pub async fn transcript_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call: CallId,
    call_ms: Option<u64>,
) -> Result<TranscriptView, CoreError> {
    let rows = transcript::Entity::find()
        .filter(transcript::Column::TenantId.eq(tenant.0))
        .filter(transcript::Column::CallId.eq(call.0))
        .all(db)
        .await?;
    let leg_of = |source: RecordingSource| {
        rows.iter()
            .find(|r| r.source == source.as_str())
            .map(|r| Leg {
                duration_ms: u64::try_from(r.duration_ms).unwrap_or(0),
                segments: serde_json::from_str(&r.segments).unwrap_or_default(),
            })
    };
    let (caly, exotel) = (
        leg_of(RecordingSource::Caly),
        leg_of(RecordingSource::Exotel),
    );
    Ok(TranscriptView {
        segments: place(caly.as_ref(), exotel.as_ref(), call_ms),
        redacted: rows.iter().any(|r| r.redacted),
    })
}

/// Redacts the call's stored turn text and the conversation's remembered exchanges, once the
/// call is over (while it runs, the stages between the caller and the agent need the words).
pub async fn redact_turns(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call: CallId,
) -> Result<usize, CoreError> {
    let turns = turn::Entity::find()
        .filter(turn::Column::TenantId.eq(tenant.0))
        .filter(turn::Column::CallId.eq(call.0))
        .order_by_asc(turn::Column::Seq)
        .all(db)
        .await?;
    let mut changed = 0;
    for row in turns {
        let input = redact::redact(&row.input);
        let reply = row.reply.as_deref().map(redact::redact);
        if input == row.input && reply == row.reply {
            continue;
        }
        turn::Entity::update_many()
            .col_expr(turn::Column::Input, Expr::value(input))
            .col_expr(turn::Column::Reply, Expr::value(reply))
            .filter(turn::Column::Id.eq(row.id))
            .exec(db)
            .await?;
        changed += 1;
    }
    let memory = conversation::Entity::find_by_id(call.0)
        .filter(conversation::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?;
    if let Some(row) = memory
        && let Ok(mut remembered) = serde_json::from_str::<Conversation>(&row.memory)
    {
        for exchange in &mut remembered.history {
            exchange.caller = redact::redact(&exchange.caller);
            exchange.agent = redact::redact(&exchange.agent);
        }
        let text = serde_json::to_string(&remembered).unwrap_or_else(|_| row.memory.clone());
        if text != row.memory {
            conversation::Entity::update_many()
                .col_expr(conversation::Column::Memory, Expr::value(text))
                .filter(conversation::Column::CallId.eq(call.0))
                .exec(db)
                .await?;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start_ms: u64, end_ms: u64, speaker: Speaker, text: &str) -> Segment {
        Segment {
            start_ms,
            end_ms,
            speaker,
            text: text.into(),
        }
    }

    #[test]
    fn exotel_after_the_bot_leg_follows_it() {
        let caly = Leg {
            duration_ms: 30_000,
            segments: vec![
                seg(0, 3_000, Speaker::Bot, "Namaste"),
                seg(4_000, 6_000, Speaker::Caller, "a person please"),
            ],
        };
        let exotel = Leg {
            duration_ms: 20_000,
            segments: vec![seg(1_000, 5_000, Speaker::Mixed, "hello, Priya here")],
        };
        let placed = place(Some(&caly), Some(&exotel), Some(50_000));
        let starts: Vec<_> = placed.iter().map(|s| (s.start_ms, s.source)).collect();
        assert_eq!(
            starts,
            vec![(0, "caly"), (4_000, "caly"), (31_000, "exotel")]
        );
    }

    #[test]
    fn exotel_of_the_whole_call_gives_way_to_caly_on_the_bot_leg() {
        let caly = Leg {
            duration_ms: 30_000,
            segments: vec![seg(0, 3_000, Speaker::Bot, "Namaste")],
        };
        let exotel = Leg {
            duration_ms: 50_000,
            segments: vec![
                seg(0, 3_000, Speaker::Mixed, "Namaste"),
                seg(32_000, 35_000, Speaker::Mixed, "Priya here"),
            ],
        };
        let placed = place(Some(&caly), Some(&exotel), Some(50_000));
        let starts: Vec<_> = placed.iter().map(|s| (s.start_ms, s.source)).collect();
        assert_eq!(starts, vec![(0, "caly"), (32_000, "exotel")]);
    }

    #[test]
    fn exotel_alone_starts_at_zero_and_channels_name_speakers() {
        let exotel = Leg {
            duration_ms: 9_000,
            segments: vec![seg(500, 2_000, Speaker::Mixed, "hi")],
        };
        assert_eq!(place(None, Some(&exotel), None)[0].start_ms, 500);
        assert_eq!(
            speakers(RecordingSource::Caly, 2),
            vec![Speaker::Bot, Speaker::Caller]
        );
        assert_eq!(
            speakers(RecordingSource::Exotel, 2),
            vec![Speaker::Agent, Speaker::Caller]
        );
        assert_eq!(speakers(RecordingSource::Exotel, 1), vec![Speaker::Mixed]);
    }
}
