//! The hand-back: a worker tells a waiting API request that its answer is stored. Redis
//! pub/sub in production (any worker, any API process), an in-process channel on the embedded
//! default. A notice wakes the waiter; the answer itself is read from where it is stored, so a
//! lost notice costs a short wait, never an answer. A notice may also carry a copy of what was
//! just stored ([`Handback::notify_with`]), which spares the waiter that read while a caller
//! listens.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OnceCell, broadcast};

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
    },
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

/// One request waiting for notices on one key.
pub enum Waiter {
    /// In process.
    Local(broadcast::Receiver<Notice>, String),
    /// A Redis subscription.
    Redis(Box<redis::aio::PubSub>),
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
                client, namespace, ..
            } => {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(Self::channel(namespace, key)).await?;
                Ok(Waiter::Redis(Box::new(pubsub)))
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
        match self {
            Handback::Local(sender) => {
                let _ = sender.send(Notice {
                    key: key.to_string(),
                    carried: carried.map(Arc::from),
                });
            }
            Handback::Redis {
                client,
                namespace,
                publisher,
            } => {
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
                            Ok(seen) if seen.key == *key => {
                                return match seen.carried {
                                    Some(bytes) => Woken::Carrying(bytes.to_vec()),
                                    None => Woken::Notified,
                                };
                            }
                            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                            Err(broadcast::error::RecvError::Closed) => return Woken::Closed,
                        }
                    }
                };
                tokio::time::timeout(timeout, wanted)
                    .await
                    .unwrap_or(Woken::TimedOut)
            }
            Waiter::Redis(pubsub) => {
                use futures::StreamExt;
                let mut messages = pubsub.on_message();
                match tokio::time::timeout(timeout, messages.next()).await {
                    Ok(Some(message)) => {
                        let bytes = message.get_payload_bytes();
                        if bytes == PLAIN_NOTICE {
                            Woken::Notified
                        } else {
                            Woken::Carrying(bytes.to_vec())
                        }
                    }
                    Ok(None) => Woken::Closed,
                    Err(_) => Woken::TimedOut,
                }
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
