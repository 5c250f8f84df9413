//! Allow-lists of outbound destinations: exact hosts and host suffixes, each optionally only
//! under a path prefix. Written as a comma-separated setting:
//! `recordings.exotel.com,.myshopify.com,s3-ap-southeast-1.amazonaws.com/exotelrecordings/`.

use super::EgressError;

/// Which hosts a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRule {
    /// Exactly this host (lower-case).
    Exact(String),
    /// Any sub-domain of this suffix (stored with its leading dot, lower-case).
    Suffix(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    host: HostRule,
    /// Only paths under this prefix (ending in `/`).
    path_prefix: Option<String>,
}

impl Rule {
    fn matches_host(&self, host: &str) -> bool {
        match &self.host {
            HostRule::Exact(exact) => host == exact,
            HostRule::Suffix(suffix) => {
                host.ends_with(suffix.as_str()) && host.len() > suffix.len()
            }
        }
    }
}

/// Destinations one kind of request may reach, and the setting that configures them.
#[derive(Debug, Clone)]
pub struct AllowList {
    rules: Vec<Rule>,
    setting: &'static str,
}

impl AllowList {
    /// Parses a comma-separated list; blank entries are skipped.
    pub fn parse(text: &str, setting: &'static str) -> Self {
        let rules = text
            .split(',')
            .map(|entry| entry.trim().to_ascii_lowercase())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                let (host, path) = match entry.split_once('/') {
                    Some((host, path)) => (host.to_string(), Some(path)),
                    None => (entry.clone(), None),
                };
                let path_prefix = path.map(|p| format!("/{}/", p.trim_matches('/')));
                let host = if host.starts_with('.') {
                    HostRule::Suffix(host)
                } else if let Some(rest) = host.strip_prefix("*.") {
                    HostRule::Suffix(format!(".{rest}"))
                } else {
                    HostRule::Exact(host)
                };
                Rule { host, path_prefix }
            })
            .collect();
        AllowList { rules, setting }
    }

    /// This list with one more exact host (e.g. an LLM base URL the operator configured).
    pub fn with_host(mut self, host: &str) -> Self {
        self.rules.push(Rule {
            host: HostRule::Exact(host.trim().to_ascii_lowercase()),
            path_prefix: None,
        });
        self
    }

    /// True when no destination is allowed.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Checks a parsed URL's host and path.
    pub(super) fn admit(&self, url: &url::Url) -> Result<(), EgressError> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        let for_host: Vec<&Rule> = self.rules.iter().filter(|r| r.matches_host(host)).collect();
        if for_host.is_empty() {
            return Err(EgressError::HostNotAllowed {
                host: host.to_string(),
                setting: self.setting,
            });
        }
        // `url` has already resolved `.` and `..` segments; percent-encoded ones are refused.
        let path = url.path();
        let encoded_dots = path.to_ascii_lowercase().contains("%2e");
        let path_ok = for_host.iter().any(|rule| match &rule.path_prefix {
            None => true,
            Some(prefix) => !encoded_dots && path.to_ascii_lowercase().starts_with(prefix.as_str()),
        });
        if path_ok {
            Ok(())
        } else {
            Err(EgressError::PathNotAllowed {
                host: host.to_string(),
                path: path.to_string(),
                setting: self.setting,
            })
        }
    }
}
