//! People's accounts: sign-up with an emailed code, password login and reset, sessions (signed
//! access tokens and rotating refresh tokens), roles per tenant, API keys for machines, and the
//! audit log. The api authenticates every request through [`sessions::authenticate`] or
//! [`api_keys::authenticate`], which both yield a [`Principal`]: the one place a request's
//! tenant, user and role come from.

pub mod api_keys;
pub mod audit;
pub mod codes;
pub mod google;
pub mod invitations;
pub mod login;
pub mod members;
pub mod passwords;
pub mod roles;
pub mod sessions;
pub mod signup;
pub mod teams;
pub mod tokens;

pub use audit::Actor;
pub use roles::{Role, Scope};

use caly_entities::{tenant, user};
use caly_jobs::TenantId;
use std::time::Duration;

/// Session lifetimes.
#[derive(Clone, Debug)]
pub struct AccountSettings {
    /// How long an access token works (`CALY_ACCESS_TTL_SECS`, default 15 minutes).
    pub access_ttl: Duration,
    /// How long a refresh token works (`CALY_REFRESH_TTL_SECS`, default 30 days).
    pub refresh_ttl: Duration,
    /// "Sign in with Google", when configured.
    pub google: Option<google::GoogleSettings>,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            google: None,
        }
    }
}

/// How a request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A signed-in session (its id).
    Session(i64),
    /// An API key (its id).
    ApiKey(i64),
}

/// Who is making a request: the tenant it acts in, the person (none for an API key) and the
/// role that decides what it may do.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The tenant; every tenant-scoped query takes its id from here.
    pub tenant: tenant::Model,
    /// The signed-in user.
    pub user: Option<user::Model>,
    /// The role (an API key's scope's role).
    pub role: Role,
    /// How the request authenticated.
    pub via: Via,
}

impl Principal {
    /// The tenant's id.
    pub fn tenant_id(&self) -> TenantId {
        TenantId(self.tenant.id)
    }

    /// The audit log's actor for this principal.
    pub fn actor(&self, ip: Option<String>, request_id: Option<String>) -> Actor {
        let (user_id, name) = match (&self.user, self.via) {
            (Some(user), _) => (Some(user.id), user.email.clone()),
            (None, Via::ApiKey(id)) => (None, format!("api_key:{id}")),
            (None, Via::Session(id)) => (None, format!("session:{id}")),
        };
        Actor {
            tenant_id: Some(self.tenant.id),
            user_id,
            name,
            ip,
            request_id,
        }
    }
}

/// Where to send someone after signing in: `path` when it is a path on this site, else `/`.
/// Browsers drop tabs and newlines from URLs and read `\` as `/`, so `/\t/evil.example` would
/// become `//evil.example`: any control character, space or backslash makes it `/`.
pub fn safe_return_path(path: &str) -> String {
    let plain = !path
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if plain && path.starts_with('/') && !path.starts_with("//") {
        path.to_string()
    } else {
        "/".into()
    }
}

/// Lowercases and trims an email address and checks that it parses.
pub fn normalise_email(email: &str) -> Result<String, crate::Rejection> {
    let email = email.trim().to_lowercase();
    email
        .parse::<lettre::Address>()
        .map(|_| email.clone())
        .map_err(|_| crate::Rejection::InvalidField {
            field: "email",
            message: "is not a valid email address".into(),
        })
}

#[cfg(test)]
mod return_path_tests {
    use super::safe_return_path;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(
            safe_return_path("/calls?state=missed"),
            "/calls?state=missed"
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example",
            "evil",
            "",
            "/ /evil.example",
        ] {
            assert_eq!(safe_return_path(bad), "/", "{bad:?}");
        }
    }
}
