//! Where a call's recordings are kept: one object per (call, source) under a fixed key, so a
//! repeated upload replaces the same object and the row's unique constraint keeps one row.

use crate::CoreError;
use caly_entities::recording;
use caly_jobs::{CallId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// Where a recording came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingSource {
    /// Exotel's call recording.
    Exotel,
    /// Caly's own two-channel recording of the voicebot leg (agent left, caller right).
    Caly,
}

impl RecordingSource {
    /// The stored name (also the object's file name).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingSource::Exotel => "exotel",
            RecordingSource::Caly => "caly",
        }
    }
}

/// The object key: `tenants/{tenant}/calls/{call}/{source}.{ext}`.
pub fn object_key(
    tenant: TenantId,
    call: CallId,
    source: RecordingSource,
    content_type: &str,
) -> String {
    format!(
        "tenants/{tenant}/calls/{call}/{}.{}",
        source.as_str(),
        extension(content_type)
    )
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/ogg" => "ogg",
        _ => "bin",
    }
}

/// The call's recording from `source`, if stored.
pub async fn find(
    db: &impl ConnectionTrait,
    call: CallId,
    source: RecordingSource,
) -> Result<Option<recording::Model>, CoreError> {
    Ok(recording::Entity::find()
        .filter(recording::Column::CallId.eq(call.0))
        .filter(recording::Column::Source.eq(source.as_str()))
        .one(db)
        .await?)
}

/// True when the call's recording from `source` is already stored.
pub async fn is_stored(
    db: &impl ConnectionTrait,
    call: CallId,
    source: RecordingSource,
) -> Result<bool, CoreError> {
    Ok(find(db, call, source).await?.is_some())
}

/// A stored object, about to be recorded.
#[derive(Debug, Clone)]
pub struct StoredRecording {
    /// Owning tenant.
    pub tenant: TenantId,
    /// The call.
    pub call: CallId,
    /// Where it came from.
    pub source: RecordingSource,
    /// The object key.
    pub object_key: String,
    /// Its content type.
    pub content_type: String,
    /// Its size.
    pub size_bytes: u64,
}

/// Records a stored object (once per call and source; a repeat changes nothing).
pub async fn record(
    db: &impl ConnectionTrait,
    stored: StoredRecording,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    recording::Entity::insert(recording::ActiveModel {
        tenant_id: Set(stored.tenant.0),
        call_id: Set(stored.call.0),
        source: Set(stored.source.as_str().to_string()),
        object_key: Set(stored.object_key),
        content_type: Set(stored.content_type),
        size_bytes: Set(i64::try_from(stored.size_bytes).unwrap_or(i64::MAX)),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([recording::Column::CallId, recording::Column::Source])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fixed_per_call_and_source() {
        let key = object_key(TenantId(3), CallId(7), RecordingSource::Exotel, "audio/wav");
        assert_eq!(key, "tenants/3/calls/7/exotel.wav");
        let odd = object_key(TenantId(3), CallId(7), RecordingSource::Exotel, "text/html");
        assert_eq!(odd, "tenants/3/calls/7/exotel.bin");
    }
}
