//! The resolver behind Caly's outbound client: it looks a host up and keeps only the addresses
//! the policy allows (public ones; loopback too when `CALY_EGRESS_ALLOW_LOOPBACK` is on, never
//! private, link-local or metadata ones). The client connects only to what this returns, so a
//! name that resolves to an allowed address at the check and to an internal one at connect
//! time (DNS rebinding) still never reaches the inside.

use crate::platform::net::{canonical, is_internal};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};

/// Filters what the system resolver returns through [`address_allowed`].
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    /// Whether loopback addresses are allowed.
    pub allow_loopback: bool,
}

/// Whether an outbound connection may go to `ip`.
pub fn address_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    let ip = canonical(ip);
    !is_internal(ip) || (allow_loopback && ip.is_loopback())
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| address_allowed(addr.ip(), allow_loopback))
                .collect();
            if allowed.is_empty() {
                let refused = std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{host} resolves only to addresses Caly does not connect to \
                         (private, loopback, link-local or metadata)"
                    ),
                );
                return Err(refused.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_and_loopback_when_allowed() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(address_allowed(ip("23.227.38.65"), false));
        assert!(!address_allowed(ip("127.0.0.1"), false));
        assert!(address_allowed(ip("127.0.0.1"), true));
        assert!(address_allowed(ip("::1"), true));
        assert!(!address_allowed(ip("10.0.0.5"), true), "private stays out");
        assert!(
            !address_allowed(ip("169.254.169.254"), true),
            "metadata stays out"
        );
        assert!(!address_allowed(ip("::ffff:169.254.169.254"), true));
        assert!(!address_allowed(ip("fd00:ec2::254"), true));
    }

    #[tokio::test]
    async fn localhost_resolves_only_when_loopback_is_allowed() {
        let name = || "localhost".parse::<Name>().unwrap();
        assert!(
            GuardedResolver {
                allow_loopback: false
            }
            .resolve(name())
            .await
            .is_err()
        );
        let addrs: Vec<_> = GuardedResolver {
            allow_loopback: true,
        }
        .resolve(name())
        .await
        .unwrap()
        .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
