//! Invitations: an owner or admin invites an address with a role; the mailed link's token
//! (stored hashed, good for 7 days and once) lets the invitee join, as a new user with a
//! password or as an existing user who proves theirs (or is signed in: a Google-only user has no
//! password), and signs them in to the tenant.

use super::sessions::{self, SessionTokens};
use super::{Actor, Principal, Role, audit, members, normalise_email, passwords};
use crate::platform::crypto::{hash_secret, random_token};
use crate::{App, CoreError, Rejection};
use caly_entities::{invitation, user};
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// How long an invitation link works.
pub const INVITATION_TTL: chrono::Duration = chrono::Duration::days(7);

/// Invites `email` to the principal's tenant with `role`, and mails the link.
pub async fn invite(
    app: &App,
    by: &Principal,
    actor: &Actor,
    email: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<invitation::Model, CoreError> {
    by.role.require(Role::Admin)?;
    if role == Role::Owner && by.role != Role::Owner {
        return Err(Rejection::Forbidden {
            role: by.role.as_str(),
            needed: Role::Owner.as_str(),
        }
        .into());
    }
    let email = normalise_email(email)?;
    let tenant = by.tenant_id();
    if let Some(existing) = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&app.db)
        .await?
        && sessions::is_member(&app.db, existing.id, tenant.0).await?
    {
        return Err(Rejection::AccountConflict(format!(
            "{email} is already a member of this store (restore them if they are suspended)."
        ))
        .into());
    }
    let token = random_token("");
    let row = invitation::ActiveModel {
        tenant_id: Set(tenant.0),
        email: Set(email.clone()),
        role: Set(role.as_str().into()),
        token_hash: Set(hash_secret(&token)),
        invited_by: Set(by.user.as_ref().map(|u| u.id)),
        created_at: Set(now),
        expires_at: Set(now + INVITATION_TTL),
        accepted_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await?;
    let inviter = by
        .user
        .as_ref()
        .map(|u| u.name.as_str())
        .unwrap_or("An admin");
    let link = format!("{}/accept-invite?token={token}", app.settings.public_base());
    app.mailer
        .send(
            &email,
            &format!("You are invited to {} on Caly", by.tenant.name),
            &format!(
                "{inviter} invited you to join {} on Caly as {}.\n\nAccept the invitation:\n{link}\n\n\
                 The link works for 7 days. If you did not expect it, you can ignore this mail.",
                by.tenant.name,
                role.as_str()
            ),
        )
        .await?;
    audit::record(
        &app.db,
        actor,
        "member.invited",
        &format!("email:{email}"),
        json!({"role": role, "invitation": row.id}),
        now,
    )
    .await?;
    Ok(row)
}

/// The tenant's invitations not yet accepted or revoked, newest first.
pub async fn pending(
    app: &App,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<Vec<invitation::Model>, CoreError> {
    Ok(invitation::Entity::find()
        .filter(invitation::Column::TenantId.eq(tenant.0))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .order_by_desc(invitation::Column::Id)
        .all(&app.db)
        .await?)
}

/// Withdraws one of the tenant's invitations (another tenant's is [`CoreError::NotFound`]).
pub async fn revoke(
    app: &App,
    tenant: TenantId,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let found = invitation::Entity::find_by_id(id)
        .filter(invitation::Column::TenantId.eq(tenant.0))
        .one(&app.db)
        .await?
        .ok_or(CoreError::NotFound("invitation"))?;
    invitation::Entity::update_many()
        .col_expr(invitation::Column::RevokedAt, Expr::value(Some(now)))
        .filter(invitation::Column::Id.eq(found.id))
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(&app.db)
        .await?;
    Ok(())
}

/// What the invitee sends with the link's token.
#[derive(Clone, Debug)]
pub struct Acceptance {
    /// The link's token.
    pub token: String,
    /// A new user's password, or an existing user's current one (not needed when that user is
    /// signed in: a Google-only user has none).
    pub password: Option<SecretString>,
    /// A new user's name (the email's name part when empty).
    pub name: String,
    /// The user the request is signed in as, if any.
    pub signed_in_as: Option<i64>,
}

/// Accepts an invitation: joins the tenant with the invited role (creating the user when the
/// address has no account) and opens a session there.
pub async fn accept(
    app: &App,
    acceptance: Acceptance,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SessionTokens, CoreError> {
    let expired = || {
        Rejection::Unauthenticated(
            "This invitation has expired, was used or was withdrawn; ask for a new one.",
        )
    };
    let row = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(hash_secret(acceptance.token.trim())))
        .one(&app.db)
        .await?
        .filter(|i| i.accepted_at.is_none() && i.revoked_at.is_none() && i.expires_at > now)
        .ok_or_else(expired)?;
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(&row.email))
        .one(&app.db)
        .await?;
    let password_needed = || Rejection::InvalidField {
        field: "password",
        message: "is required".into(),
    };
    let new_hash = match &existing {
        Some(user) if acceptance.signed_in_as == Some(user.id) => None,
        Some(user) => {
            let password = acceptance.password.as_ref().ok_or_else(password_needed)?;
            let stored = user
                .password_hash
                .clone()
                .unwrap_or_else(|| passwords::DECOY_HASH.into());
            if !passwords::verify(password, &stored).await {
                return Err(Rejection::BadCredentials.into());
            }
            None
        }
        None => {
            let password = acceptance.password.as_ref().ok_or_else(password_needed)?;
            passwords::check_strength(password.expose_secret(), &row.email)?;
            Some(passwords::hash(password).await?)
        }
    };
    let txn = app.db.begin().await?;
    let spent = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(Some(now)))
        .filter(invitation::Column::Id.eq(row.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(expired().into());
    }
    let user = match existing {
        Some(user) => user,
        None => {
            let name = match acceptance.name.trim() {
                "" => row.email.split('@').next().unwrap_or_default().to_string(),
                name => name.chars().take(200).collect(),
            };
            // The mailed link proved the address.
            let new = members::NewUser {
                email: &row.email,
                name: &name,
                password_hash: new_hash,
                google_sub: None,
            };
            members::insert_user(&txn, new, now).await?
        }
    };
    // A suspended member stays suspended: accepting an invitation does not restore them.
    if !sessions::is_member(&txn, user.id, row.tenant_id).await? {
        let role = Role::parse(&row.role)?;
        members::add_membership(&txn, row.tenant_id, user.id, role, now).await?;
    }
    let actor = actor.in_tenant(row.tenant_id).as_user(user.id, &user.email);
    audit::record(
        &txn,
        &actor,
        "member.joined",
        &format!("user:{}", user.id),
        json!({"role": row.role, "invitation": row.id}),
        now,
    )
    .await?;
    txn.commit().await?;
    sessions::open(app, user, row.tenant_id, &actor, now).await
}
