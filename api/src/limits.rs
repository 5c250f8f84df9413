//! The api's rate limits (429 with `Retry-After` past them), counted per deployment:
//!
//! | limit | counts | allows |
//! |---|---|---|
//! | login per IP | every attempt | 30 per 10 min |
//! | login per account | failed attempts | 10 per 10 min |
//! | sign-up per IP | sign-ups and resends | 10 per hour |
//! | code verification per IP | every attempt | 30 per 10 min |
//! | password reset per IP | requests and resets | 10 per hour |
//! | webhooks per IP | failed authentications only (a valid delivery always passes) | 20 per 10 min |
//! | webhooks per tenant | authenticated deliveries | `CALY_HOOKS_PER_TENANT_PER_MINUTE` (60,000) |
//!
//! Webhooks are limited only on failures per IP and generously per tenant: Exotel sends from a
//! few addresses and retries only twice, so a valid delivery must never be refused.

use crate::ApiError;
use caly_core::App;
use caly_core::platform::rate_limit::Limit;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// Login attempts per IP.
pub const LOGIN_PER_IP: Limit = Limit {
    name: "login_ip",
    max: 30,
    window: Duration::from_secs(600),
};
/// Failed logins per account.
pub const LOGIN_FAILURES_PER_ACCOUNT: Limit = Limit {
    name: "login_account",
    max: 10,
    window: Duration::from_secs(600),
};
/// Sign-ups and code resends per IP.
pub const SIGNUP_PER_IP: Limit = Limit {
    name: "signup_ip",
    max: 10,
    window: Duration::from_secs(3600),
};
/// Code verifications per IP.
pub const VERIFY_PER_IP: Limit = Limit {
    name: "verify_ip",
    max: 30,
    window: Duration::from_secs(600),
};
/// Password-reset requests and resets per IP.
pub const RESET_PER_IP: Limit = Limit {
    name: "reset_ip",
    max: 10,
    window: Duration::from_secs(3600),
};
/// Failed webhook authentications per IP.
pub const HOOK_FAILURES_PER_IP: Limit = Limit {
    name: "hook_fail_ip",
    max: 20,
    window: Duration::from_secs(600),
};
/// Authenticated webhook deliveries per tenant, at the deployment's setting.
pub fn hooks_per_tenant(app: &App) -> Limit {
    Limit {
        name: "hook_tenant",
        max: app.settings.hooks_per_tenant_per_minute,
        window: MINUTE,
    }
}

/// Counts a hit by `who` (an IP, an account, a tenant); 429 when over the limit.
pub async fn hit(app: &App, limit: &Limit, who: &str) -> Result<(), ApiError> {
    Ok(app.limits.hit(limit, who).await?)
}

/// 429 when `who` is already over a limit that counts failures, without counting.
pub async fn check(app: &App, limit: &Limit, who: &str) -> Result<(), ApiError> {
    Ok(app.limits.check(limit, who).await?)
}

/// The key for a request's IP (`unknown` when the peer address is not known).
pub fn ip_key(ip: &Option<String>) -> &str {
    ip.as_deref().unwrap_or("unknown")
}
