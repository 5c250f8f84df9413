//! Emailed one-time codes: six digits (and, for password resets, a long token for a link),
//! stored as keyed hashes, live for 10 minutes, 5 wrong guesses allowed, resendable after a
//! cooldown. A new code for the same (purpose, email) supersedes the old one.

use crate::platform::crypto::{MasterKey, constant_time_eq, random_token};
use crate::{CoreError, Rejection};
use caly_entities::email_code;
use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, Set,
};
use std::time::Duration;

/// How long a code works.
pub const CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Wrong guesses before a code is locked.
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

fn code_hash(key: &MasterKey, purpose: Purpose, email: &str, code: &str) -> String {
    key.sign(
        "email-code",
        &format!("{}:{email}:{code}", purpose.as_str()),
    )
}

fn link_hash(key: &MasterKey, token: &str) -> String {
    key.sign("email-link", token)
}

async fn live(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    email: &str,
) -> Result<Option<email_code::Model>, CoreError> {
    Ok(email_code::Entity::find()
        .filter(email_code::Column::Purpose.eq(purpose.as_str()))
        .filter(email_code::Column::Email.eq(email))
        .order_by_desc(email_code::Column::Id)
        .one(db)
        .await?)
}

/// Seconds until another code may be sent, if the cooldown is still running.
pub async fn cooldown_left(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<u64>, CoreError> {
    let Some(last) = live(db, purpose, email).await? else {
        return Ok(None);
    };
    let ready = last.sent_at + chrono::Duration::from_std(RESEND_COOLDOWN).expect("small");
    Ok((ready > now).then(|| Ord::max((ready - now).num_seconds(), 1) as u64))
}

/// Issues a code (superseding any earlier one), carrying a sealed `payload`. Refuses with
/// [`Rejection::TooSoon`] inside the cooldown.
pub async fn issue(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    purpose: Purpose,
    email: &str,
    payload: Option<String>,
    now: DateTime<Utc>,
) -> Result<IssuedCode, CoreError> {
    if let Some(retry_after_secs) = cooldown_left(db, purpose, email, now).await? {
        return Err(Rejection::TooSoon { retry_after_secs }.into());
    }
    email_code::Entity::update_many()
        .col_expr(email_code::Column::ConsumedAt, Expr::value(Some(now)))
        .filter(email_code::Column::Purpose.eq(purpose.as_str()))
        .filter(email_code::Column::Email.eq(email))
        .filter(email_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let link_token = (purpose == Purpose::Reset).then(|| random_token(""));
    email_code::ActiveModel {
        purpose: Set(purpose.as_str().into()),
        email: Set(email.into()),
        code_hash: Set(code_hash(key, purpose, email, &code)),
        link_hash: Set(link_token.as_deref().map(|t| link_hash(key, t))),
        attempts: Set(0),
        payload: Set(payload.map(|p| key.encrypt(&p))),
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
    purpose: Purpose,
    email: &str,
) -> Result<Option<String>, CoreError> {
    let Some(code) = live(db, purpose, email).await? else {
        return Ok(None);
    };
    match code.payload {
        Some(sealed) if code.consumed_at.is_none() => Ok(Some(key.decrypt(&sealed)?)),
        _ => Ok(None),
    }
}

/// Spends the live code if `code` matches: returns its opened payload. A wrong guess counts
/// (atomically) toward the limit; a spent, superseded, expired or locked code never works.
pub async fn consume(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    purpose: Purpose,
    email: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, CoreError> {
    let Some(row) = live(db, purpose, email).await? else {
        return Err(Rejection::CodeExpired.into());
    };
    if row.consumed_at.is_some() || row.expires_at <= now {
        return Err(Rejection::CodeExpired.into());
    }
    if row.attempts >= MAX_ATTEMPTS {
        return Err(Rejection::CodeLocked.into());
    }
    let offered = code_hash(key, purpose, email, code.trim());
    if !constant_time_eq(&offered, &row.code_hash) {
        return Err(wrong_guess(db, &row).await?.into());
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

async fn wrong_guess(
    db: &impl ConnectionTrait,
    row: &email_code::Model,
) -> Result<Rejection, CoreError> {
    email_code::Entity::update_many()
        .col_expr(
            email_code::Column::Attempts,
            Expr::col(email_code::Column::Attempts).add(1),
        )
        .filter(email_code::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    let left = Ord::max(MAX_ATTEMPTS - row.attempts - 1, 0) as u32;
    Ok(if left == 0 {
        Rejection::CodeLocked
    } else {
        Rejection::InvalidCode {
            attempts_left: left,
        }
    })
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
        .map(|sealed| key.decrypt(&sealed))
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
