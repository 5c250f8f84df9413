//! A store's profile: what the agent quotes (policies), when people answer (support hours),
//! where calls escalate, what the bot is called and how a call opens. Read from JSON or TOML,
//! checked field by field, stored as JSON.

use crate::calls::phone;
use crate::{CoreError, Rejection};
use caly_entities::store_profile;
use caly_jobs::TenantId;
use chrono::{DateTime, NaiveTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::{Deserialize, Serialize};

/// The policies the agent quotes, each free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// Shipping times and charges.
    pub shipping: String,
    /// Returns: window and how.
    pub returns: String,
    /// Refunds: how and how long.
    pub refunds: String,
    /// Cash on delivery.
    pub cod: String,
    /// Current offers.
    pub offers: String,
}

/// When people answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportHours {
    /// IANA time zone, e.g. `Asia/Kolkata`.
    pub timezone: String,
    /// Days open: `mon` … `sun`.
    pub days: Vec<String>,
    /// Opening time, `HH:MM`.
    pub open: String,
    /// Closing time, `HH:MM`.
    pub close: String,
}

/// A store's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreProfile {
    /// What the agent quotes.
    pub policies: Policies,
    /// When people answer.
    pub support_hours: SupportHours,
    /// Where calls go to a person (E.164 once stored).
    pub escalation_number: String,
    /// What the bot calls itself.
    pub bot_name: String,
    /// The words that open a call, including the notice that an AI answers and the call is
    /// recorded.
    pub greeting: String,
    /// Every call goes to a person.
    #[serde(default)]
    pub send_all_to_human: bool,
    /// Phone numbers, card numbers and spoken codes are redacted from stored transcripts and
    /// turn text (the recordings are untouched). On unless the store keeps the text.
    #[serde(default = "redaction_default")]
    pub redact_transcripts: bool,
}

fn redaction_default() -> bool {
    true
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn invalid(field: &str, why: &str) -> CoreError {
    Rejection::InvalidProfile(format!("'{field}' {why}")).into()
}

impl StoreProfile {
    /// Parses a profile file's text, JSON or TOML by the file's extension.
    pub fn parse(text: &str, extension: &str) -> Result<Self, CoreError> {
        let parsed = match extension.to_ascii_lowercase().as_str() {
            "json" => serde_json::from_str(text).map_err(|e| e.to_string()),
            "toml" => toml::from_str(text).map_err(|e| e.to_string()),
            other => {
                return Err(Rejection::InvalidProfile(format!(
                    "a profile is a .json or .toml file, not .{other}"
                ))
                .into());
            }
        };
        let profile: StoreProfile = parsed.map_err(Rejection::InvalidProfile)?;
        profile.checked()
    }

    /// Checks every field and normalises the escalation number to E.164.
    pub fn checked(mut self) -> Result<Self, CoreError> {
        let p = &self.policies;
        for (field, text) in [
            ("policies.shipping", &p.shipping),
            ("policies.returns", &p.returns),
            ("policies.refunds", &p.refunds),
            ("policies.cod", &p.cod),
            ("policies.offers", &p.offers),
            ("bot_name", &self.bot_name),
            ("greeting", &self.greeting),
        ] {
            if text.trim().is_empty() {
                return Err(invalid(field, "must not be empty"));
            }
        }
        let hours = &mut self.support_hours;
        hours.timezone = hours.timezone.trim().to_string();
        if hours.zone().is_none() {
            return Err(invalid(
                "support_hours.timezone",
                "must be an IANA zone like Asia/Kolkata",
            ));
        }
        hours.days = hours
            .days
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .collect();
        if hours.days.is_empty() || hours.days.iter().any(|d| !DAYS.contains(&d.as_str())) {
            return Err(invalid(
                "support_hours.days",
                "must list days as mon, tue, wed, thu, fri, sat, sun",
            ));
        }
        let time = |field: &str, text: &str| {
            NaiveTime::parse_from_str(text.trim(), "%H:%M")
                .map_err(|_| invalid(field, "must be a time like 09:30"))
        };
        let (open, close) = (
            time("support_hours.open", &hours.open)?,
            time("support_hours.close", &hours.close)?,
        );
        if open >= close {
            return Err(invalid(
                "support_hours.close",
                "must be after support_hours.open",
            ));
        }
        self.escalation_number = phone::to_e164(&self.escalation_number).ok_or_else(|| {
            invalid(
                "escalation_number",
                "must be a phone number like +919812345678",
            )
        })?;
        Ok(self)
    }
}

/// Stores (or replaces) the tenant's profile.
pub async fn save_profile(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    profile: &StoreProfile,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    crate::tenancy::find(db, tenant).await?;
    let json = serde_json::to_string(profile).expect("a profile always serialises");
    store_profile::Entity::insert(store_profile::ActiveModel {
        tenant_id: Set(tenant.0),
        profile: Set(json),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(store_profile::Column::TenantId)
            .update_columns([
                store_profile::Column::Profile,
                store_profile::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The tenant's profile, if set.
pub async fn profile_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Option<StoreProfile>, CoreError> {
    let Some(row) = store_profile::Entity::find_by_id(tenant.0).one(db).await? else {
        return Ok(None);
    };
    let profile = serde_json::from_str(&row.profile)
        .map_err(|e| Rejection::InvalidProfile(format!("the stored profile is unreadable: {e}")))?;
    Ok(Some(profile))
}

/// Whether the tenant's transcripts and turn text are redacted: yes, unless its profile keeps
/// the text.
pub async fn redacts_transcripts(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<bool, CoreError> {
    Ok(redacts(profile_of(db, tenant).await?.as_ref()))
}

/// Whether a store with this profile redacts what callers say (on unless it chose raw text).
pub fn redacts(profile: Option<&StoreProfile>) -> bool {
    profile.is_none_or(|p| p.redact_transcripts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
escalation_number = "098123 45678"
bot_name = "Meera"
greeting = "Namaste! I'm Meera, Kesar's AI assistant. This call is recorded."

[policies]
shipping = "Free shipping over ₹999; 3–5 days."
returns = "Returns within 7 days of delivery."
refunds = "Refunds in 5–7 working days."
cod = "COD up to ₹5,000."
offers = "FESTIVE10: 10% off."

[support_hours]
timezone = "Asia/Kolkata"
days = ["Mon", "tue", "wed", "thu", "fri", "sat"]
open = "10:00"
close = "19:00"
"#;

    #[test]
    fn toml_and_json_profiles_parse_and_are_checked() {
        let profile = StoreProfile::parse(TOML, "toml").unwrap();
        assert_eq!(profile.escalation_number, "+919812345678");
        assert_eq!(profile.support_hours.days[0], "mon");
        assert!(!profile.send_all_to_human);
        let json = serde_json::to_string(&profile).unwrap();
        assert_eq!(StoreProfile::parse(&json, "JSON").unwrap(), profile);

        let broken = |from: &str, to: &str| {
            StoreProfile::parse(&TOML.replace(from, to), "toml")
                .unwrap_err()
                .to_string()
        };
        assert!(broken("19:00", "25:00").contains("support_hours.close"));
        assert!(broken("\"10:00\"", "\"20:00\"").contains("after support_hours.open"));
        assert!(broken("\"Meera\"", "\" \"").contains("bot_name"));
        assert!(broken("Asia/Kolkata", "IST").contains("timezone"));
        assert!(broken("Asia/Kolkata", "Asia/Atlantis").contains("timezone"));
        assert!(broken("\"Mon\"", "\"monday\"").contains("support_hours.days"));
        assert!(broken("098123 45678", "call us").contains("escalation_number"));
        assert!(broken("bot_name", "bot_nme").contains("bot_nme"));
        assert!(
            StoreProfile::parse(TOML, "yaml")
                .unwrap_err()
                .to_string()
                .contains(".json or .toml")
        );
    }
}
