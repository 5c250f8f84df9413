//! `recording_upload`: fetches the call's private Exotel recording with the tenant's Basic auth
//! (allowed hosts only), streams it to a temporary file, and stores it under a tenant/call key.
//! One object per (call, source): the key is fixed, and the row has a unique constraint.

use super::{StageError, StageOutcome};
use caly_core::App;
use caly_core::tenants::exotel_credentials;
use caly_entities::{recording, stage_run};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use tokio::io::AsyncWriteExt;

/// The only source so far: Exotel's call recording.
pub const SOURCE: &str = "exotel";

/// Runs the stage.
pub async fn run(
    app: &App,
    run: &stage_run::Model,
    now: DateTime<Utc>,
) -> Result<StageOutcome, StageError> {
    let call = super::load_call(app, run).await?;
    let stored = recording::Entity::find()
        .filter(recording::Column::CallId.eq(call.id))
        .filter(recording::Column::Source.eq(SOURCE))
        .one(&app.db)
        .await?;
    if stored.is_some() {
        return Ok(StageOutcome::note(
            Some(call.id),
            "recording already stored",
        ));
    }
    let Some(url) = call.recording_url.as_deref() else {
        return Ok(StageOutcome::note(Some(call.id), "call has no recording"));
    };
    let url = allowed_url(url, &app.settings.recording_hosts)?;
    let tenant = super::load_tenant(app, run).await?;
    let creds = exotel_credentials(&app.key, &tenant)?;

    let mut response = app
        .http
        .get(url.clone())
        .basic_auth(&creds.key, Some(&creds.token))
        .send()
        .await
        .map_err(|e| {
            StageError::Transient(format!("recording fetch failed: {}", e.without_url()))
        })?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        // Exotel publishes recordings minutes after hang-up (up to 15 at peak): keep asking
        // within the reconcile window, then fail visibly.
        let reason = format!("recording host answered {}", response.status());
        let window = chrono::Duration::from_std(app.settings.reconcile.window).unwrap_or_default();
        if now > run.created_at + window {
            return Err(StageError::Permanent(format!("{reason}; gave up")));
        }
        let wait = app
            .settings
            .retry
            .backoff(run.attempts)
            .min(std::time::Duration::from_secs(60));
        return Err(StageError::RetryAfter(wait, reason));
    }
    if !response.status().is_success() {
        return Err(StageError::Transient(format!(
            "recording host answered {}",
            response.status()
        )));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "audio/mpeg".to_string());

    let temp = TempFile::new()?;
    let mut file = tokio::fs::File::create(&temp.0)
        .await
        .map_err(|e| StageError::Transient(format!("temporary file: {e}")))?;
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        StageError::Transient(format!("recording download broke off: {}", e.without_url()))
    })? {
        file.write_all(&chunk)
            .await
            .map_err(|e| StageError::Transient(format!("temporary file: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| StageError::Transient(format!("temporary file: {e}")))?;
    drop(file);

    let key = format!(
        "tenants/{}/calls/{}/{SOURCE}.{}",
        call.tenant_id,
        call.id,
        extension(&content_type)
    );
    let size = app.store.put_file(&key, &temp.0, &content_type).await?;
    recording::Entity::insert(recording::ActiveModel {
        tenant_id: Set(call.tenant_id),
        call_id: Set(call.id),
        source: Set(SOURCE.to_string()),
        object_key: Set(key),
        content_type: Set(content_type),
        size_bytes: Set(size as i64),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([recording::Column::CallId, recording::Column::Source])
    .exec_without_returning(&app.db)
    .await?;
    Ok(StageOutcome::note(
        Some(call.id),
        format!("stored {size} bytes"),
    ))
}

/// Parses the URL and checks its scheme and host against the allow-list.
fn allowed_url(raw: &str, hosts: &[String]) -> Result<url::Url, StageError> {
    let url = url::Url::parse(raw)
        .map_err(|_| StageError::Permanent("the recording URL is not a valid URL".into()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(StageError::Permanent(
            "the recording URL is not http(s)".into(),
        ));
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if hosts.contains(&host) {
        Ok(url)
    } else {
        Err(StageError::Permanent(format!(
            "recording host '{host}' is not allowed (CALY_RECORDING_HOSTS)"
        )))
    }
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/ogg" => "ogg",
        _ => "bin",
    }
}

/// A temporary download file, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new() -> Result<Self, StageError> {
        let dir = std::env::temp_dir().join("caly-downloads");
        std::fs::create_dir_all(&dir)
            .map_err(|e| StageError::Transient(format!("temporary folder: {e}")))?;
        Ok(TempFile(dir.join(uuid::Uuid::new_v4().to_string())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_hosts_pass() {
        let hosts = vec!["recordings.exotel.com".to_string()];
        assert!(allowed_url("https://recordings.exotel.com/x/y.mp3", &hosts).is_ok());
        assert!(allowed_url("https://evil.example/x.mp3", &hosts).is_err());
        assert!(allowed_url("file:///etc/passwd", &hosts).is_err());
        assert!(allowed_url("not a url", &hosts).is_err());
    }
}
