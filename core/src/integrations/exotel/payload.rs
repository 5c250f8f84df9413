//! Parsing Exotel webhook bodies (Passthru and StatusCallback) in every documented variant:
//! GET query, form POST and JSON POST, with `Stream[...]` keys, a one-JSON-string `Stream=`,
//! and `Legs` as a JSON array or bracketed form keys.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a webhook body was rejected. Each maps to a 400 with a code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The body is neither valid JSON nor valid URL-encoded form data.
    #[error("the request body could not be parsed as JSON or form data: {0}")]
    Malformed(String),
    /// No `CallSid` anywhere in the request.
    #[error("the request has no CallSid")]
    MissingCallSid,
    /// A `CallSid` that cannot be a call id (too long or with odd characters).
    #[error("the CallSid is not a valid call id")]
    InvalidCallSid,
}

impl PayloadError {
    /// Machine-readable error code for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            PayloadError::Malformed(_) => "malformed_body",
            PayloadError::MissingCallSid => "missing_call_sid",
            PayloadError::InvalidCallSid => "invalid_call_sid",
        }
    }
}

/// An Exotel webhook body in one canonical shape, whatever encoding it arrived in.
///
/// `fields` holds top-level parameters, `stream` the `Stream[...]` metadata and `legs` the
/// per-leg objects. All values are kept as strings, exactly as sent (numbers become their text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFields {
    /// Top-level parameters such as `CallSid`, `From`, `Status`.
    pub fields: BTreeMap<String, String>,
    /// Stream/Voicebot metadata (`Stream[Duration]` → `Duration`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stream: BTreeMap<String, String>,
    /// Call legs, in order (first is the caller's leg).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legs: Vec<BTreeMap<String, String>>,
}

/// The encoding a webhook body was sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded` (or a GET query string).
    Form,
}

impl BodyEncoding {
    /// Picks the encoding from a content type, sniffing the body when the type says nothing.
    pub fn detect(content_type: Option<&str>, body: &[u8]) -> Self {
        match content_type {
            Some(ct) if ct.contains("json") => BodyEncoding::Json,
            Some(ct) if ct.contains("x-www-form-urlencoded") => BodyEncoding::Form,
            _ => {
                let first = body.iter().find(|b| !b.is_ascii_whitespace());
                if first == Some(&b'{') {
                    BodyEncoding::Json
                } else {
                    BodyEncoding::Form
                }
            }
        }
    }
}

/// Parses a request into canonical fields. Query parameters are read first and body fields
/// override them, so a GET, a form POST and a JSON POST of the same event compare equal.
pub fn parse_request(
    query: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<EventFields, PayloadError> {
    let mut out = EventFields::default();
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        merge_pairs(&mut out, parse_pairs(q.as_bytes())?)?;
    }
    if !body.iter().all(|b| b.is_ascii_whitespace()) {
        match BodyEncoding::detect(content_type, body) {
            BodyEncoding::Json => merge_json(&mut out, body)?,
            BodyEncoding::Form => merge_pairs(&mut out, parse_pairs(body)?)?,
        }
    }
    validate_call_sid(&out)?;
    Ok(out)
}

fn validate_call_sid(fields: &EventFields) -> Result<(), PayloadError> {
    let sid = fields.call_sid().ok_or(PayloadError::MissingCallSid)?;
    let ok = sid.len() <= 64
        && sid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(PayloadError::InvalidCallSid)
    }
}

fn parse_pairs(raw: &[u8]) -> Result<Vec<(String, String)>, PayloadError> {
    std::str::from_utf8(raw).map_err(|_| PayloadError::Malformed("body is not UTF-8".into()))?;
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw)
        .map_err(|e| PayloadError::Malformed(e.to_string()))
}

fn merge_pairs(out: &mut EventFields, pairs: Vec<(String, String)>) -> Result<(), PayloadError> {
    for (key, value) in pairs {
        if let Some(inner) = bracketed(&key, "Stream") {
            out.stream.insert(inner.to_string(), value);
        } else if key == "Stream" {
            merge_stream_value(out, &Value::String(value))?;
        } else if let Some(rest) = key.strip_prefix("Legs[") {
            merge_leg_key(out, rest, value);
        } else {
            out.fields.insert(key, value);
        }
    }
    Ok(())
}

/// `Stream[Duration]` → `Some("Duration")`.
fn bracketed<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    key.strip_prefix(prefix)?
        .strip_prefix('[')?
        .strip_suffix(']')
        .filter(|inner| !inner.contains('['))
}

/// `Legs[0][Status]` (rest = `0][Status]`) or `Legs[][Status]` (rest = `][Status]`).
fn merge_leg_key(out: &mut EventFields, rest: &str, value: String) {
    let Some((index, field)) = rest.split_once("][") else {
        return;
    };
    let field = field.trim_end_matches(']').to_string();
    let slot = match index.parse::<usize>() {
        Ok(i) if i < 64 => i,
        Ok(_) => return,
        // `Legs[][Field]`: a new leg starts whenever the field repeats.
        Err(_) => match out.legs.iter().position(|leg| !leg.contains_key(&field)) {
            Some(i) => i,
            None if out.legs.len() < 64 => out.legs.len(),
            None => return,
        },
    };
    while out.legs.len() <= slot {
        out.legs.push(BTreeMap::new());
    }
    out.legs[slot].insert(field, value);
}

fn merge_json(out: &mut EventFields, body: &[u8]) -> Result<(), PayloadError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| PayloadError::Malformed(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(PayloadError::Malformed("JSON body is not an object".into()));
    };
    for (key, value) in map {
        if key == "Stream" {
            merge_stream_value(out, &value)?;
        } else if key == "Legs" {
            merge_json_legs(out, &value);
        } else if let Some(inner) = bracketed(&key, "Stream") {
            if let Some(text) = scalar_text(&value) {
                out.stream.insert(inner.to_string(), text);
            }
        } else if let Some(text) = scalar_text(&value) {
            out.fields.insert(key, text);
        }
    }
    Ok(())
}

fn merge_stream_value(out: &mut EventFields, value: &Value) -> Result<(), PayloadError> {
    let object = match value {
        Value::Object(map) => map.clone(),
        Value::String(text) if text.trim().is_empty() => return Ok(()),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(PayloadError::Malformed(
                    "Stream is not a JSON object".into(),
                ));
            }
        },
        Value::Null => return Ok(()),
        _ => {
            return Err(PayloadError::Malformed(
                "Stream is not a JSON object".into(),
            ));
        }
    };
    for (key, value) in object {
        if let Some(text) = scalar_text(&value) {
            out.stream.insert(key, text);
        }
    }
    Ok(())
}

fn merge_json_legs(out: &mut EventFields, value: &Value) {
    let Value::Array(items) = value else { return };
    for item in items {
        let Value::Object(map) = item else { continue };
        // Call Details wraps each leg as {"Leg": {...}}; StatusCallback does not.
        let map = match map.get("Leg") {
            Some(Value::Object(inner)) => inner,
            _ => map,
        };
        let leg = map
            .iter()
            .filter_map(|(k, v)| scalar_text(v).map(|t| (k.clone(), t)))
            .collect();
        out.legs.push(leg);
    }
}

/// Text of a scalar JSON value; `None` for null, arrays and objects.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl EventFields {
    /// The first non-empty value among `keys`.
    pub fn get(&self, keys: &[&str]) -> Option<&str> {
        keys.iter()
            .filter_map(|k| self.fields.get(*k))
            .map(|v| v.trim())
            .find(|v| !v.is_empty())
    }

    /// The call id.
    pub fn call_sid(&self) -> Option<&str> {
        self.get(&["CallSid", "call_sid", "CallSID"])
    }

    /// A stream metadata value (`Stream[Key]` or the JSON-POST variant's top-level `StreamSid`).
    pub fn stream_value(&self, key: &str) -> Option<&str> {
        self.stream
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The canonical JSON text, used for the duplicate-delivery key.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("string maps always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unindexed_legs_are_capped() {
        let body = "CallSid=abc&".to_string() + &"Legs[][Status]=x&".repeat(5000);
        let fields = parse_request(None, None, body.as_bytes()).unwrap();
        assert_eq!(fields.legs.len(), 64);
    }
}
