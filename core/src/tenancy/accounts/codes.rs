//! Emailed one-time codes: six digits (and, for password resets, a long token for a link),
//! stored as keyed hashes, live for 10 minutes, 5 guesses allowed, resendable after a
//! cooldown, at most `CALY_CODES_PER_EMAIL_PER_DAY` per address and purpose a day. A new code for the same
//! (purpose, email, binding) supersedes the old one; a sign-up's code is bound to the token its
//! start handed out ([`CodeFor::binding`]).

use crate::platform::crypto::{MasterKey, SealedAt, constant_time_eq, random_token};
use crate::{CoreError, Rejection};
use caly_entities::email_code;
use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::time::Duration;

/// How long a code works.
pub const CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Guesses a code allows before it is locked.
pub const MAX_ATTEMPTS: i32 = 5;
/// How soon after a code another may be sent to the same address for the same purpose.
pub const RESEND_COOLDOWN: Duration = Duration::from_secs(60);

/// What a code proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Finishing a sign-up.
    Signup,
    /// Resetting a password.
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Signup => "signup",
            Purpose::Reset => "reset",
        }
    }
}

/// A code just issued, to be mailed (never stored in the clear).
#[derive(Debug)]
pub struct IssuedCode {
    /// The six digits.
    pub code: String,
    /// The link token (password resets).
    pub link_token: Option<String>,
}

/// Which code a request means: the purpose, the address and, for a sign-up, the token given
/// to whoever started it (a code is good only with its own token, so a second sign-up for the
/// same address, by anyone, starts its own code and never reaches another's).
#[derive(Clone, Copy, Debug)]
pub struct CodeFor<'a> {
    /// What the code proves.
    pub purpose: Purpose,
    /// The address (normalised).
    pub email: &'a str,
    /// The sign-up's token, in the clear as the client holds it.
    pub binding: Option<&'a str>,
}

impl<'a> CodeFor<'a> {
    /// A code that proves the address alone (password resets).
    pub fn address(purpose: Purpose, email: &'a str) -> Self {
        CodeFor {
            purpose,
            email,
            binding: None,
        }
    }
}

fn code_hash(key: &MasterKey, purpose: Purpose, email: &str, code: &str) -> String {
    key.sign(
        "email-code",
        &format!("{}:{email}:{code}", purpose.as_str()),
    )
}

fn link_hash(key: &MasterKey, token: &str) -> String {
    key.sign("email-link", token)
}

/// Where a code's sealed payload lives: bound to the code it belongs to.
fn payload_at(code_hash: &str) -> SealedAt<'_> {
    SealedAt::new("email_codes", "payload", code_hash)
}

fn binding_hash(key: &MasterKey, token: &str) -> String {
    key.sign("email-code-binding", token)
}

impl CodeFor<'_> {
    /// The code rows of this purpose, address and binding.
    fn rows(&self, key: &MasterKey) -> Condition {
        let binding = match self.binding {
            Some(token) => email_code::Column::BindingHash.eq(binding_hash(key, token)),
            None => email_code::Column::BindingHash.is_null(),
        };
        Condition::all()
            .add(email_code::Column::Purpose.eq(self.purpose.as_str()))
            .add(email_code::Column::Email.eq(self.email))
            .add(binding)
    }
}

async fn live(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    which: CodeFor<'_>,
) -> Result<Option<email_code::Model>, CoreError> {
    Ok(email_code::Entity::find()
        .filter(which.rows(key))
        .order_by_desc(email_code::Column::Id)
        .one(db)
        .await?)
}

/// Seconds until another code may be sent for `which`, if the cooldown is still running.
pub async fn cooldown_left(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    which: CodeFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<u64>, CoreError> {
    let Some(last) = live(db, key, which).await? else {
        return Ok(None);
    };
    let ready = last.sent_at + chrono::Duration::from_std(RESEND_COOLDOWN).expect("small");
    Ok((ready > now).then(|| Ord::max((ready - now).num_seconds(), 1) as u64))
}

/// Seconds until the address may be sent another code for `purpose`, when it has had
/// `per_day` of them (whoever asked) in the last 24 hours. Counted per purpose, so a flood of
/// reset requests cannot stop the address signing up, nor sign-ups stop a reset.
async fn daily_cap_left(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    email: &str,
    per_day: u64,
    now: DateTime<Utc>,
) -> Result<Option<u64>, CoreError> {
    let since = now - chrono::Duration::days(1);
    let recent = email_code::Entity::find()
        .filter(email_code::Column::Purpose.eq(purpose.as_str()))
        .filter(email_code::Column::Email.eq(email))
        .filter(email_code::Column::SentAt.gt(since))
        .order_by_desc(email_code::Column::SentAt)
        .limit(per_day)
        .all(db)
        .await?;
    if (recent.len() as u64) < per_day {
        return Ok(None);
    }
    let oldest = recent.last().map(|r| r.sent_at).unwrap_or(now);
    Ok(Some(Ord::max((oldest - since).num_seconds(), 1) as u64))
}

/// Issues a code for `which` (superseding any earlier one for the same purpose, address and
/// binding), carrying a sealed `payload`. Refuses with [`Rejection::TooSoon`] inside the
/// cooldown, or when the address has had `per_day` codes for the purpose in the last 24 hours.
pub async fn issue(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    which: CodeFor<'_>,
    payload: Option<String>,
    per_day: u64,
    now: DateTime<Utc>,
) -> Result<IssuedCode, CoreError> {
    if let Some(retry_after_secs) = cooldown_left(db, key, which, now).await? {
        return Err(Rejection::TooSoon { retry_after_secs }.into());
    }
    if let Some(retry_after_secs) =
        daily_cap_left(db, which.purpose, which.email, per_day, now).await?
    {
        return Err(Rejection::TooSoon { retry_after_secs }.into());
    }
    email_code::Entity::update_many()
        .col_expr(email_code::Column::ConsumedAt, Expr::value(Some(now)))
        .filter(which.rows(key))
        .filter(email_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let link_token = (which.purpose == Purpose::Reset).then(|| random_token(""));
    let hashed = code_hash(key, which.purpose, which.email, &code);
    let payload = payload.map(|p| key.seal(&p, payload_at(&hashed)));
    email_code::ActiveModel {
        purpose: Set(which.purpose.as_str().into()),
        email: Set(which.email.into()),
        code_hash: Set(hashed),
        link_hash: Set(link_token.as_deref().map(|t| link_hash(key, t))),
        binding_hash: Set(which.binding.map(|token| binding_hash(key, token))),
        attempts: Set(0),
        payload: Set(payload),
        sent_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(CODE_TTL).expect("small")),
        consumed_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(IssuedCode { code, link_token })
}

/// The payload of the live code again, to resend it with a new code.
pub async fn live_payload(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    which: CodeFor<'_>,
) -> Result<Option<String>, CoreError> {
    let Some(code) = live(db, key, which).await? else {
        return Ok(None);
    };
    match code.payload {
        Some(sealed) if code.consumed_at.is_none() => {
            Ok(Some(key.open(&sealed, payload_at(&code.code_hash))?))
        }
        _ => Ok(None),
    }
}

/// Spends the live code for `which` if `code` matches: returns its opened payload. Every guess
/// takes one of the code's [`MAX_ATTEMPTS`] in a single conditional update before it is
/// compared, so parallel guesses get no more tries than serial ones; a spent, superseded,
/// expired or locked code never works.
pub async fn consume(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    which: CodeFor<'_>,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, CoreError> {
    let Some(row) = live(db, key, which).await? else {
        return Err(Rejection::CodeExpired.into());
    };
    if row.consumed_at.is_some() || row.expires_at <= now {
        return Err(Rejection::CodeExpired.into());
    }
    // The guess takes a try and learns which try it is in one statement: parallel guesses get
    // no more tries than serial ones, and each is told how many are left after its own.
    let claimed = email_code::Entity::update_many()
        .col_expr(
            email_code::Column::Attempts,
            Expr::col(email_code::Column::Attempts).add(1),
        )
        .filter(email_code::Column::Id.eq(row.id))
        .filter(email_code::Column::Attempts.lt(MAX_ATTEMPTS))
        .filter(email_code::Column::ConsumedAt.is_null())
        .exec_with_returning(db)
        .await?;
    let Some(attempt) = claimed.first().map(|r| r.attempts) else {
        let now_row = email_code::Entity::find_by_id(row.id).one(db).await?;
        return Err(match now_row {
            Some(r) if r.consumed_at.is_none() => Rejection::CodeLocked,
            _ => Rejection::CodeExpired,
        }
        .into());
    };
    let offered = code_hash(key, which.purpose, which.email, code.trim());
    if !constant_time_eq(&offered, &row.code_hash) {
        let left = Ord::max(MAX_ATTEMPTS - attempt, 0) as u32;
        return Err(if left == 0 {
            Rejection::CodeLocked
        } else {
            Rejection::InvalidCode {
                attempts_left: left,
            }
        }
        .into());
    }
    spend(db, key, row, now).await
}

/// Spends the live code whose mailed link carried `token`; returns its opened payload.
pub async fn consume_link(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, CoreError> {
    let row = email_code::Entity::find()
        .filter(email_code::Column::LinkHash.eq(link_hash(key, token.trim())))
        .one(db)
        .await?
        .filter(|row| row.consumed_at.is_none() && row.expires_at > now)
        .ok_or(Rejection::CodeExpired)?;
    spend(db, key, row, now).await
}

async fn spend(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    row: email_code::Model,
    now: DateTime<Utc>,
) -> Result<Option<String>, CoreError> {
    // Conditional, so two requests racing with the right code cannot both spend it.
    let spent = email_code::Entity::update_many()
        .col_expr(email_code::Column::ConsumedAt, Expr::value(Some(now)))
        .filter(email_code::Column::Id.eq(row.id))
        .filter(email_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        return Err(Rejection::CodeExpired.into());
    }
    row.payload
        .map(|sealed| key.open(&sealed, payload_at(&row.code_hash)))
        .transpose()
        .map_err(Into::into)
}

/// The address a live reset link was mailed to (without spending it).
pub async fn link_email(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    token: &str,
    now: DateTime<Utc>,
) -> Result<String, CoreError> {
    Ok(email_code::Entity::find()
        .filter(email_code::Column::LinkHash.eq(link_hash(key, token.trim())))
        .one(db)
        .await?
        .filter(|row| row.consumed_at.is_none() && row.expires_at > now)
        .ok_or(Rejection::CodeExpired)?
        .email)
}
