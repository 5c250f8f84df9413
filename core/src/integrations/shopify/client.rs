//! One GraphQL request at a time to one store, within the outbound policy.

use super::budget::{Bucket, RateBudget, now_ms};
use crate::platform::egress::{AllowList, EgressError, EgressSettings, is_loopback};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Why a Shopify request gave no data.
#[derive(Debug, thiserror::Error)]
pub enum ShopifyError {
    /// The shop domain is not a `*.myshopify.com` domain.
    #[error("'{0}' is not a shop's permanent *.myshopify.com domain")]
    BadShop(String),
    /// The outbound policy refused the address.
    #[error("Shopify address refused: {0}")]
    Refused(#[from] EgressError),
    /// The request could not be made or broke off.
    #[error("Shopify request failed: {0}")]
    Request(reqwest::Error),
    /// 401 or 403: the token was revoked or the app uninstalled. The store is disconnected.
    #[error("Shopify refused the access token ({0}): the app was uninstalled or its token revoked")]
    Unauthorized(reqwest::StatusCode),
    /// Shopify kept throttling after Caly's backoff.
    #[error("Shopify is throttling this store; retry in {0:?}")]
    Throttled(Duration),
    /// Another error status.
    #[error("Shopify answered {0}")]
    Status(reqwest::StatusCode),
    /// The answer is not the JSON Caly expects.
    #[error("Shopify's answer is not usable: {0}")]
    Unusable(String),
    /// GraphQL errors in the answer.
    #[error("Shopify GraphQL error: {0}")]
    GraphQl(String),
}

/// Where a store's API is: `https://{shop}`, or a loopback stand-in (tests, the demo store).
#[derive(Debug, Clone)]
pub struct ShopifyOrigin {
    origin: url::Url,
    allowed: AllowList,
}

/// Shopify's permanent shop domains.
const SHOP_SUFFIX: &str = ".myshopify.com";

impl ShopifyOrigin {
    /// The origin for `shop`, or `api_url` in its place. `api_url` replaces only the origin
    /// (paths stay Shopify's) and must be a loopback address allowed by
    /// `CALY_EGRESS_ALLOW_LOOPBACK`.
    pub fn new(
        shop: &str,
        api_url: Option<&str>,
        egress: &EgressSettings,
    ) -> Result<Self, ShopifyError> {
        let shop = shop.trim().trim_end_matches('/').to_ascii_lowercase();
        let valid = shop.len() > SHOP_SUFFIX.len()
            && shop.ends_with(SHOP_SUFFIX)
            && shop[..shop.len() - SHOP_SUFFIX.len()]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(ShopifyError::BadShop(shop));
        }
        let Some(raw) = api_url else {
            let origin = url::Url::parse(&format!("https://{shop}"))
                .map_err(|_| ShopifyError::BadShop(shop.clone()))?;
            return Ok(ShopifyOrigin {
                origin,
                allowed: AllowList::parse(SHOP_SUFFIX, "a shop's *.myshopify.com domain"),
            });
        };
        let origin = url::Url::parse(raw.trim()).map_err(|_| EgressError::NotAUrl)?;
        let host = origin.host().ok_or(EgressError::NotAUrl)?;
        if !(egress.allow_loopback && is_loopback(&host)) {
            return Err(EgressError::HostNotAllowed {
                host: host.to_string(),
                setting: "--api-url (loopback only, with CALY_EGRESS_ALLOW_LOOPBACK)",
            }
            .into());
        }
        let allowed = AllowList::parse("", "--api-url").with_host(&host.to_string());
        Ok(ShopifyOrigin { origin, allowed })
    }

    fn graphql_url(&self, version: &str) -> String {
        self.url(&format!("/admin/api/{version}/graphql.json"))
    }

    /// The URL of `path` on this origin.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin.as_str().trim_end_matches('/'))
    }

    /// The hosts requests to this origin may go to.
    pub fn allowed(&self) -> &AllowList {
        &self.allowed
    }
}

/// A client for one store.
#[derive(Debug, Clone)]
pub struct ShopifyClient {
    http: reqwest::Client,
    egress: EgressSettings,
    origin: ShopifyOrigin,
    token: SecretString,
    version: String,
    budget: Option<(Arc<dyn RateBudget>, String)>,
}

/// Throttled requests are retried this many times before giving up.
const THROTTLE_RETRIES: u32 = 3;

/// Longest single wait for a throttle to clear.
const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(10);

impl ShopifyClient {
    /// A client for the store at `origin` with `token`, on API `version`.
    pub fn new(
        http: reqwest::Client,
        egress: EgressSettings,
        origin: ShopifyOrigin,
        token: SecretString,
        version: &str,
    ) -> Self {
        ShopifyClient {
            http,
            egress,
            origin,
            token,
            version: version.to_string(),
            budget: None,
        }
    }

    /// This client, sharing `budget` for `store` with every other client of that store.
    pub fn with_budget(mut self, budget: Arc<dyn RateBudget>, store: &str) -> Self {
        self.budget = Some((budget, store.to_string()));
        self
    }

    /// Runs a GraphQL query; returns its `data`. Waits out throttling a few times.
    pub async fn query(&self, query: &str, variables: Value) -> Result<Value, ShopifyError> {
        let mut tries = 0;
        loop {
            if let Some((budget, store)) = &self.budget {
                let wait = budget.before_request(store).await;
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
            match self.query_once(query, &variables).await {
                Err(ShopifyError::Throttled(wait)) if tries < THROTTLE_RETRIES => {
                    tries += 1;
                    tokio::time::sleep(wait.min(MAX_THROTTLE_WAIT)).await;
                }
                other => return other,
            }
        }
    }

    async fn query_once(&self, query: &str, variables: &Value) -> Result<Value, ShopifyError> {
        let url = self.egress.check_tenant_url(
            &self.origin.allowed,
            &self.origin.graphql_url(&self.version),
        )?;
        let response = self
            .http
            .post(url)
            .header("X-Shopify-Access-Token", self.token.expose_secret())
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .map_err(|e| ShopifyError::Request(e.without_url()))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(ShopifyError::Unauthorized(status));
        }
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(1.0);
            return Err(ShopifyError::Throttled(wait_of(wait)));
        }
        if !status.is_success() {
            return Err(ShopifyError::Status(status));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| ShopifyError::Unusable(e.without_url().to_string()))?;
        if let (Some((budget, store)), Some(bucket)) = (&self.budget, bucket_of(&body)) {
            budget.after_response(store, bucket).await;
        }
        if let Some(wait) = throttle_wait(&body) {
            return Err(ShopifyError::Throttled(wait));
        }
        if let Some(errors) = body.get("errors").filter(|e| !e.is_null()) {
            return Err(ShopifyError::GraphQl(errors.to_string()));
        }
        body.get("data")
            .cloned()
            .filter(|d| !d.is_null())
            .ok_or_else(|| ShopifyError::Unusable("no data".into()))
    }
}

/// When the body says THROTTLED: how long until enough points are restored, from
/// `(requested − currentlyAvailable) / restoreRate` (1 s when the numbers are missing).
fn throttle_wait(body: &Value) -> Option<Duration> {
    let throttled = body
        .get("errors")?
        .as_array()?
        .iter()
        .any(|e| e.pointer("/extensions/code").and_then(Value::as_str) == Some("THROTTLED"));
    if !throttled {
        return None;
    }
    let cost = body.pointer("/extensions/cost");
    let number = |path: &str| cost.and_then(|c| c.pointer(path)).and_then(Value::as_f64);
    let seconds = match (
        number("/requestedQueryCost"),
        number("/throttleStatus/currentlyAvailable"),
        number("/throttleStatus/restoreRate"),
    ) {
        (Some(requested), Some(available), Some(rate)) if rate > 0.0 => {
            ((requested - available) / rate).max(0.0)
        }
        _ => 1.0,
    };
    Some(wait_of(seconds))
}

/// The store's bucket as Shopify reported it with an answer (`extensions.cost.throttleStatus`).
fn bucket_of(body: &Value) -> Option<Bucket> {
    let status = body.pointer("/extensions/cost/throttleStatus")?;
    let number = |name: &str| status.get(name).and_then(Value::as_f64);
    Some(Bucket {
        available: number("currentlyAvailable")?,
        maximum: number("maximumAvailable")?,
        restore_rate: number("restoreRate")?,
        at_ms: now_ms(),
    })
}

/// A wait Shopify asked for, as a duration: not negative, finite, at most a minute.
fn wait_of(seconds: f64) -> Duration {
    if seconds.is_finite() {
        Duration::from_secs_f64(seconds.clamp(0.0, 60.0))
    } else {
        Duration::from_secs(60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn egress(allow_loopback: bool) -> EgressSettings {
        EgressSettings {
            allow_loopback,
            ports: vec![443],
            max_download_bytes: 1024,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn shops_and_api_urls_are_checked() {
        let strict = egress(false);
        let origin = ShopifyOrigin::new("Kesar.myshopify.com", None, &strict).unwrap();
        assert_eq!(
            origin.graphql_url("2026-10"),
            "https://kesar.myshopify.com/admin/api/2026-10/graphql.json"
        );
        for bad in [
            "kesar.com",
            ".myshopify.com",
            "a/b.myshopify.com",
            "evil.com?.myshopify.com",
        ] {
            assert!(
                matches!(
                    ShopifyOrigin::new(bad, None, &strict),
                    Err(ShopifyError::BadShop(_))
                ),
                "{bad}"
            );
        }
        let local = Some("http://127.0.0.1:9999");
        assert!(ShopifyOrigin::new("kesar.myshopify.com", local, &strict).is_err());
        let remote = Some("https://evil.example");
        assert!(ShopifyOrigin::new("kesar.myshopify.com", remote, &egress(true)).is_err());
        let origin = ShopifyOrigin::new("kesar.myshopify.com", local, &egress(true)).unwrap();
        assert_eq!(
            origin.graphql_url("2026-10"),
            "http://127.0.0.1:9999/admin/api/2026-10/graphql.json"
        );
    }

    #[test]
    fn throttling_waits_for_the_points_it_needs() {
        let body = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 152, "actualQueryCost": null,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 2, "restoreRate": 100.0}}}});
        assert_eq!(throttle_wait(&body), Some(Duration::from_millis(1500)));
        let bare =
            json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]});
        assert_eq!(throttle_wait(&bare), Some(Duration::from_secs(1)));
        assert_eq!(throttle_wait(&json!({"data": {}})), None);
        assert_eq!(wait_of(f64::INFINITY), Duration::from_secs(60));
        assert_eq!(wait_of(-3.0), Duration::ZERO);
    }
}
