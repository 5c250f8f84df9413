//! The object store for recordings (and later backups): a local folder or an S3-compatible
//! bucket. Objects are written from files and read back as streams.

mod local;
mod s3;

pub use local::LocalStore;
pub use s3::S3Store;

use crate::platform::crypto::MasterKey;
use crate::platform::settings::StorageSettings;
use chrono::{DateTime, Utc};
use std::path::Path;
use std::time::Duration;

/// How a linked object is served: as a download when opened directly (an `<audio>` element
/// plays it all the same), so nothing stored can render as a page on Caly's origin.
pub const ATTACHMENT: &str = "attachment; filename=\"recording\"";
/// Linked objects are private and never cached.
pub const NO_STORE: &str = "private, no-store";

/// Why the object store failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An object key with empty, `.` or `..` parts.
    #[error("the object key '{0}' is not valid")]
    BadKey(String),
    /// No object under that key.
    #[error("no object '{0}'")]
    NotFound(String),
    /// An S3 request failed.
    #[error("S3 {operation} failed: {detail}")]
    S3 {
        /// What Caly asked S3 to do.
        operation: &'static str,
        /// The SDK's account of the failure.
        detail: String,
    },
    /// A local file could not be read or written.
    #[error("object store i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// An object being read back, as a stream of bytes.
pub type ObjectReader = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// Where objects live.
#[derive(Clone, Debug)]
pub enum ObjectStore {
    /// A folder on this machine; links are signed by Caly and served by the api.
    Local(LocalStore),
    /// An S3-compatible bucket; links are S3 presigned URLs.
    S3(S3Store),
}

impl ObjectStore {
    /// Opens the store described by the settings (creating the folder or bucket if missing).
    pub async fn open(
        settings: &StorageSettings,
        key: MasterKey,
        public_base: String,
    ) -> Result<Self, StorageError> {
        Ok(match settings {
            StorageSettings::Local { root } => {
                ObjectStore::Local(LocalStore::open(root.clone(), key, public_base).await?)
            }
            StorageSettings::S3(s3) => ObjectStore::S3(S3Store::open(s3).await?),
        })
    }

    /// Stores a file under `key`, replacing any object already there. Returns its size.
    pub async fn put_file(
        &self,
        key: &str,
        file: &Path,
        content_type: &str,
    ) -> Result<u64, StorageError> {
        match self {
            ObjectStore::Local(store) => store.put_file(key, file).await,
            ObjectStore::S3(store) => store.put_file(key, file, content_type).await,
        }
    }

    /// Stores `bytes` under `key` (through a temporary file), replacing any object there.
    pub async fn put_bytes(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<u64, StorageError> {
        let temp = std::env::temp_dir().join(format!("caly-{}.tmp", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&temp, bytes).await?;
        let stored = self.put_file(key, &temp, content_type).await;
        let _ = tokio::fs::remove_file(&temp).await;
        stored
    }

    /// Streams the object under `key` back (for stages that read recordings).
    pub async fn open_read(&self, key: &str) -> Result<ObjectReader, StorageError> {
        match self {
            ObjectStore::Local(store) => store.open_read(key).await,
            ObjectStore::S3(store) => store.open_read(key).await,
        }
    }

    /// Reads the whole object under `key` (for small objects; stream large ones with
    /// [`ObjectStore::open_read`]).
    pub async fn read_all(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        use tokio::io::AsyncReadExt;
        let mut reader = self.open_read(key).await?;
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await?;
        Ok(bytes)
    }

    /// True when an object exists under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self {
            ObjectStore::Local(store) => store.exists(key).await,
            ObjectStore::S3(store) => store.exists(key).await,
        }
    }

    /// A link that lets a browser GET the object until `now + ttl`.
    pub async fn signed_url(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<String, StorageError> {
        match self {
            ObjectStore::Local(store) => Ok(store.signed_url(key, content_type, ttl, now)),
            ObjectStore::S3(store) => store.signed_url(key, ttl, now).await,
        }
    }

    /// Checks the store is reachable (for `/readyz`).
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            ObjectStore::Local(store) => store.check().await,
            ObjectStore::S3(store) => store.check().await,
        }
    }
}
