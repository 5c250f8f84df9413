//! The one outbound policy. Every request Caly makes to another host (recordings, Exotel's
//! Call Details, and the Shopify, speech and LLM providers to come) is checked here first and
//! made with the client built here:
//! - https only, on allowed ports (443 by default);
//! - to hosts on the caller's allow-list: exact hosts, host suffixes (`.myshopify.com`), each
//!   optionally only under a path prefix (`s3-ap-southeast-1.amazonaws.com/exotelrecordings/`);
//! - no redirects (a redirect could leave the allow-list), connect and read timeouts, and a
//!   size cap on downloads;
//! - loopback hosts may skip the https and port rules when `CALY_EGRESS_ALLOW_LOOPBACK` is on
//!   (the embedded default and tests); they must still be on the allow-list;
//! - never to a private, loopback (unless that switch is on), link-local or metadata address,
//!   whether written in the URL or resolved from its host: the client connects only to the
//!   addresses its [`resolver::GuardedResolver`] let through (no DNS rebinding).

mod allow_list;
pub mod exotel_hosts;
pub mod resolver;

pub use allow_list::{AllowList, HostRule};
pub use exotel_hosts::ExotelHosts;

use std::net::IpAddr;
use std::time::Duration;

/// Why an outbound request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// The text is not a URL.
    #[error("the URL is not a valid URL")]
    NotAUrl,
    /// Only https is allowed (http too for loopback hosts when the loopback switch is on).
    #[error("the URL's scheme '{0}' is not https")]
    Scheme(String),
    /// URLs with a user name or password are refused (credentials go in headers).
    #[error("the URL carries credentials")]
    Credentials,
    /// The host is not on the allow-list.
    #[error("host '{host}' is not allowed ({setting})")]
    HostNotAllowed {
        /// The refused host.
        host: String,
        /// The setting that lists allowed hosts.
        setting: &'static str,
    },
    /// The host is, or resolves to, an address Caly never connects to.
    #[error(
        "address {0} is private, loopback, link-local or metadata (CALY_EGRESS_ALLOW_LOOPBACK)"
    )]
    InternalAddress(String),
    /// The host is allowed only under other paths.
    #[error("path '{path}' on host '{host}' is not allowed ({setting})")]
    PathNotAllowed {
        /// The host.
        host: String,
        /// The refused path.
        path: String,
        /// The setting that lists allowed hosts and paths.
        setting: &'static str,
    },
    /// The port is not allowed.
    #[error("port {port} is not allowed (CALY_EGRESS_PORTS)")]
    Port {
        /// The refused port.
        port: u16,
    },
    /// A tenant's Exotel API host is not one of Exotel's.
    #[error("'{0}' is not one of Exotel's API hosts (CALY_EXOTEL_API_HOSTS)")]
    NotExotelHost(String),
    /// The download is larger than the cap.
    #[error("the download is larger than {limit} bytes (CALY_EGRESS_MAX_BYTES)")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
}

impl EgressError {
    /// True when the refusal is the size cap.
    pub fn is_size_limit(&self) -> bool {
        matches!(self, EgressError::TooLarge { .. })
    }
}

/// The deployment-wide outbound rules.
#[derive(Debug, Clone)]
pub struct EgressSettings {
    /// Loopback hosts skip the https and port rules (`CALY_EGRESS_ALLOW_LOOPBACK`).
    pub allow_loopback: bool,
    /// Ports https requests may use (`CALY_EGRESS_PORTS`, default 443).
    pub ports: Vec<u16>,
    /// Largest download, in bytes (`CALY_EGRESS_MAX_BYTES`).
    pub max_download_bytes: u64,
    /// Time to connect (`CALY_EGRESS_CONNECT_TIMEOUT_SECS`).
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response (`CALY_EGRESS_READ_TIMEOUT_SECS`).
    pub read_timeout: Duration,
    /// Longest whole request (`CALY_FETCH_TIMEOUT_SECS`).
    pub total_timeout: Duration,
}

/// True for `localhost` and loopback addresses.
pub fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

impl EgressSettings {
    /// A policy for loopback servers (the demo store, tests): loopback allowed, 1 MiB answers,
    /// a few seconds per request.
    pub fn loopback() -> EgressSettings {
        EgressSettings {
            allow_loopback: true,
            ports: vec![443],
            max_download_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(10),
        }
    }

    /// Parses `raw` and checks it against these rules and `allowed`.
    pub fn check(&self, allowed: &AllowList, raw: &str) -> Result<url::Url, EgressError> {
        let url = url::Url::parse(raw).map_err(|_| EgressError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EgressError::Scheme(url.scheme().to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EgressError::Credentials);
        }
        let host = url.host().ok_or(EgressError::NotAUrl)?;
        let exempt = self.allow_loopback && is_loopback(&host);
        if url.scheme() != "https" && !exempt {
            return Err(EgressError::Scheme(url.scheme().to_string()));
        }
        let port = url.port_or_known_default().unwrap_or(0);
        if !exempt && !self.ports.contains(&port) {
            return Err(EgressError::Port { port });
        }
        allowed.admit(&url)?;
        Ok(url)
    }

    /// [`EgressSettings::check`] for a URL a tenant can influence (its store, a webhook's
    /// recording, Exotel's API): an address written in the URL must also be one the policy
    /// lets Caly connect to (never private, link-local or metadata; loopback only with the
    /// switch). A host name is held to the same rule by the client's resolver. Endpoints the
    /// operator configures (the language model, sign-in with Google) use `check` alone.
    pub fn check_tenant_url(
        &self,
        allowed: &AllowList,
        raw: &str,
    ) -> Result<url::Url, EgressError> {
        let url = self.check(allowed, raw)?;
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && !resolver::address_allowed(ip, self.allow_loopback)
        {
            return Err(EgressError::InternalAddress(ip.to_string()));
        }
        Ok(url)
    }

    /// The outbound HTTP client: no redirects, these timeouts, and only to addresses the
    /// policy allows.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            // A proxy from the environment would resolve and connect for us, past the resolver.
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(resolver::GuardedResolver {
                allow_loopback: self.allow_loopback,
            }))
            .timeout(self.total_timeout)
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client with timeouts and no redirects always builds")
    }

    /// Refuses a response whose declared length is over the cap.
    pub fn check_length(&self, declared: Option<u64>) -> Result<(), EgressError> {
        match declared {
            Some(len) if len > self.max_download_bytes => Err(EgressError::TooLarge {
                limit: self.max_download_bytes,
            }),
            _ => Ok(()),
        }
    }

    /// Counts streamed bytes against the cap.
    pub fn check_received(&self, received: u64) -> Result<(), EgressError> {
        self.check_length(Some(received))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> EgressSettings {
        EgressSettings {
            allow_loopback: false,
            ports: vec![443],
            max_download_bytes: 100,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_secs(1),
        }
    }

    fn recordings() -> AllowList {
        AllowList::parse(
            "recordings.exotel.com,s3-ap-southeast-1.amazonaws.com/exotelrecordings/,.myshopify.com,127.0.0.1",
            "CALY_RECORDING_HOSTS",
        )
    }

    #[test]
    fn allowed_urls_pass() {
        let policy = strict();
        for ok in [
            "https://recordings.exotel.com/exotelrecordings/acme/x.mp3",
            "https://RECORDINGS.exotel.com:443/x.mp3",
            "https://s3-ap-southeast-1.amazonaws.com/exotelrecordings/acme/x.mp3",
            "https://acme.myshopify.com/admin/api/2025-01/graphql.json",
        ] {
            assert!(policy.check(&recordings(), ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn each_rule_refuses() {
        let policy = strict();
        let list = recordings();
        let refused = |raw: &str| policy.check(&list, raw).unwrap_err();
        assert_eq!(refused("not a url"), EgressError::NotAUrl);
        assert_eq!(
            refused("file:///etc/passwd"),
            EgressError::Scheme("file".into())
        );
        assert_eq!(
            refused("http://recordings.exotel.com/x.mp3"),
            EgressError::Scheme("http".into())
        );
        assert_eq!(
            refused("https://u:p@recordings.exotel.com/x.mp3"),
            EgressError::Credentials
        );
        assert!(matches!(
            refused("https://evil.example/x.mp3"),
            EgressError::HostNotAllowed { .. }
        ));
        // A suffix matches sub-domains only, not look-alikes.
        assert!(matches!(
            refused("https://evilmyshopify.com/"),
            EgressError::HostNotAllowed { .. }
        ));
        assert!(matches!(
            refused("https://s3-ap-southeast-1.amazonaws.com/someone-elses-bucket/x"),
            EgressError::PathNotAllowed { .. }
        ));
        // A prefix is a whole path segment, and dot segments cannot climb out of it.
        assert!(matches!(
            refused("https://s3-ap-southeast-1.amazonaws.com/exotelrecordings-evil/x"),
            EgressError::PathNotAllowed { .. }
        ));
        assert!(matches!(
            refused("https://s3-ap-southeast-1.amazonaws.com/exotelrecordings/../other/x"),
            EgressError::PathNotAllowed { .. }
        ));
        assert_eq!(
            refused("https://recordings.exotel.com:8443/x.mp3"),
            EgressError::Port { port: 8443 }
        );
        // Loopback follows the https and port rules unless the switch is on.
        assert_eq!(
            refused("http://127.0.0.1:9000/x.mp3"),
            EgressError::Scheme("http".into())
        );
        let loopback = EgressSettings {
            allow_loopback: true,
            ..strict()
        };
        assert!(loopback.check(&list, "http://127.0.0.1:9000/x.mp3").is_ok());
        // ...and must still be on the allow-list.
        assert!(matches!(
            loopback.check(&list, "http://localhost:9000/x.mp3"),
            Err(EgressError::HostNotAllowed { .. })
        ));
    }

    #[test]
    fn the_size_cap_refuses_long_bodies() {
        let policy = strict();
        assert!(policy.check_length(None).is_ok());
        assert!(policy.check_length(Some(100)).is_ok());
        assert_eq!(
            policy.check_length(Some(101)),
            Err(EgressError::TooLarge { limit: 100 })
        );
        assert!(policy.check_received(101).unwrap_err().is_size_limit());
    }
}
