//! The Call Details API (`GET /v1/Accounts/{sid}/Calls/{CallSid}.json?details=true`), used to
//! reconcile calls whose StatusCallback was lost or came without a duration.

use super::{EventFields, ExotelError};
use crate::platform::egress::{EgressSettings, ExotelHosts};
use crate::tenancy::ExotelCredentials;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::collections::BTreeMap;

/// What Exotel said about a call.
#[derive(Debug)]
pub enum CallDetails {
    /// Final status and a duration: ready to ingest.
    Ready {
        /// The call as canonical event fields.
        fields: EventFields,
        /// The response body, kept as the raw event.
        raw: String,
    },
    /// Exotel has not filled in the final status or duration yet.
    NotYet(ExotelError),
}

/// Where and how Caly may call Exotel's API.
#[derive(Debug, Clone, Copy)]
pub struct ExotelApi<'a> {
    /// The outbound client.
    pub http: &'a reqwest::Client,
    /// The outbound policy.
    pub egress: &'a EgressSettings,
    /// Exotel's API hosts by region.
    pub hosts: &'a ExotelHosts,
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Maps a Call Details response into event fields (StatusCallback vocabulary).
pub fn details_to_fields(body: &Value) -> Option<EventFields> {
    let call = body.get("Call")?;
    let mut fields = BTreeMap::new();
    for (from, to) in [
        ("Sid", "CallSid"),
        ("Status", "Status"),
        ("StartTime", "StartTime"),
        ("EndTime", "EndTime"),
        ("From", "From"),
        ("To", "To"),
        ("Direction", "Direction"),
        ("RecordingUrl", "RecordingUrl"),
    ] {
        if let Some(value) = call.get(from).and_then(text) {
            fields.insert(to.to_string(), value);
        }
    }
    let details = call.get("Details");
    if let Some(value) = details
        .and_then(|d| d.get("ConversationDuration"))
        .and_then(text)
    {
        fields.insert("ConversationDuration".into(), value);
    }
    let mut legs: Vec<BTreeMap<String, String>> = details
        .and_then(|d| d.get("Legs"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get("Leg").or(Some(item)))
                .map(|leg| {
                    leg.as_object()
                        .map(|o| {
                            o.iter()
                                .filter_map(|(k, v)| text(v).map(|t| (k.clone(), t)))
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    // Without leg details, the call's Duration is the caller leg's time on the call.
    if legs.is_empty()
        && let Some(duration) = call.get("Duration").and_then(text)
    {
        legs.push(BTreeMap::from([("OnCallDuration".to_string(), duration)]));
    }
    Some(EventFields {
        fields,
        stream: BTreeMap::new(),
        legs,
    })
}

const WHAT: &str = "call details";

/// Fetches one call's details with the tenant's Basic auth, from the Exotel API host of the
/// tenant's region (`subdomain`) only.
pub async fn fetch(
    api: ExotelApi<'_>,
    subdomain: &str,
    account_sid: &str,
    creds: &ExotelCredentials,
    call_sid: &str,
) -> Result<CallDetails, ExotelError> {
    let refused = |source| ExotelError::Refused { what: WHAT, source };
    let base = api.hosts.base_for(subdomain).map_err(refused)?;
    let raw_url = format!("{base}/v1/Accounts/{account_sid}/Calls/{call_sid}.json?details=true");
    let url = api
        .egress
        .check_tenant_url(&api.hosts.allow_list(), &raw_url)
        .map_err(refused)?;
    let response = api
        .http
        .get(url)
        .basic_auth(creds.key.expose_secret(), Some(creds.token.expose_secret()))
        .send()
        .await
        .map_err(|e| ExotelError::request(WHAT, e))?;
    let status = response.status();
    let raw = response
        .text()
        .await
        .map_err(|e| ExotelError::request(WHAT, e))?;
    if !status.is_success() {
        return Err(ExotelError::Status { what: WHAT, status });
    }
    let body: Value = serde_json::from_str(&raw)?;
    let fields = details_to_fields(&body).ok_or(ExotelError::NoCallObject)?;
    // Judged exactly as ingest will judge it: final state and a billable duration.
    let facts = super::CallFacts::from_fields(super::HookKind::CallDetails, &fields);
    if !facts.state.is_some_and(|state| state.is_final()) {
        let status = fields.get(&["Status"]).unwrap_or_default().to_string();
        return Ok(CallDetails::NotYet(ExotelError::NotFinal(status)));
    }
    if facts.duration.is_none() {
        return Ok(CallDetails::NotYet(ExotelError::NoDurationYet));
    }
    Ok(CallDetails::Ready { fields, raw })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_spec_example_maps_to_status_fields() {
        let body = json!({"Call":{"Sid":"b6cf","Status":"completed","StartTime":"2024-03-03 10:48:33",
            "EndTime":"2024-03-03 10:49:50","Duration":"17","From":"0XXXXX30240","Direction":"inbound",
            "RecordingUrl":"https://recordings.exotel.com/exotelrecordings/acme1/b6cf.mp3",
            "Details":{"ConversationDuration":8,"Legs":[{"Leg":{"Id":1,"OnCallDuration":21}},{"Leg":{"Id":2,"OnCallDuration":8}}]}}});
        let fields = details_to_fields(&body).unwrap();
        assert_eq!(fields.call_sid(), Some("b6cf"));
        assert_eq!(fields.get(&["ConversationDuration"]), Some("8"));
        assert_eq!(fields.legs[0]["OnCallDuration"], "21");
        let bare = json!({"Call":{"Sid":"x","Status":"completed","Duration":"17"}});
        assert_eq!(
            details_to_fields(&bare).unwrap().legs[0]["OnCallDuration"],
            "17"
        );
    }
}
