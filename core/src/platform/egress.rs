//! Outbound fetch policy: the one HTTP client Caly uses to reach other hosts (no redirects, a
//! timeout) and the allow-list a URL must pass before anything is fetched from it.

use std::time::Duration;

/// Why an outbound URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// The text is not a URL.
    #[error("the URL is not a valid URL")]
    NotAUrl,
    /// Only http and https are fetched.
    #[error("the URL's scheme '{0}' is not http(s)")]
    Scheme(String),
    /// The host is not on the allow-list.
    #[error("host '{host}' is not allowed ({setting})")]
    HostNotAllowed {
        /// The refused host.
        host: String,
        /// The setting that lists allowed hosts.
        setting: &'static str,
    },
}

/// Hosts a kind of outbound fetch may reach, and the setting that configures them.
#[derive(Debug, Clone, Copy)]
pub struct HostPolicy<'a> {
    /// Allowed hosts, lower-case.
    pub hosts: &'a [String],
    /// The environment variable behind `hosts`, named in refusals.
    pub setting: &'static str,
}

impl HostPolicy<'_> {
    /// Parses `raw` and checks its scheme and host.
    pub fn check(&self, raw: &str) -> Result<url::Url, EgressError> {
        let url = url::Url::parse(raw).map_err(|_| EgressError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EgressError::Scheme(url.scheme().to_string()));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if self.hosts.contains(&host) {
            Ok(url)
        } else {
            Err(EgressError::HostNotAllowed {
                host,
                setting: self.setting,
            })
        }
    }
}

/// The outbound HTTP client: never follows redirects (a redirect could leave the allow-list),
/// and gives up after `timeout`.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client with a timeout and no redirects always builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_hosts_pass() {
        let hosts = vec!["recordings.exotel.com".to_string()];
        let policy = HostPolicy {
            hosts: &hosts,
            setting: "CALY_RECORDING_HOSTS",
        };
        assert!(
            policy
                .check("https://recordings.exotel.com/x/y.mp3")
                .is_ok()
        );
        assert!(matches!(
            policy.check("https://evil.example/x.mp3"),
            Err(EgressError::HostNotAllowed { .. })
        ));
        assert_eq!(
            policy.check("file:///etc/passwd"),
            Err(EgressError::Scheme("file".into()))
        );
        assert_eq!(policy.check("not a url"), Err(EgressError::NotAUrl));
    }
}
