//! Scratch space for short-lived bytes the live stages hand between nodes (a voice turn's
//! utterance and its reply audio): Redis hashes that expire in production, process memory on
//! the embedded default, where the api and the workers share one process. Not the database: a
//! working copy of audio only bloats its write-ahead log, and a large database write is a
//! client write split in two, which waits up to 40 ms for the server's delayed
//! acknowledgement on a live turn. Losing scratch loses only a turn in flight (the caller hears
//! the fallback line and a person takes over); the recordings keep what was said.

use super::queue::QueueError;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// How long scratch outlives its last write: well past any call.
pub const SCRATCH_TTL: Duration = Duration::from_secs(6 * 3600);

/// Where scratch lives.
#[derive(Clone)]
pub enum Scratch {
    /// In this process.
    Local(Arc<Mutex<HashMap<String, LocalEntry>>>),
    /// Redis hashes under the queue namespace.
    Redis(RedisScratch),
}

/// Scratch's Redis side.
#[derive(Clone)]
pub struct RedisScratch {
    /// The server (connections without Nagle's delay).
    client: redis::Client,
    /// Key prefix.
    namespace: String,
    /// One reconnecting connection, opened on first use.
    conn: Arc<OnceCell<ConnectionManager>>,
}

impl RedisScratch {
    async fn connection(&self) -> Result<ConnectionManager, QueueError> {
        Ok(self
            .conn
            .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
            .await?
            .clone())
    }

    fn key(&self, key: &str) -> String {
        format!("{}:scratch:{key}", self.namespace)
    }
}

/// One key's fields in process memory.
#[derive(Debug, Default)]
pub struct LocalEntry {
    fields: BTreeMap<String, Vec<u8>>,
    expires: Option<Instant>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scratch::Local(_) => f.write_str("Scratch::Local"),
            Scratch::Redis(redis) => write!(f, "Scratch::Redis({})", redis.namespace),
        }
    }
}

impl Scratch {
    /// Scratch in process memory.
    pub fn local() -> Self {
        Scratch::Local(Arc::default())
    }

    /// Scratch in the Redis at `url`.
    pub fn redis(url: &str, namespace: &str) -> Result<Self, redis::RedisError> {
        Ok(Scratch::Redis(RedisScratch {
            client: super::redis_client::client(url)?,
            namespace: namespace.to_string(),
            conn: Arc::default(),
        }))
    }

    fn with_local<T>(
        map: &Mutex<HashMap<String, LocalEntry>>,
        f: impl FnOnce(&mut HashMap<String, LocalEntry>) -> T,
    ) -> T {
        let mut map = map.lock().expect("scratch lock");
        let now = Instant::now();
        map.retain(|_, entry| entry.expires.is_none_or(|at| at > now));
        f(&mut map)
    }

    /// Stores `bytes` as `field` of `key`, and renews the key's expiry.
    pub async fn put(&self, key: &str, field: &str, bytes: &[u8]) -> Result<(), QueueError> {
        match self {
            Scratch::Local(map) => Self::with_local(map, |map| {
                let entry = map.entry(key.to_string()).or_default();
                entry.fields.insert(field.to_string(), bytes.to_vec());
                entry.expires = Some(Instant::now() + SCRATCH_TTL);
            }),
            Scratch::Redis(redis) => {
                let mut conn = redis.connection().await?;
                let key = redis.key(key);
                redis::pipe()
                    .atomic()
                    .hset(&key, field, bytes)
                    .ignore()
                    .expire(&key, SCRATCH_TTL.as_secs() as i64)
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// `field` of `key`, if stored and not expired.
    pub async fn get(&self, key: &str, field: &str) -> Result<Option<Vec<u8>>, QueueError> {
        match self {
            Scratch::Local(map) => Ok(Self::with_local(map, |map| {
                map.get(key).and_then(|e| e.fields.get(field).cloned())
            })),
            Scratch::Redis(redis) => {
                let mut conn = redis.connection().await?;
                Ok(conn.hget(redis.key(key), field).await?)
            }
        }
    }

    /// Every field of `key`, in name order.
    pub async fn fields(&self, key: &str) -> Result<Vec<(String, Vec<u8>)>, QueueError> {
        let mut all: Vec<(String, Vec<u8>)> = match self {
            Scratch::Local(map) => Self::with_local(map, |map| {
                map.get(key)
                    .map(|e| e.fields.clone().into_iter().collect())
                    .unwrap_or_default()
            }),
            Scratch::Redis(redis) => {
                let mut conn = redis.connection().await?;
                let all: HashMap<String, Vec<u8>> = conn.hgetall(redis.key(key)).await?;
                all.into_iter().collect()
            }
        };
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    /// Forgets `keys`; returns how many existed.
    pub async fn forget(&self, keys: &[String]) -> Result<u64, QueueError> {
        if keys.is_empty() {
            return Ok(0);
        }
        match self {
            Scratch::Local(map) => Ok(Self::with_local(map, |map| {
                keys.iter().filter(|k| map.remove(*k).is_some()).count() as u64
            })),
            Scratch::Redis(redis) => {
                let mut conn = redis.connection().await?;
                let keys: Vec<String> = keys.iter().map(|k| redis.key(k)).collect();
                Ok(conn.del(keys).await?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_scratch_keeps_fields_in_order_and_forgets_them() {
        let scratch = Scratch::local();
        scratch.put("turn:1", "0001", b"b").await.unwrap();
        scratch.put("turn:1", "0000", b"a").await.unwrap();
        scratch.put("turn:3", "caller", b"c").await.unwrap();
        assert_eq!(
            scratch.get("turn:3", "caller").await.unwrap(),
            Some(b"c".to_vec())
        );
        let replies = scratch.fields("turn:1").await.unwrap();
        let names: Vec<_> = replies.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["0000", "0001"]);
        let gone = scratch
            .forget(&["turn:1".to_string(), "turn:2".to_string()])
            .await
            .unwrap();
        assert_eq!(gone, 1);
        assert!(scratch.fields("turn:1").await.unwrap().is_empty());
        assert!(scratch.get("turn:3", "caller").await.unwrap().is_some());
    }
}
