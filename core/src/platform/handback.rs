//! The hand-back: a worker tells a waiting API request that its answer is stored. Redis
//! pub/sub in production (any worker, any API process), an in-process channel on the embedded
//! default. A notice wakes the waiter; the answer itself is read from where it is stored, so a
//! lost notice costs a short wait, never an answer. A notice may also carry a copy of what was
//! just stored ([`Handback::notify_with`]), which spares the waiter that read while a caller
//! listens.
//!
//! With Redis, a waiter in the process that sends the notice (a voice socket whose turn ran
//! on this node's workers) gets it on an in-process channel instead: no publish, no trip
//! through Redis, while the caller waits. So each key has one waiter in the whole deployment
//! (a call's socket, a text turn's request): a notice goes to this process's latest waiter on
//! its key, else through Redis. A waiter that misses a notice still reads what is stored when
//! its wait times out.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, broadcast, mpsc};

/// Where notices travel.
#[derive(Clone)]
pub enum Handback {
    /// Within this process.
    Local(Arc<broadcast::Sender<Notice>>),
    /// Redis pub/sub, channels prefixed by the queue namespace.
    Redis {
        /// The server.
        client: redis::Client,
        /// Channel prefix.
        namespace: String,
        /// One reconnecting connection for every notice this process sends, opened on first use
        /// (a connection per notice would cost a handshake on every live turn).
        publisher: Arc<OnceCell<ConnectionManager>>,
        /// This process's own waiters, by key: their notices skip Redis.
        here: Arc<WaitersHere>,
    },
}

/// The waiters subscribed in this process, by key (the latest one per key).
#[derive(Default)]
pub struct WaitersHere {
    waiting: Mutex<HashMap<String, (u64, mpsc::UnboundedSender<Notice>)>>,
    next: AtomicU64,
}

impl WaitersHere {
    fn add(self: &Arc<Self>, key: &str) -> (Registration, mpsc::UnboundedReceiver<Notice>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(key.to_string(), (id, sender));
        let registration = Registration {
            here: self.clone(),
            key: key.to_string(),
            id,
        };
        (registration, receiver)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (u64, mpsc::UnboundedSender<Notice>)>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `notice` to this process's waiter on its key; false when there is none.
    fn deliver(&self, notice: Notice) -> bool {
        match self.lock().get(&notice.key) {
            Some((_, sender)) => sender.send(notice).is_ok(),
            None => false,
        }
    }
}

/// A waiter's place in [`WaitersHere`], given up when the waiter is dropped.
pub struct Registration {
    here: Arc<WaitersHere>,
    key: String,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut waiting = self.here.lock();
        // Only its own entry: a newer waiter on the same key keeps its place.
        if waiting.get(&self.key).is_some_and(|(id, _)| *id == self.id) {
            waiting.remove(&self.key);
        }
    }
}

impl std::fmt::Debug for Handback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handback::Local(_) => f.write_str("Handback::Local"),
            Handback::Redis { namespace, .. } => write!(f, "Handback::Redis({namespace})"),
        }
    }
}

/// One notice on the in-process channel: its key, and the bytes it carries, if any.
#[derive(Debug, Clone)]
pub struct Notice {
    key: String,
    carried: Option<Arc<[u8]>>,
}

impl Notice {
    fn woken(self) -> Woken {
        match self.carried {
            Some(bytes) => Woken::Carrying(bytes.to_vec()),
            None => Woken::Notified,
        }
    }
}

/// One request waiting for notices on one key.
pub enum Waiter {
    /// In process.
    Local(broadcast::Receiver<Notice>, String),
    /// A Redis subscription, and its place among this process's waiters.
    Redis(Box<RedisWaiter>),
}

/// A Redis subscription, with the in-process channel notices sent from this process use.
pub struct RedisWaiter {
    pubsub: redis::aio::PubSub,
    here: mpsc::UnboundedReceiver<Notice>,
    _registration: Registration,
}

impl Handback {
    /// In-process notices.
    pub fn local() -> Self {
        Handback::Local(Arc::new(broadcast::channel(1024).0))
    }

    /// Notices through the Redis at `url`.
    pub fn redis(url: &str, namespace: &str) -> Result<Self, redis::RedisError> {
        Ok(Handback::Redis {
            client: super::redis_client::client(url)?,
            namespace: namespace.to_string(),
            publisher: Arc::default(),
            here: Arc::default(),
        })
    }

    fn channel(namespace: &str, key: &str) -> String {
        format!("{namespace}:handback:{key}")
    }

    /// Starts listening for `key`; subscribe before the work can finish, then check the
    /// database, then wait.
    pub async fn subscribe(&self, key: &str) -> Result<Waiter, redis::RedisError> {
        match self {
            Handback::Local(sender) => Ok(Waiter::Local(sender.subscribe(), key.to_string())),
            Handback::Redis {
                client,
                namespace,
                here,
                ..
            } => {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(Self::channel(namespace, key)).await?;
                let (registration, here) = here.add(key);
                Ok(Waiter::Redis(Box::new(RedisWaiter {
                    pubsub,
                    here,
                    _registration: registration,
                })))
            }
        }
    }

    /// Tells whoever waits on `key` that its answer is stored. Best effort: a waiter that
    /// misses it reads the database on its next check.
    pub async fn notify(&self, key: &str) {
        self.send(key, None).await;
    }

    /// Like [`Handback::notify`], carrying `bytes`: a copy of what was just stored, which the
    /// waiter may use without reading it back. Best effort as well: what is stored stays the
    /// truth, and may be sent at the same time as the notice.
    pub async fn notify_with(&self, key: &str, bytes: &[u8]) {
        self.send(key, Some(bytes)).await;
    }

    async fn send(&self, key: &str, carried: Option<&[u8]>) {
        let notice = || Notice {
            key: key.to_string(),
            carried: carried.map(Arc::from),
        };
        match self {
            Handback::Local(sender) => {
                let _ = sender.send(notice());
            }
            Handback::Redis {
                client,
                namespace,
                publisher,
                here,
            } => {
                if here.deliver(notice()) {
                    return;
                }
                let sent = async {
                    let conn = publisher
                        .get_or_try_init(|| ConnectionManager::new(client.clone()))
                        .await?;
                    // A plain notice is one byte, which no carried payload is.
                    let message = carried.unwrap_or(PLAIN_NOTICE);
                    conn.clone()
                        .publish::<_, _, i64>(Self::channel(namespace, key), message)
                        .await
                };
                if let Err(error) = sent.await {
                    tracing::warn!(%error, "hand-back notice not sent; the waiter polls instead");
                }
            }
        }
    }
}

/// What a plain notice publishes.
const PLAIN_NOTICE: &[u8] = b"!";

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Woken {
    /// A notice came.
    Notified,
    /// A notice came carrying these bytes ([`Handback::notify_with`]).
    Carrying(Vec<u8>),
    /// The time ran out.
    TimedOut,
    /// The channel is gone (Redis dropped the connection): stop waiting on it.
    Closed,
}

impl Waiter {
    /// Waits up to `timeout` for a notice.
    pub async fn wait(&mut self, timeout: Duration) -> Woken {
        match self {
            Waiter::Local(receiver, key) => {
                let wanted = async {
                    loop {
                        match receiver.recv().await {
                            Ok(seen) if seen.key == *key => return seen.woken(),
                            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                            Err(broadcast::error::RecvError::Closed) => return Woken::Closed,
                        }
                    }
                };
                tokio::time::timeout(timeout, wanted)
                    .await
                    .unwrap_or(Woken::TimedOut)
            }
            Waiter::Redis(waiter) => {
                use futures::StreamExt;
                let RedisWaiter { pubsub, here, .. } = waiter.as_mut();
                let mut messages = pubsub.on_message();
                let woken = async {
                    tokio::select! {
                        // The sender keeps its channel for as long as this waiter is registered.
                        Some(notice) = here.recv() => notice.woken(),
                        message = messages.next() => match message {
                            Some(message) => {
                                let bytes = message.get_payload_bytes();
                                if bytes == PLAIN_NOTICE {
                                    Woken::Notified
                                } else {
                                    Woken::Carrying(bytes.to_vec())
                                }
                            }
                            None => Woken::Closed,
                        },
                    }
                };
                tokio::time::timeout(timeout, woken)
                    .await
                    .unwrap_or(Woken::TimedOut)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_notices_wake_their_key_and_may_carry_bytes() {
        let handback = Handback::local();
        let mut waiter = handback.subscribe("voice:1").await.unwrap();
        handback.notify("voice:2").await;
        handback.notify_with("voice:1", b"P part").await;
        let wait = Duration::from_secs(1);
        assert_eq!(waiter.wait(wait).await, Woken::Carrying(b"P part".to_vec()));
        handback.notify("voice:1").await;
        assert_eq!(waiter.wait(wait).await, Woken::Notified);
        let quiet = Duration::from_millis(20);
        assert_eq!(waiter.wait(quiet).await, Woken::TimedOut);
    }
}
