//! The deployment's security knobs (documented in `docs/security.md`): who is a trusted proxy,
//! how many codes an address may be mailed, the limits a self-service tenant cannot exceed,
//! how long a session may live, and whether a tenant may point Caly at its own Shopify URL.

use super::net::Cidr;
use std::time::Duration;

/// Security settings, from `CALY_*` variables.
#[derive(Clone, Debug)]
pub struct SecuritySettings {
    /// Peers whose `X-Forwarded-For` names the client (`CALY_TRUSTED_PROXIES`, CIDRs; none by
    /// default, so the header is ignored).
    pub trusted_proxies: Vec<Cidr>,
    /// Codes mailed to one address in 24 hours, for each purpose (sign-up, reset)
    /// (`CALY_CODES_PER_EMAIL_PER_DAY`, default 10).
    pub codes_per_email_per_day: u64,
    /// Typed (text) turns a tenant may send per minute (`CALY_TEXT_TURNS_PER_MIN`, default 60);
    /// one conversation may send a third of that. Voice turns are never limited here.
    pub text_turns_per_min: u64,
    /// Invitations a tenant may send per day (`CALY_INVITATIONS_PER_DAY`, default 50).
    pub invitations_per_day: u64,
    /// The longest a session lives however often it is refreshed (`CALY_SESSION_MAX_DAYS`,
    /// default 30).
    pub session_max_age: Duration,
    /// Whether a tenant may give its own Shopify `api_url` (`CALY_SHOPIFY_API_URL_OVERRIDE`,
    /// default false: the origin is always `https://{shop}.myshopify.com`).
    pub shopify_api_url_override: bool,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            trusted_proxies: Vec::new(),
            codes_per_email_per_day: 10,
            text_turns_per_min: 60,
            invitations_per_day: 50,
            session_max_age: Duration::from_secs(30 * 24 * 3600),
            shopify_api_url_override: false,
        }
    }
}
