//! Rate limits: fixed-window counters per (limit, who), shared by every process through Redis
//! when there is one, else kept in this process. Over the limit is a
//! [`Rejection::TooSoon`](crate::Rejection::TooSoon) carrying the seconds until the window ends
//! (the `Retry-After`). If Redis cannot be reached the request is let through: a limiter that
//! fails closed would turn a Redis outage into a sign-in and webhook outage.

use crate::Rejection;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One limit: at most `max` hits per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Names the counter (part of its key).
    pub name: &'static str,
    /// Hits allowed per window.
    pub max: u64,
    /// The window.
    pub window: Duration,
}

/// The counters.
pub enum RateLimiter {
    /// In this process (the embedded default).
    Memory(Mutex<HashMap<String, (u64, Instant)>>),
    /// In Redis, shared by the deployment.
    Redis {
        /// The client.
        client: redis::Client,
        /// Key prefix.
        namespace: String,
    },
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RateLimiter::Memory(_) => f.write_str("RateLimiter::Memory"),
            RateLimiter::Redis { namespace, .. } => write!(f, "RateLimiter::Redis({namespace})"),
        }
    }
}

/// Counts a hit; returns the count in this window and the milliseconds left in it.
const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
";

fn too_soon(left: Duration) -> Rejection {
    Rejection::TooSoon {
        retry_after_secs: left.as_secs().max(1),
    }
}

impl RateLimiter {
    /// Counters in this process.
    pub fn memory() -> Self {
        RateLimiter::Memory(Mutex::default())
    }

    /// Counters in the Redis at `url`, keys prefixed with `namespace`.
    pub fn redis(url: &str, namespace: &str) -> Result<Self, redis::RedisError> {
        Ok(RateLimiter::Redis {
            client: crate::platform::redis_client::client(url)?,
            namespace: namespace.to_string(),
        })
    }

    fn memory_count(
        counters: &Mutex<HashMap<String, (u64, Instant)>>,
        key: String,
        limit: &Limit,
        add: u64,
    ) -> (u64, Duration) {
        let mut counters = counters.lock().expect("not poisoned");
        let now = Instant::now();
        if counters.len() > 100_000 {
            counters.retain(|_, (_, start)| now.duration_since(*start) < Duration::from_secs(3600));
        }
        let entry = counters.entry(key).or_insert((0, now));
        if now.duration_since(entry.1) >= limit.window {
            *entry = (0, now);
        }
        entry.0 += add;
        (
            entry.0,
            limit.window.saturating_sub(now.duration_since(entry.1)),
        )
    }

    async fn count(&self, limit: &Limit, who: &str, add: u64) -> Option<(u64, Duration)> {
        let key = format!("{}:{who}", limit.name);
        match self {
            RateLimiter::Memory(counters) => Some(Self::memory_count(counters, key, limit, add)),
            RateLimiter::Redis { client, namespace } => {
                let key = format!("{namespace}:rate:{key}");
                let counted = async {
                    let mut conn = client.get_multiplexed_async_connection().await?;
                    if add == 0 {
                        let (n, ttl): (Option<u64>, i64) = redis::pipe()
                            .get(&key)
                            .pttl(&key)
                            .query_async(&mut conn)
                            .await?;
                        return Ok::<_, redis::RedisError>((n.unwrap_or(0), ttl.max(0) as u64));
                    }
                    redis::Script::new(HIT)
                        .key(&key)
                        .arg(limit.window.as_millis() as u64)
                        .invoke_async::<(u64, u64)>(&mut conn)
                        .await
                };
                match counted.await {
                    Ok((n, ms)) => Some((n, Duration::from_millis(ms))),
                    Err(error) => {
                        tracing::warn!(%error, limit = limit.name, "rate limit not checked");
                        None
                    }
                }
            }
        }
    }

    /// Counts a hit by `who`; refuses it when it is over the limit.
    pub async fn hit(&self, limit: &Limit, who: &str) -> Result<(), Rejection> {
        match self.count(limit, who, 1).await {
            Some((n, left)) if n > limit.max => Err(too_soon(left)),
            _ => Ok(()),
        }
    }

    /// Refuses when `who` is already over the limit, without counting (for limits that count
    /// only failures: check first, [`RateLimiter::hit`] on failure).
    pub async fn check(&self, limit: &Limit, who: &str) -> Result<(), Rejection> {
        match self.count(limit, who, 0).await {
            Some((n, left)) if n >= limit.max => Err(too_soon(left)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_counters_refuse_past_the_limit_per_who() {
        let limiter = RateLimiter::memory();
        let limit = Limit {
            name: "t",
            max: 2,
            window: Duration::from_secs(60),
        };
        assert!(limiter.hit(&limit, "a").await.is_ok());
        assert!(limiter.check(&limit, "a").await.is_ok());
        assert!(limiter.hit(&limit, "a").await.is_ok());
        assert!(limiter.check(&limit, "a").await.is_err());
        let Err(Rejection::TooSoon { retry_after_secs }) = limiter.hit(&limit, "a").await else {
            panic!("over the limit");
        };
        assert!((1..=60).contains(&retry_after_secs));
        assert!(limiter.hit(&limit, "b").await.is_ok(), "per who");
    }
}
