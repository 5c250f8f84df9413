//! Checking a tenant's Exotel credentials: `GET /v1/Accounts/{sid}.json` with Basic auth on the
//! region's API host. 200 means the key, token and SID work there; 401/403/404 mean they do not
//! (Exotel answers a wrong region with one of these, so the caller tries the other regions).

use super::ExotelError;
use super::details::ExotelApi;
use crate::tenancy::ExotelCredentials;
use secrecy::ExposeSecret;

const WHAT: &str = "account check";

/// What Exotel said about the credentials in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountCheck {
    /// They work here.
    Valid,
    /// Refused here (the status Exotel answered).
    Refused(u16),
}

/// Asks one region's host whether the credentials work.
pub async fn check_account(
    api: ExotelApi<'_>,
    region: &str,
    account_sid: &str,
    creds: &ExotelCredentials,
) -> Result<AccountCheck, ExotelError> {
    let refused = |source| ExotelError::Refused { what: WHAT, source };
    let base = api.hosts.base_for(region).map_err(refused)?;
    let sid: String = url::form_urlencoded::byte_serialize(account_sid.trim().as_bytes()).collect();
    let url = api
        .egress
        .check_tenant_url(
            &api.hosts.allow_list(),
            &format!("{base}/v1/Accounts/{sid}.json"),
        )
        .map_err(refused)?;
    let response = api
        .http
        .get(url)
        .basic_auth(creds.key.expose_secret(), Some(creds.token.expose_secret()))
        .send()
        .await
        .map_err(|e| ExotelError::request(WHAT, e))?;
    let status = response.status();
    match status.as_u16() {
        200..=299 => Ok(AccountCheck::Valid),
        401 | 403 | 404 => Ok(AccountCheck::Refused(status.as_u16())),
        _ => Err(ExotelError::Status { what: WHAT, status }),
    }
}
