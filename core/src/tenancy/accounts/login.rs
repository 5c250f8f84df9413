//! Password login and password reset (by the mailed code or the mailed link). A reset signs
//! the user out everywhere and, when asked, revokes the API keys they created.

use super::codes::{self, CodeFor, Purpose};
use super::sessions::{self, SessionTokens};
use super::{Actor, api_keys, audit, members, normalise_email, passwords};
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
        Some(user) => {
            // In the audit log of every store the address belongs to, where its admins look.
            audit_in_every_tenant(app, &user, actor, "auth.login_failed", now).await?;
            return Err(Rejection::BadCredentials.into());
        }
        None => {
            let actor = Actor {
                name: email.clone(),
                ..actor.clone()
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
        None => {
            // The first store the person may sign in to; suspended everywhere is "disabled".
            let memberships = membership::Entity::find()
                .filter(membership::Column::UserId.eq(user.id))
                .order_by_asc(membership::Column::Id)
                .all(&app.db)
                .await?;
            match memberships.iter().find(|m| m.disabled_at.is_none()) {
                Some(m) => m.tenant_id,
                None if !memberships.is_empty() => return Err(Rejection::AccountDisabled.into()),
                None => {
                    return Err(Rejection::Unauthenticated(
                        "This account is not a member of any store.",
                    )
                    .into());
                }
            }
        }
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

/// Mails the owner of `email` (when it is an account) that `failures` sign-ins failed within the
/// hour, and records it in their stores' audit logs. Nobody is locked out: the guesser's own
/// tries are slowed per address.
pub async fn warn_of_failed_logins(
    app: &App,
    email: &str,
    failures: u64,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let Ok(email) = normalise_email(email) else {
        return Ok(());
    };
    let Some(user) = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&app.db)
        .await?
    else {
        return Ok(());
    };
    app.mailer
        .send(
            &email,
            "Failed sign-ins to your Caly account",
            &format!(
                "Someone tried to sign in to your Caly account with a wrong password {failures} \
                 times in the last hour. Your account is not locked: tries from their address \
                 are slowed down.\n\nIf this was you, you can ignore this mail. If not, your \
                 password held; you may still want to change it (Forgot password on the sign-in \
                 page) and check your stores' audit logs."
            ),
        )
        .await?;
    let actor = Actor {
        name: "caly".into(),
        ..Actor::default()
    };
    audit_in_every_tenant(app, &user, &actor, "auth.failed_logins_warned", now).await
}

/// Mails a reset code and link when the address has an account, and a note saying there is
/// none otherwise. Both write a code row (so the cooldown and the daily cap treat every address
/// alike), send one mail and answer the same, so the answer does not reveal who has an account.
pub async fn forgot_password(
    app: &App,
    email: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let email = normalise_email(email)?;
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&app.db)
        .await?
        .filter(|u| u.disabled_at.is_none());
    let per_day = app.settings.security.codes_per_email_per_day;
    let which = CodeFor::address(Purpose::Reset, &email);
    let issued = codes::issue(&app.db, &app.key, which, None, per_day, now).await?;
    let Some(user) = user else {
        app.mailer
            .send(
                &email,
                "Resetting a Caly password",
                "Someone (perhaps you) asked to reset the Caly password of this address, but \
                 it has no Caly account. If you meant to join Caly, sign up instead.\n\nIf this \
                 was not you, you can ignore this mail.",
            )
            .await?;
        return Ok(());
    };
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
    audit_in_every_tenant(app, &user, actor, "auth.password_forgot", now).await
}

/// Records `action` on `user`, done by them (as `actor` says where from), in the audit log of
/// every store they belong to.
async fn audit_in_every_tenant(
    app: &App,
    user: &user::Model,
    actor: &Actor,
    action: &str,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let actor = actor.as_user(user.id, &user.email);
    members::audit_in_every_store(&app.db, user.id, &actor, action, now).await
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

/// Sets a new password after the proof and signs the user out of every session. With
/// `revoke_api_keys`, the API keys the user created (in any store) are revoked too: a key
/// someone made while holding the old password would otherwise outlive the reset.
pub async fn reset_password(
    app: &App,
    proof: ResetProof,
    password: &SecretString,
    revoke_api_keys: bool,
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
            let which = CodeFor::address(Purpose::Reset, &email);
            codes::consume(&app.db, &app.key, which, &code, now).await?;
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
    if revoke_api_keys {
        api_keys::revoke_all_created_by(&app.db, user.id, now).await?;
    }
    let action = if revoke_api_keys {
        "auth.password_reset_keys_revoked"
    } else {
        "auth.password_reset"
    };
    audit_in_every_tenant(app, &user, actor, action, now).await
}
