//! The client-credentials grant for Dev Dashboard apps owned by the store's organisation:
//! `POST https://{shop}/admin/oauth/access_token` with the app's client id and secret gives an
//! access token that lasts about 24 hours (`expires_in`), so Caly caches it and asks again
//! before it expires.

use super::{ShopifyError, ShopifyOrigin};
use crate::platform::egress::EgressSettings;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// A token from the grant.
#[derive(Debug)]
pub struct GrantedToken {
    /// The access token.
    pub token: SecretString,
    /// Seconds it lasts (Shopify says about 86,399).
    pub expires_in: u64,
    /// The scopes granted, as Shopify lists them.
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Asks the shop for an access token with the app's client id and secret.
pub async fn client_credentials(
    http: &reqwest::Client,
    egress: &EgressSettings,
    origin: &ShopifyOrigin,
    client_id: &str,
    client_secret: &SecretString,
) -> Result<GrantedToken, ShopifyError> {
    let url =
        egress.check_tenant_url(origin.allowed(), &origin.url("/admin/oauth/access_token"))?;
    let response = http
        .post(url)
        .form(&[
            ("client_id", client_id),
            ("client_secret", client_secret.expose_secret()),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .map_err(|e| ShopifyError::Request(e.without_url()))?;
    let status = response.status();
    if matches!(status.as_u16(), 400 | 401 | 403) {
        return Err(ShopifyError::Unauthorized(status));
    }
    if !status.is_success() {
        return Err(ShopifyError::Status(status));
    }
    let answer: Answer = response
        .json()
        .await
        .map_err(|e| ShopifyError::Unusable(e.without_url().to_string()))?;
    Ok(GrantedToken {
        token: answer.access_token.into(),
        expires_in: answer.expires_in.unwrap_or(86_399),
        scopes: answer
            .scope
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}
