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

/// An attempt backoff: after `free` attempts by one `who` without a success, each further try
/// must wait `base` doubled per attempt (at most `max`) after the last one; the count is
/// forgotten `max` after the last attempt, or at a success. It slows a guesser without
/// refusing anyone else.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Names the counter (part of its key).
    pub name: &'static str,
    /// Failures allowed before any wait.
    pub free: u64,
    /// The first wait.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// The wait after `attempts` attempts.
    pub fn wait_after(&self, attempts: u64) -> Duration {
        if attempts < self.free {
            return Duration::ZERO;
        }
        let doublings = (attempts - self.free).min(30) as u32;
        self.base.saturating_mul(1u32 << doublings).min(self.max)
    }
}

fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Starts an attempt: refused (`{0, ms left}`) inside the wait after `free` attempts, else
/// counted (`{1, attempts}`) with its time, in a hash that expires with the longest wait.
const ATTEMPT: &str = r"
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '0')
local now, free, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if now - at >= max then n = 0 end
if n >= free then
  local wait = math.min(base * (2 ^ math.min(n - free, 30)), max)
  if now - at < wait then return {0, math.floor(wait - (now - at))} end
end
redis.call('HSET', KEYS[1], 'n', n + 1, 'at', now)
redis.call('PEXPIRE', KEYS[1], max)
return {1, n + 1}
";

/// The counters.
pub enum RateLimiter {
    /// In this process (the embedded default): fixed windows, and failures with their last time
    /// (milliseconds since the epoch).
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

    /// Starts an attempt by `who`: refused ([`Rejection::TooSoon`]) while it must still wait
    /// after its earlier attempts, else counted at once (in one step, so parallel attempts
    /// cannot all slip past the wait). A success [`RateLimiter::clear`]s the count.
    pub async fn attempt(&self, backoff: &Backoff, who: &str) -> Result<(), Rejection> {
        let key = format!("backoff:{}:{who}", backoff.name);
        let wait_left = match self {
            RateLimiter::Memory(counters) => {
                let mut counters = counters.lock().expect("not poisoned");
                let now = Instant::now();
                let entry = counters.entry(key).or_insert((0, now));
                let since = now.duration_since(entry.1);
                if since >= backoff.max {
                    entry.0 = 0;
                }
                let wait = backoff.wait_after(entry.0);
                if entry.0 >= backoff.free && since < wait {
                    Some(wait - since)
                } else {
                    *entry = (entry.0 + 1, now);
                    None
                }
            }
            RateLimiter::Redis { client, namespace } => {
                let key = format!("{namespace}:rate:{key}");
                let counted = async {
                    let mut conn = client.get_multiplexed_async_connection().await?;
                    redis::Script::new(ATTEMPT)
                        .key(&key)
                        .arg(epoch_ms())
                        .arg(backoff.free)
                        .arg(backoff.base.as_millis() as u64)
                        .arg(backoff.max.as_millis() as u64)
                        .invoke_async::<(u64, u64)>(&mut conn)
                        .await
                };
                match counted.await {
                    Ok((0, left_ms)) => Some(Duration::from_millis(left_ms)),
                    Ok(_) => None,
                    Err(error) => {
                        tracing::warn!(%error, limit = backoff.name, "attempt not counted");
                        None
                    }
                }
            }
        };
        match wait_left {
            Some(left) => Err(too_soon(left)),
            None => Ok(()),
        }
    }

    /// Forgets `who`'s failures (after a success).
    pub async fn clear(&self, backoff: &Backoff, who: &str) {
        let key = format!("backoff:{}:{who}", backoff.name);
        match self {
            RateLimiter::Memory(counters) => {
                counters.lock().expect("not poisoned").remove(&key);
            }
            RateLimiter::Redis { client, namespace } => {
                let key = format!("{namespace}:rate:{key}");
                let cleared = async {
                    let mut conn = client.get_multiplexed_async_connection().await?;
                    redis::cmd("DEL")
                        .arg(&key)
                        .query_async::<()>(&mut conn)
                        .await
                };
                if let Err(error) = cleared.await {
                    tracing::warn!(%error, limit = backoff.name, "failures not cleared");
                }
            }
        }
    }

    /// Counts a hit by `who` and returns the count in this window (`None` when Redis could not
    /// be reached).
    pub async fn count_hit(&self, limit: &Limit, who: &str) -> Option<u64> {
        self.count(limit, who, 1).await.map(|(n, _)| n)
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

    #[tokio::test]
    async fn attempts_past_the_free_ones_make_only_that_who_wait() {
        let limiter = RateLimiter::memory();
        let backoff = Backoff {
            name: "b",
            free: 2,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        assert_eq!(backoff.wait_after(1), Duration::ZERO);
        assert_eq!(backoff.wait_after(2), Duration::from_secs(1));
        assert_eq!(backoff.wait_after(4), Duration::from_secs(4));
        assert_eq!(backoff.wait_after(40), Duration::from_secs(60));
        assert!(limiter.attempt(&backoff, "a").await.is_ok());
        assert!(limiter.attempt(&backoff, "a").await.is_ok());
        let Err(Rejection::TooSoon { retry_after_secs }) = limiter.attempt(&backoff, "a").await
        else {
            panic!("a waits after its second attempt");
        };
        assert_eq!(retry_after_secs, 1);
        assert!(limiter.attempt(&backoff, "b").await.is_ok(), "per who");
        limiter.clear(&backoff, "a").await;
        assert!(
            limiter.attempt(&backoff, "a").await.is_ok(),
            "a success starts over"
        );
    }
}
