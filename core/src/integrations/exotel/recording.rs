//! Fetching a call's private recording from Exotel with the tenant's Basic auth, streamed to a
//! temporary file so a long recording is never held in memory.

use super::ExotelError;
use crate::platform::egress::{AllowList, EgressError, EgressSettings};
use crate::tenancy::ExotelCredentials;
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

const WHAT: &str = "recording host";

/// What the recording host gave.
#[derive(Debug)]
pub enum Download {
    /// The whole recording, in a temporary file.
    Saved {
        /// The file (removed when dropped).
        file: SpooledFile,
        /// Its content type (`audio/mpeg` when the host did not say).
        content_type: String,
    },
    /// 404: Exotel publishes recordings minutes after hang-up (up to 15 at peak).
    NotPublishedYet,
}

fn refused(source: EgressError) -> ExotelError {
    ExotelError::Refused {
        what: "recording URL",
        source,
    }
}

/// Downloads `raw_url` when the outbound policy and the recording allow-list let it, within
/// the size cap.
pub async fn download(
    http: &reqwest::Client,
    egress: &EgressSettings,
    hosts: &AllowList,
    raw_url: &str,
    creds: &ExotelCredentials,
) -> Result<Download, ExotelError> {
    let url = egress.check(hosts, raw_url).map_err(refused)?;
    let mut response = http
        .get(url)
        .basic_auth(creds.key.expose_secret(), Some(creds.token.expose_secret()))
        .send()
        .await
        .map_err(|e| ExotelError::request(WHAT, e))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(Download::NotPublishedYet);
    }
    if !status.is_success() {
        return Err(ExotelError::Status { what: WHAT, status });
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "audio/mpeg".to_string());
    egress
        .check_length(response.content_length())
        .map_err(refused)?;
    let spooled = SpooledFile::new()?;
    let mut file = tokio::fs::File::create(spooled.path()).await?;
    let mut received = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ExotelError::request(WHAT, e))?
    {
        received += chunk.len() as u64;
        egress.check_received(received).map_err(refused)?;
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(Download::Saved {
        file: spooled,
        content_type,
    })
}

/// A temporary download file, removed when dropped.
#[derive(Debug)]
pub struct SpooledFile(PathBuf);

impl SpooledFile {
    fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join("caly-downloads");
        std::fs::create_dir_all(&dir)?;
        Ok(SpooledFile(dir.join(uuid::Uuid::new_v4().to_string())))
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
