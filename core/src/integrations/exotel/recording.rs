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
        /// Its content type, from its first bytes (never the host's word for it).
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
    let url = egress.check_tenant_url(hosts, raw_url).map_err(refused)?;
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
    egress
        .check_length(response.content_length())
        .map_err(refused)?;
    let spooled = SpooledFile::new()?;
    let mut file = tokio::fs::File::create(spooled.path()).await?;
    let mut received = 0u64;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ExotelError::request(WHAT, e))?
    {
        received += chunk.len() as u64;
        egress.check_received(received).map_err(refused)?;
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    let content_type = sniff_audio(&head).ok_or(ExotelError::NotAudio)?;
    Ok(Download::Saved {
        file: spooled,
        content_type: content_type.to_string(),
    })
}

/// Bytes enough to tell the audio formats apart.
const SNIFF_BYTES: usize = 16;

/// The audio type a file's first bytes say it is, if any Caly serves: MP3 (an ID3 tag or an
/// MPEG audio frame), WAV, Ogg, FLAC or MP4 audio (M4A).
pub fn sniff_audio(head: &[u8]) -> Option<&'static str> {
    match head {
        [b'I', b'D', b'3', ..] => Some("audio/mpeg"),
        [0xff, second, ..] if second & 0xe0 == 0xe0 => Some("audio/mpeg"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'A',
            b'V',
            b'E',
            ..,
        ] => Some("audio/wav"),
        [b'O', b'g', b'g', b'S', ..] => Some("audio/ogg"),
        [b'f', b'L', b'a', b'C', ..] => Some("audio/flac"),
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..]
            if AUDIO_BRANDS.iter().any(|b| brand.starts_with(b)) =>
        {
            Some("audio/mp4")
        }
        _ => None,
    }
}

/// MP4 brands an audio file carries (a HEIC picture or another MP4 kind is not audio).
const AUDIO_BRANDS: [&[u8]; 6] = [b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"dash"];

#[cfg(test)]
mod tests {
    use super::sniff_audio;

    #[test]
    fn only_audio_is_recognised() {
        assert_eq!(sniff_audio(b"ID3\x03\x00rest"), Some("audio/mpeg"));
        assert_eq!(sniff_audio(&[0xff, 0xfb, 0x90, 0x00]), Some("audio/mpeg"));
        assert_eq!(
            sniff_audio(b"RIFF\x24\x00\x00\x00WAVEfmt "),
            Some("audio/wav")
        );
        assert_eq!(sniff_audio(b"OggS\x00\x02"), Some("audio/ogg"));
        assert_eq!(sniff_audio(b"\x00\x00\x00\x20ftypM4A "), Some("audio/mp4"));
        for not_audio in [
            &b"<html><script>alert(1)</script>"[..],
            b"%PDF-1.7",
            b"",
            b"GIF89a",
            b"\x00\x00\x00\x18ftypheic",
        ] {
            assert_eq!(sniff_audio(not_audio), None);
        }
    }
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
