//! Password login and password reset (by the mailed code or the mailed link). A reset signs
//! the user out everywhere.

use super::codes::{self, Purpose};
use super::sessions::{self, SessionTokens};
use super::{Actor, audit, normalise_email, passwords};
use crate::{App, CoreError, Rejection};
use caly_entities::{membership, user};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// Signs in with email and password, into `tenant_id` or else the user's first tenant.
pub async fn login(
    app: &App,
    email: &str,
    password: &SecretString,
    tenant_id: Option<i64>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SessionTokens, CoreError> {
    let email = normalise_email(email).map_err(|_| Rejection::BadCredentials)?;
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&app.db)
        .await?;
    let stored = found
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| passwords::DECOY_HASH.to_string());
    let matches = passwords::verify(password, &stored).await;
    let user = match found {
        Some(user) if matches => user,
        other => {
            let actor = match &other {
                Some(user) => actor.as_user(user.id, &user.email),
                None => Actor {
                    name: email.clone(),
                    ..actor.clone()
                },
            };
            audit::record(
                &app.db,
                &actor,
                "auth.login_failed",
                &format!("email:{email}"),
                json!({}),
                now,
            )
            .await?;
            return Err(Rejection::BadCredentials.into());
        }
    };
    if user.disabled_at.is_some() {
        return Err(Rejection::AccountDisabled.into());
    }
    let tenant_id = match tenant_id {
        Some(id) => id,
        None => membership::Entity::find()
            .filter(membership::Column::UserId.eq(user.id))
            .order_by_asc(membership::Column::Id)
            .one(&app.db)
            .await?
            .map(|m| m.tenant_id)
            .ok_or(Rejection::Unauthenticated(
                "This account is not a member of any store.",
            ))?,
    };
    let actor = actor.in_tenant(tenant_id).as_user(user.id, &user.email);
    let session = sessions::open(app, user, tenant_id, &actor, now).await?;
    audit::record(
        &app.db,
        &actor,
        "auth.login",
        &format!("session:{}", session.session_id),
        json!({}),
        now,
    )
    .await?;
    Ok(session)
}

/// Mails a reset code and link when the address has an account (the response is the same
/// either way).
pub async fn forgot_password(app: &App, email: &str, now: DateTime<Utc>) -> Result<(), CoreError> {
    let email = normalise_email(email)?;
    let exists = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&app.db)
        .await?
        .is_some_and(|u| u.disabled_at.is_none());
    if !exists {
        return Ok(());
    }
    let issued = codes::issue(&app.db, &app.key, Purpose::Reset, &email, None, now).await?;
    let link = format!(
        "{}/reset-password?token={}",
        app.settings.public_base(),
        issued.link_token.as_deref().unwrap_or_default()
    );
    let minutes = codes::CODE_TTL.as_secs() / 60;
    app.mailer
        .send(
            &email,
            "Reset your Caly password",
            &format!(
                "Your password reset code is {}\n\nOr open this link to choose a new password:\n{link}\n\n\
                 The code and the link work for {minutes} minutes. If you did not ask to reset \
                 your password, you can ignore this mail.",
                issued.code
            ),
        )
        .await?;
    Ok(())
}

/// How a reset proves the address.
#[derive(Clone, Debug)]
pub enum ResetProof {
    /// The address and the mailed code.
    Code {
        /// The address.
        email: String,
        /// The six digits.
        code: String,
    },
    /// The mailed link's token.
    Link(String),
}

/// Sets a new password after the proof, and signs the user out of every session.
pub async fn reset_password(
    app: &App,
    proof: ResetProof,
    password: &SecretString,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let email = match &proof {
        ResetProof::Code { email, .. } => normalise_email(email)?,
        ResetProof::Link(token) => codes::link_email(&app.db, &app.key, token, now).await?,
    };
    // Checked before the proof is spent, so a weak password does not burn the code.
    passwords::check_strength(password.expose_secret(), &email)?;
    match proof {
        ResetProof::Code { code, .. } => {
            codes::consume(&app.db, &app.key, Purpose::Reset, &email, &code, now).await?;
        }
        ResetProof::Link(token) => {
            codes::consume_link(&app.db, &app.key, &token, now).await?;
        }
    }
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&app.db)
        .await?
        .ok_or(Rejection::CodeExpired)?;
    let hashed = passwords::hash(password).await?;
    let mut active: user::ActiveModel = user.clone().into();
    active.password_hash = Set(Some(hashed));
    active.update(&app.db).await?;
    sessions::revoke_all_of(&app.db, user.id, now).await?;
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .all(&app.db)
        .await?;
    for m in memberships {
        let actor = actor.in_tenant(m.tenant_id).as_user(user.id, &user.email);
        audit::record(
            &app.db,
            &actor,
            "auth.password_reset",
            &format!("user:{}", user.id),
            json!({}),
            now,
        )
        .await?;
    }
    Ok(())
}
