//! A local-folder object store with HMAC-signed, expiring links served by the api.

use super::StorageError;
use crate::platform::crypto::{MasterKey, constant_time_eq};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LINK_PURPOSE: &str = "local-object-link";

/// Objects as files under a root folder.
#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
    key: MasterKey,
    public_base: String,
}

/// A verified request for a local object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalObject {
    /// Path of the file.
    pub path: PathBuf,
    /// Content type to serve it with.
    pub content_type: String,
}

impl LocalStore {
    /// Opens (and creates) the root folder.
    pub async fn open(
        root: PathBuf,
        key: MasterKey,
        public_base: String,
    ) -> Result<Self, StorageError> {
        tokio::fs::create_dir_all(&root).await?;
        Ok(LocalStore {
            root,
            key,
            public_base,
        })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StorageError> {
        let safe = !key.is_empty()
            && key
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if safe {
            Ok(self.root.join(key))
        } else {
            Err(StorageError::BadKey(key.to_string()))
        }
    }

    pub(super) async fn put_file(&self, key: &str, file: &Path) -> Result<u64, StorageError> {
        let target = self.path_of(key)?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Copy to a temporary name, then rename: readers never see half an object.
        let partial = target.with_extension("partial");
        let size = tokio::fs::copy(file, &partial).await?;
        tokio::fs::rename(&partial, &target).await?;
        Ok(size)
    }

    pub(super) async fn open_read(&self, key: &str) -> Result<super::ObjectReader, StorageError> {
        match tokio::fs::File::open(self.path_of(key)?).await {
            Ok(file) => Ok(Box::pin(file)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(err) => Err(err.into()),
        }
    }

    pub(super) async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        Ok(tokio::fs::try_exists(self.path_of(key)?).await?)
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        tokio::fs::metadata(&self.root).await?;
        Ok(())
    }

    fn signature(&self, key: &str, content_type: &str, expires: i64) -> String {
        self.key
            .sign(LINK_PURPOSE, &format!("{key}\n{content_type}\n{expires}"))
    }

    pub(super) fn signed_url(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> String {
        let expires = now.timestamp() + ttl.as_secs() as i64;
        let sig = self.signature(key, content_type, expires);
        let query = serde_urlencoded::to_string([
            ("ct", content_type),
            ("expires", &expires.to_string()),
            ("sig", &sig),
        ])
        .expect("strings always encode");
        format!("{}/objects/{key}?{query}", self.public_base)
    }

    /// Checks a link's signature and expiry; `None` when it is tampered with or expired.
    pub fn verify(
        &self,
        key: &str,
        content_type: &str,
        expires: i64,
        sig: &str,
        now: DateTime<Utc>,
    ) -> Option<LocalObject> {
        let valid = constant_time_eq(&self.signature(key, content_type, expires), sig)
            && now.timestamp() <= expires;
        if !valid {
            return None;
        }
        Some(LocalObject {
            path: self.path_of(key).ok()?,
            content_type: content_type.to_string(),
        })
    }
}
