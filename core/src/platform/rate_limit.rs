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

/// A failure backoff: after `free` failures by one `who`, each further try must wait `base`
/// doubled per failure (at most `max`) after the last failure; the count is forgotten `max`
/// after the last failure. It slows a guesser without refusing anyone else.
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
    /// The wait after `failures` failures.
    pub fn wait_after(&self, failures: u64) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(30) as u32;
        self.base.saturating_mul(1u32 << doublings).min(self.max)
    }
}

fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Records a failure: `{count, last ms}` in a hash that expires with the backoff.
const FAIL: &str = r"
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'at', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
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

    /// Refuses ([`Rejection::TooSoon`]) while `who` must still wait after its failures.
    pub async fn check_backoff(&self, backoff: &Backoff, who: &str) -> Result<(), Rejection> {
        let key = format!("backoff:{}:{who}", backoff.name);
        let (failures, last_ms) = match self {
            RateLimiter::Memory(counters) => {
                let counters = counters.lock().expect("not poisoned");
                counters
                    .get(&key)
                    .map_or((0, 0), |(n, at)| (*n, at.elapsed().as_millis() as u64))
                    .to_owned()
            }
            RateLimiter::Redis { client, namespace } => {
                let key = format!("{namespace}:rate:{key}");
                let read = async {
                    let mut conn = client.get_multiplexed_async_connection().await?;
                    redis::cmd("HMGET")
                        .arg(&key)
                        .arg("n")
                        .arg("at")
                        .query_async::<(Option<u64>, Option<u64>)>(&mut conn)
                        .await
                };
                match read.await {
                    Ok((n, at)) => (n.unwrap_or(0), epoch_ms().saturating_sub(at.unwrap_or(0))),
                    Err(error) => {
                        tracing::warn!(%error, limit = backoff.name, "backoff not checked");
                        (0, 0)
                    }
                }
            }
        };
        let wait = backoff.wait_after(failures);
        let since = Duration::from_millis(last_ms);
        if failures >= backoff.free && since < wait {
            return Err(too_soon(wait - since));
        }
        Ok(())
    }

    /// Counts a failure by `who`; returns how many it has now.
    pub async fn fail(&self, backoff: &Backoff, who: &str) -> u64 {
        let key = format!("backoff:{}:{who}", backoff.name);
        match self {
            RateLimiter::Memory(counters) => {
                let mut counters = counters.lock().expect("not poisoned");
                let entry = counters.entry(key).or_insert((0, Instant::now()));
                if entry.1.elapsed() >= backoff.max {
                    entry.0 = 0;
                }
                *entry = (entry.0 + 1, Instant::now());
                entry.0
            }
            RateLimiter::Redis { client, namespace } => {
                let key = format!("{namespace}:rate:{key}");
                let counted = async {
                    let mut conn = client.get_multiplexed_async_connection().await?;
                    redis::Script::new(FAIL)
                        .key(&key)
                        .arg(epoch_ms())
                        .arg(backoff.max.as_millis() as u64)
                        .invoke_async::<u64>(&mut conn)
                        .await
                };
                counted.await.unwrap_or_else(|error| {
                    tracing::warn!(%error, limit = backoff.name, "failure not counted");
                    0
                })
            }
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
    async fn failures_past_the_free_ones_make_only_that_who_wait() {
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
        assert_eq!(limiter.fail(&backoff, "a").await, 1);
        assert!(limiter.check_backoff(&backoff, "a").await.is_ok());
        assert_eq!(limiter.fail(&backoff, "a").await, 2);
        let Err(Rejection::TooSoon { retry_after_secs }) =
            limiter.check_backoff(&backoff, "a").await
        else {
            panic!("a waits after its second failure");
        };
        assert_eq!(retry_after_secs, 1);
        assert!(
            limiter.check_backoff(&backoff, "b").await.is_ok(),
            "per who"
        );
        limiter.clear(&backoff, "a").await;
        assert!(limiter.check_backoff(&backoff, "a").await.is_ok());
    }
}
