//! Text conversations: a call on the `text` channel, opened through the API, answered by the
//! same agent as phone calls and never billed.

use super::phone;
use crate::{BillingStatus, CallState, CoreError, Rejection};
use caly_entities::call;
use caly_entities::status::Channel;
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

/// Opens a text conversation for `caller` (normalised to E.164). The number is only what the
/// client claims: it must never count as caller ID when verifying a caller (text callers verify
/// with an order number and a second fact).
pub async fn open_text(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    caller: &str,
    now: DateTime<Utc>,
) -> Result<call::Model, CoreError> {
    let e164 =
        phone::to_e164(caller).ok_or_else(|| Rejection::InvalidCaller(caller.to_string()))?;
    let row = call::ActiveModel {
        tenant_id: Set(tenant.0),
        call_sid: Set(format!("text-{}", uuid::Uuid::new_v4().simple())),
        channel: Set(Channel::Text),
        state: Set(CallState::InProgress),
        from_number: Set(Some(e164)),
        from_raw: Set(Some(caller.trim().to_string())),
        direction: Set(Some("incoming".into())),
        bot_answered: Set(true),
        // Text is never billed: no duration ever arrives and no charge is armed.
        billing_status: Set(BillingStatus::NotFinal),
        happened_at: Set(now),
        last_event_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}
