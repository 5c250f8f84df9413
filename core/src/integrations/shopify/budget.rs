//! One Shopify rate budget per store, shared by every worker: each answer's `throttleStatus`
//! (points available, maximum, restore rate) is recorded, and before a request a worker waits
//! until the store's bucket, restored since, holds enough points for it. Redis holds the
//! buckets in production (all processes share them); memory on the embedded default.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Points a request needs in the bucket before it is sent (Caly's queries cost about 12–50).
pub const NEEDED_POINTS: f64 = 50.0;

/// Points set aside per request sent, until Shopify's answer says what is left.
pub const RESERVED_POINTS: f64 = 12.0;

/// Longest wait the budget asks for at once (well within the agent's time to think).
pub const MAX_WAIT: Duration = Duration::from_secs(4);

/// What a store's bucket looked like at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Points available.
    pub available: f64,
    /// Bucket size.
    pub maximum: f64,
    /// Points restored per second.
    pub restore_rate: f64,
    /// When (milliseconds since the epoch).
    pub at_ms: f64,
}

impl Bucket {
    /// Points available at `now_ms`, restored since.
    fn at(&self, now_ms: f64) -> f64 {
        let elapsed = ((now_ms - self.at_ms) / 1000.0).max(0.0);
        (self.available + self.restore_rate * elapsed).min(self.maximum)
    }

    /// How long until it holds [`NEEDED_POINTS`], from `now_ms` (points already set aside for
    /// requests that will go later are counted from when they go).
    fn wait(&self, now_ms: f64) -> Duration {
        let from = now_ms.max(self.at_ms);
        let queued = (from - now_ms) / 1000.0;
        let short = NEEDED_POINTS - self.at(from);
        let refill = if short > 0.0 && self.restore_rate > 0.0 {
            short / self.restore_rate
        } else {
            0.0
        };
        Duration::from_secs_f64(queued + refill).min(MAX_WAIT)
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_default()
}

/// A rate budget shared by the processes that call one store.
#[async_trait]
pub trait RateBudget: Send + Sync + std::fmt::Debug {
    /// How long to wait before sending a request to `store`; sets its points aside.
    async fn before_request(&self, store: &str) -> Duration;
    /// Records the bucket Shopify reported for `store`.
    async fn after_response(&self, store: &str, bucket: Bucket);
}

/// Buckets in this process (the embedded default).
#[derive(Debug, Default)]
pub struct MemoryBudget(Mutex<HashMap<String, Bucket>>);

#[async_trait]
impl RateBudget for MemoryBudget {
    async fn before_request(&self, store: &str) -> Duration {
        let now = now_ms();
        let mut buckets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bucket) = buckets.get_mut(store) else {
            return Duration::ZERO;
        };
        let wait = bucket.wait(now);
        let ready_at = now + wait.as_secs_f64() * 1000.0;
        bucket.available = bucket.at(ready_at) - RESERVED_POINTS;
        bucket.at_ms = ready_at;
        wait
    }

    async fn after_response(&self, store: &str, bucket: Bucket) {
        let mut buckets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        buckets.insert(store.to_string(), bucket);
    }
}

/// Buckets in Redis, shared by every process (production).
pub struct RedisBudget {
    client: redis::Client,
    namespace: String,
}

impl std::fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisBudget({})", self.namespace)
    }
}

/// Reads the bucket, restores it to now, computes the wait, sets points aside, all at once.
const BEFORE_REQUEST: &str = r"
local b = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'restore', 'at')
if not b[1] then return 0 end
local now, needed, reserved, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local available, maximum, restore, at = tonumber(b[1]), tonumber(b[2]), tonumber(b[3]), tonumber(b[4])
local function points(t) return math.min(maximum, available + restore * math.max(0, t - at) / 1000) end
local from = math.max(now, at)
local wait = from - now
local short = needed - points(from)
if short > 0 and restore > 0 then wait = wait + short / restore * 1000 end
wait = math.min(max_wait, wait)
local ready = now + wait
redis.call('HSET', KEYS[1], 'available', tostring(points(ready) - reserved), 'at', tostring(ready))
redis.call('PEXPIRE', KEYS[1], 120000)
return math.floor(wait)
";

impl RedisBudget {
    /// Buckets in the Redis at `url`, keys prefixed with `namespace`.
    pub fn new(url: &str, namespace: &str) -> Result<Self, redis::RedisError> {
        Ok(RedisBudget {
            client: crate::platform::redis_client::client(url)?,
            namespace: namespace.to_string(),
        })
    }

    fn key(&self, store: &str) -> String {
        format!("{}:shopify_budget:{store}", self.namespace)
    }
}

#[async_trait]
impl RateBudget for RedisBudget {
    async fn before_request(&self, store: &str) -> Duration {
        let waited = async {
            let mut conn = self.client.get_multiplexed_async_connection().await?;
            redis::Script::new(BEFORE_REQUEST)
                .key(self.key(store))
                .arg(now_ms())
                .arg(NEEDED_POINTS)
                .arg(RESERVED_POINTS)
                .arg(MAX_WAIT.as_millis() as f64)
                .invoke_async::<u64>(&mut conn)
                .await
        };
        match waited.await {
            Ok(ms) => Duration::from_millis(ms),
            Err(error) => {
                // Without the shared budget, Shopify's own throttling answers still slow us.
                tracing::warn!(%error, "shopify rate budget unavailable");
                Duration::ZERO
            }
        }
    }

    async fn after_response(&self, store: &str, bucket: Bucket) {
        let stored = async {
            let mut conn = self.client.get_multiplexed_async_connection().await?;
            redis::pipe()
                .hset_multiple(
                    self.key(store),
                    &[
                        ("available", bucket.available.to_string()),
                        ("maximum", bucket.maximum.to_string()),
                        ("restore", bucket.restore_rate.to_string()),
                        ("at", bucket.at_ms.to_string()),
                    ],
                )
                .pexpire(self.key(store), 120_000)
                .query_async::<()>(&mut conn)
                .await
        };
        if let Err(error) = stored.await {
            tracing::warn!(%error, "shopify rate budget not recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_drained_bucket_makes_the_next_request_wait_for_its_points() {
        let budget = MemoryBudget::default();
        assert_eq!(
            budget.before_request("kesar").await,
            Duration::ZERO,
            "nothing known yet"
        );
        let bucket = |available| Bucket {
            available,
            maximum: 2000.0,
            restore_rate: 100.0,
            at_ms: now_ms(),
        };
        budget.after_response("kesar", bucket(1988.0)).await;
        assert_eq!(budget.before_request("kesar").await, Duration::ZERO);
        budget.after_response("kesar", bucket(0.0)).await;
        let wait = budget.before_request("kesar").await;
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        // The points set aside make the next request wait longer still.
        assert!(budget.before_request("kesar").await > wait);
        assert_eq!(budget.before_request("other").await, Duration::ZERO);
    }
}
