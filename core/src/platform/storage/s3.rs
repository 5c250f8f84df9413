//! An S3-compatible object store (AWS, Wasabi, MinIO, s3s-fs) with presigned links.

use super::StorageError;
use crate::platform::settings::S3Settings;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Builder, Credentials, Region};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// A bucket, with a second client whose endpoint is the public one used in presigned links.
#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    presign_client: Client,
    bucket: String,
}

fn client(settings: &S3Settings, endpoint: Option<&str>) -> Client {
    let creds = Credentials::new(
        settings.access_key_id.clone(),
        settings.secret_access_key.expose_secret().to_string(),
        None,
        None,
        "caly-settings",
    );
    let mut builder = Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .credentials_provider(creds)
        .force_path_style(settings.force_path_style)
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired);
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// Wraps an SDK error with the operation that failed.
fn s3_error(operation: &'static str, err: impl std::error::Error) -> StorageError {
    StorageError::S3 {
        operation,
        detail: DisplayErrorContext(err).to_string(),
    }
}

impl S3Store {
    /// Connects and makes sure the bucket exists.
    pub async fn open(settings: &S3Settings) -> Result<Self, StorageError> {
        let store = S3Store {
            client: client(settings, settings.endpoint.as_deref()),
            presign_client: client(
                settings,
                settings
                    .public_endpoint
                    .as_deref()
                    .or(settings.endpoint.as_deref()),
            ),
            bucket: settings.bucket.clone(),
        };
        store.ensure_bucket().await?;
        Ok(store)
    }

    async fn ensure_bucket(&self) -> Result<(), StorageError> {
        if self.check().await.is_ok() {
            return Ok(());
        }
        match self
            .client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => {
                let owned = err.as_service_error().is_some_and(|e| {
                    e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
                });
                if owned {
                    Ok(())
                } else {
                    Err(s3_error("create bucket", err))
                }
            }
        }
    }

    pub(super) async fn put_file(
        &self,
        key: &str,
        file: &Path,
        content_type: &str,
    ) -> Result<u64, StorageError> {
        let size = tokio::fs::metadata(file).await?.len();
        let body = ByteStream::from_path(file)
            .await
            .map_err(|e| s3_error("read upload", e))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(size as i64)
            .body(body)
            .send()
            .await
            .map_err(|e| s3_error("put object", e))?;
        Ok(size)
    }

    pub(super) async fn open_read(&self, key: &str) -> Result<super::ObjectReader, StorageError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(object) => Ok(Box::pin(object.body.into_async_read())),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(err) => Err(s3_error("get object", err)),
        }
    }

    pub(super) async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
            Err(err) => Err(s3_error("head object", err)),
        }
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| s3_error("head bucket", e))?;
        Ok(())
    }

    pub(super) async fn signed_url(
        &self,
        key: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<String, StorageError> {
        let start = SystemTime::from(now);
        let config = PresigningConfig::builder()
            .start_time(start)
            .expires_in(ttl)
            .build()
            .map_err(|e| s3_error("presigning config", e))?;
        let request = self
            .presign_client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            // Opened directly, a link downloads rather than renders, and no cache keeps it.
            .response_content_disposition(super::ATTACHMENT)
            .response_cache_control(super::NO_STORE)
            .presigned(config)
            .await
            .map_err(|e| s3_error("presign", e))?;
        Ok(request.uri().to_string())
    }
}
