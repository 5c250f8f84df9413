//! A voice turn's audio while the call is live: the caller's utterance, put in scratch by the
//! socket node for `turn_transcribe`, and the reply `speak` synthesises part by part for the
//! socket node to play. Scratch keeps working copies; the call's recording keeps what was said,
//! and the post-call `transcribe` forgets these once it has run.

use crate::integrations::speech::{Audio, Encoding};
use crate::platform::scratch::Scratch;
use crate::{App, CoreError, Rejection};
use caly_entities::turn;
use caly_jobs::{CallId, TenantId};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

/// Where a voice turn's utterance waits in scratch (one field, [`UTTERANCE`]): by the call and
/// the turn's number, which the socket knows before the turn's row exists.
pub fn utterance_key(call: i64, seq: i32) -> String {
    format!("call-audio:{call}:{seq}:caller")
}

/// Where a turn's reply waits in scratch: one field per part, numbered so they sort in order.
fn reply_key(turn: i64) -> String {
    format!("turn-audio:{turn}:reply")
}

const UTTERANCE: &str = "utterance";

/// Audio as scratch keeps it: the sample rate (4 bytes, little-endian), then PCM16.
fn pack(samples: &[i16], rate: u32) -> Vec<u8> {
    let mut bytes = rate.to_le_bytes().to_vec();
    bytes.extend(Encoding::Pcm16.encode(samples));
    bytes
}

fn unpack(bytes: &[u8]) -> Option<(Vec<i16>, u32)> {
    let rate = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    Some((Encoding::Pcm16.decode(&bytes[4..]), rate))
}

/// The caller's utterance of a voice turn.
pub async fn caller_audio(scratch: &Scratch, turn: &turn::Model) -> Result<Audio, CoreError> {
    utterance_at(scratch, &utterance_key(turn.call_id, turn.seq))
        .await?
        .ok_or(Rejection::InvalidTurn("the voice turn has no audio".into()).into())
}

/// The utterance stored under `key` ([`utterance_key`]), if there is one.
pub async fn utterance_at(scratch: &Scratch, key: &str) -> Result<Option<Audio>, CoreError> {
    let stored = scratch.get(key, UTTERANCE).await?;
    Ok(stored
        .as_deref()
        .and_then(unpack)
        .map(|(samples, rate)| Audio::new(samples, rate)))
}

/// Stores `samples` at `rate` as the utterance of the call's turn number `seq`.
pub async fn put_utterance(
    scratch: &Scratch,
    call: i64,
    seq: i32,
    samples: &[i16],
    rate: u32,
) -> Result<(), CoreError> {
    let packed = pack(samples, rate);
    scratch
        .put(&utterance_key(call, seq), UTTERANCE, &packed)
        .await?;
    Ok(())
}

/// Stores one synthesised part of a reply (a redelivered `speak` overwrites it with the same)
/// and, at the same time, tells the call's socket node, the notice carrying the part: the
/// socket plays it without reading it back, and reads scratch only for a part whose notice it
/// missed.
pub async fn store_reply_part(
    app: &App,
    turn: &turn::Model,
    part: i32,
    samples: &[i16],
    rate: u32,
) -> Result<(), CoreError> {
    let packed = pack(samples, rate);
    let mut notice = Vec::with_capacity(REPLY_PART_HEADER + packed.len());
    notice.push(REPLY_PART_TAG);
    notice.extend(turn.id.to_le_bytes());
    notice.extend(part.to_le_bytes());
    notice.extend(&packed);
    let (key, field) = (reply_key(turn.id), format!("{part:05}"));
    let channel = super::voice::handback_key(turn.call_id);
    let stored = app.scratch.put(&key, &field, &packed);
    let told = app.handback.notify_with(&channel, &notice);
    let (stored, ()) = tokio::join!(stored, told);
    stored?;
    Ok(())
}

/// A hand-back notice's first byte when it carries a reply part.
const REPLY_PART_TAG: u8 = b'P';
/// The tag, the turn's id (8 bytes) and the part's number (4 bytes), little-endian.
const REPLY_PART_HEADER: usize = 1 + 8 + 4;

/// The reply part a hand-back notice carries (from [`store_reply_part`]): the turn, the
/// part's number and its samples; `None` for any other notice.
pub fn carried_reply_part(notice: &[u8]) -> Option<(i64, i32, Vec<i16>)> {
    let (&tag, rest) = notice.split_first()?;
    if tag != REPLY_PART_TAG {
        return None;
    }
    let turn = i64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
    let part = i32::from_le_bytes(rest.get(8..12)?.try_into().ok()?);
    Some((turn, part, unpack(rest.get(12..)?)?.0))
}

/// The reply parts from `from` on, in order.
pub async fn reply_parts(
    scratch: &Scratch,
    turn: i64,
    from: i32,
) -> Result<Vec<(i32, Vec<i16>)>, CoreError> {
    let fields = scratch.fields(&reply_key(turn)).await?;
    Ok(fields
        .into_iter()
        .filter_map(|(name, bytes)| {
            let part: i32 = name.parse().ok().filter(|part| *part >= from)?;
            Some((part, unpack(&bytes)?.0))
        })
        .collect())
}

/// Forgets the call's per-turn audio (the working copies the live stages passed around); the
/// recordings keep what was said. Returns how many pieces (utterances, replies) were kept.
pub async fn forget_turn_audio(
    db: &impl ConnectionTrait,
    scratch: &Scratch,
    tenant: TenantId,
    call: CallId,
) -> Result<u64, CoreError> {
    let turns: Vec<(i64, i32)> = turn::Entity::find()
        .select_only()
        .column(turn::Column::Id)
        .column(turn::Column::Seq)
        .filter(turn::Column::TenantId.eq(tenant.0))
        .filter(turn::Column::CallId.eq(call.0))
        .into_tuple()
        .all(db)
        .await?;
    let keys: Vec<String> = turns
        .into_iter()
        .flat_map(|(turn, seq)| [utterance_key(call.0, seq), reply_key(turn)])
        .collect();
    Ok(scratch.forget(&keys).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_part_notice_carries_its_turn_part_and_samples() {
        let samples = vec![0i16, 1, -1, i16::MAX, i16::MIN];
        let packed = pack(&samples, 8000);
        let mut notice = vec![REPLY_PART_TAG];
        notice.extend(42i64.to_le_bytes());
        notice.extend(3i32.to_le_bytes());
        notice.extend(&packed);
        assert_eq!(carried_reply_part(&notice), Some((42, 3, samples)));
        assert_eq!(carried_reply_part(b"!"), None);
        assert_eq!(carried_reply_part(&notice[..10]), None);
        assert_eq!(unpack(&packed).map(|(_, rate)| rate), Some(8000));
    }
}
