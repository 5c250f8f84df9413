//! Redis clients for Caly's own connections (queue, live lane, hand-back, rate budgets), with
//! Nagle's algorithm off: a live turn is a chain of small commands, and a small write held back
//! for the server's delayed acknowledgement costs up to 40 ms on each hop.

use redis::{ConnectionInfo, IntoConnectionInfo, RedisError};

/// Where to connect for `url`, with `TCP_NODELAY` set.
pub fn connection_info(url: &str) -> Result<ConnectionInfo, RedisError> {
    let info = url.into_connection_info()?;
    let tcp = info.tcp_settings().clone().set_nodelay(true);
    Ok(info.set_tcp_settings(tcp))
}

/// A client for `url` whose connections send at once.
pub fn client(url: &str) -> Result<redis::Client, RedisError> {
    redis::Client::open(connection_info(url)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_send_without_nagle() {
        let info = connection_info("redis://127.0.0.1:6379/3").unwrap();
        assert!(info.tcp_settings().nodelay());
        assert_eq!(info.redis_settings().db(), 3);
    }
}
