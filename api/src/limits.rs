//! The api's rate limits (429 with `Retry-After` past them), counted per deployment:
//!
//! | limit | counts | allows |
//! |---|---|---|
//! | login per IP | every attempt | 30 per 10 min |
//! | login per account and address | failed attempts | 3, then a wait of 1 s doubling per failure (at most 15 min) from that address |
//! | login per account | failed attempts | none refused; the owner is mailed at 10 in an hour |
//! | sign-up per IP | sign-ups and resends | 10 per hour |
//! | code verification per IP | every attempt | 30 per 10 min |
//! | password reset per IP | requests and resets | 10 per hour |
//! | webhooks per IP | failed authentications only (a valid delivery always passes) | 20 per 10 min |
//! | typed turns per tenant | every turn | `CALY_TEXT_TURNS_PER_MIN` (60) per minute |
//! | typed turns per conversation | every turn | a third of that per minute |
//! | invitations per tenant | every invitation | `CALY_INVITATIONS_PER_DAY` (50) per day |
//! | webhooks per tenant | authenticated deliveries | `CALY_HOOKS_PER_TENANT_PER_MINUTE` (60,000) |
//!
//! Webhooks are limited only on failures per IP and generously per tenant: Exotel sends from a
//! few addresses and retries only twice, so a valid delivery must never be refused.

use crate::ApiError;
use caly_core::App;
use caly_core::platform::rate_limit::{Backoff, Limit};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// Login attempts per IP.
pub const LOGIN_PER_IP: Limit = Limit {
    name: "login_ip",
    max: 30,
    window: Duration::from_secs(600),
};
/// Failed logins per account, counted only to mail the owner when they reach `max` (never to
/// refuse: that would let anyone lock the owner out).
pub const LOGIN_FAILURES_PER_ACCOUNT: Limit = Limit {
    name: "login_account",
    max: 10,
    window: Duration::from_secs(3600),
};
/// Sign-in tries per (account, client address) since the last success: three free, then a wait
/// of 1 s doubling per try up to 15 minutes, from that address only.
pub const LOGIN_FAILURE_BACKOFF: Backoff = Backoff {
    name: "login_backoff",
    free: 3,
    base: Duration::from_secs(1),
    max: Duration::from_secs(900),
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

/// Typed turns per tenant per minute (`CALY_TEXT_TURNS_PER_MIN`).
pub fn text_turns_per_tenant(app: &App) -> Limit {
    Limit {
        name: "text_turns_tenant",
        max: app.settings.security.text_turns_per_min,
        window: MINUTE,
    }
}

/// Typed turns per conversation per minute: a third of the tenant's allowance (at least 1).
pub fn text_turns_per_conversation(app: &App) -> Limit {
    Limit {
        name: "text_turns_call",
        max: (app.settings.security.text_turns_per_min / 3).max(1),
        window: MINUTE,
    }
}

/// Invitations per tenant per day (`CALY_INVITATIONS_PER_DAY`).
pub fn invitations_per_tenant(app: &App) -> Limit {
    Limit {
        name: "invitations_tenant",
        max: app.settings.security.invitations_per_day,
        window: Duration::from_secs(86_400),
    }
}

/// Counts a hit by `who` (an IP, an account, a tenant); 429 when over the limit.
pub async fn hit(app: &App, limit: &Limit, who: &str) -> Result<(), ApiError> {
    Ok(app.limits.hit(limit, who).await?)
}
