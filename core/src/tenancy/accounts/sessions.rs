//! Sessions: opening one (an access token, a refresh token and a CSRF token), refreshing it
//! (each refresh token works once; presenting a spent one revokes the whole session), closing
//! it, and authenticating a request's access token.

use super::tokens::Claims;
use super::{Actor, Principal, Role, Via, audit};
use crate::platform::crypto::{hash_secret, random_token};
use crate::{App, CoreError, Rejection};
use caly_entities::{auth_session, membership, refresh_token, tenant, user};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

/// What a client gets when a session opens or refreshes. The tokens are secrets: the api sends
/// them once and never logs them.
#[derive(Clone)]
pub struct SessionTokens {
    /// The session's id.
    pub session_id: i64,
    /// The signed access token (JWT).
    pub access_token: String,
    /// Seconds the access token works.
    pub expires_in: u64,
    /// The refresh token (one use).
    pub refresh_token: String,
    /// Seconds the refresh token works.
    pub refresh_expires_in: u64,
    /// The token cookie-authenticated changes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// The user.
    pub user: user::Model,
    /// The tenant.
    pub tenant: tenant::Model,
    /// The user's role there.
    pub role: Role,
}

impl std::fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTokens")
            .field("session_id", &self.session_id)
            .field("user", &self.user.id)
            .finish_non_exhaustive()
    }
}

/// The CSRF token of a session: a keyed hash of its id, so it needs no storage.
pub fn csrf_token(app: &App, session_id: i64) -> String {
    app.key.sign("csrf", &session_id.to_string())
}

/// The user's membership of a tenant, suspended there or not.
async fn membership_of(
    db: &impl ConnectionTrait,
    user_id: i64,
    tenant_id: i64,
) -> Result<Option<membership::Model>, CoreError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?)
}

/// The user's role in a tenant, if a member whose membership there is not suspended.
pub async fn role_in(
    db: &impl ConnectionTrait,
    user_id: i64,
    tenant_id: i64,
) -> Result<Option<Role>, CoreError> {
    membership_of(db, user_id, tenant_id)
        .await?
        .filter(|m| m.disabled_at.is_none())
        .map(|m| Role::parse(&m.role).map_err(CoreError::from))
        .transpose()
}

async fn issue(
    app: &App,
    session: &auth_session::Model,
    user: user::Model,
    tenant: tenant::Model,
    role: Role,
    now: DateTime<Utc>,
) -> Result<SessionTokens, CoreError> {
    let accounts = &app.settings.accounts;
    let refresh = random_token("caly_rt_");
    // A refresh token never outlives its session's longest lifetime.
    let refresh_until = Ord::min(
        now + chrono::Duration::from_std(accounts.refresh_ttl).expect("bounded"),
        session_end(app, session),
    );
    refresh_token::ActiveModel {
        session_id: Set(session.id),
        token_hash: Set(hash_secret(&refresh)),
        created_at: Set(now),
        expires_at: Set(refresh_until),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await?;
    let claims = Claims {
        iss: "caly".into(),
        aud: super::tokens::AUDIENCE.into(),
        sub: user.id.to_string(),
        tid: tenant.id,
        sid: session.id,
        iat: now.timestamp(),
        exp: now.timestamp() + accounts.access_ttl.as_secs() as i64,
    };
    let access_token = app
        .signing_keys
        .sign(&app.db, &app.key, &claims, now)
        .await?;
    Ok(SessionTokens {
        session_id: session.id,
        access_token,
        expires_in: accounts.access_ttl.as_secs(),
        refresh_token: refresh,
        refresh_expires_in: (refresh_until - now).num_seconds().max(0) as u64,
        csrf_token: csrf_token(app, session.id),
        user,
        tenant,
        role,
    })
}

/// When a session ends however often it is refreshed: `CALY_SESSION_MAX_DAYS` after sign-in.
fn session_end(app: &App, session: &auth_session::Model) -> DateTime<Utc> {
    chrono::Duration::from_std(app.settings.security.session_max_age)
        .ok()
        .and_then(|max| session.created_at.checked_add_signed(max))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a session has reached its end.
fn outlived(app: &App, session: &auth_session::Model, now: DateTime<Utc>) -> bool {
    session_end(app, session) <= now
}

/// Opens a session for `user` in `tenant` (the caller has checked the user's credentials).
pub async fn open(
    app: &App,
    user: user::Model,
    tenant_id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SessionTokens, CoreError> {
    if user.disabled_at.is_some() {
        return Err(Rejection::AccountDisabled.into());
    }
    let role = member_role(&app.db, user.id, tenant_id).await?;
    let tenant = crate::tenancy::find(&app.db, caly_jobs::TenantId(tenant_id)).await?;
    let session = auth_session::ActiveModel {
        user_id: Set(user.id),
        tenant_id: Set(tenant_id),
        ip: Set(actor.ip.clone()),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await?;
    issue(app, &session, user, tenant, role, now).await
}

/// Revokes a session: its access tokens and refresh tokens stop working.
pub async fn revoke(
    db: &impl ConnectionTrait,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    auth_session::Entity::update_many()
        .col_expr(auth_session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(auth_session::Column::Id.eq(session_id))
        .filter(auth_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every session of a user (password reset, disabling, role removal).
pub async fn revoke_all_of(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    auth_session::Entity::update_many()
        .col_expr(auth_session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(auth_session::Column::UserId.eq(user_id))
        .filter(auth_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Whether the user belongs to a tenant at all (suspended there or not).
pub async fn is_member(
    db: &impl ConnectionTrait,
    user_id: i64,
    tenant_id: i64,
) -> Result<bool, CoreError> {
    Ok(membership_of(db, user_id, tenant_id).await?.is_some())
}

/// The user's role in a tenant for a new session: [`Rejection::AccountDisabled`] when an admin
/// there suspended them, [`Rejection::Unauthenticated`] when they are not a member.
pub async fn member_role(
    db: &impl ConnectionTrait,
    user_id: i64,
    tenant_id: i64,
) -> Result<Role, CoreError> {
    let membership =
        membership_of(db, user_id, tenant_id)
            .await?
            .ok_or(Rejection::Unauthenticated(
                "You are not a member of that store.",
            ))?;
    if membership.disabled_at.is_some() {
        return Err(Rejection::AccountDisabled.into());
    }
    Ok(Role::parse(&membership.role)?)
}

/// Revokes a user's sessions in one store (suspended or removed there).
pub async fn revoke_all_in(
    db: &impl ConnectionTrait,
    user_id: i64,
    tenant: caly_jobs::TenantId,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    auth_session::Entity::update_many()
        .col_expr(auth_session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(auth_session::Column::UserId.eq(user_id))
        .filter(auth_session::Column::TenantId.eq(tenant.0))
        .filter(auth_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The session a refresh token belongs to, if the token is known.
pub async fn session_of_refresh(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<i64>, CoreError> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_secret(token.trim())))
        .one(db)
        .await?
        .map(|row| row.session_id))
}

/// Exchanges a refresh token for new tokens in the same session. A token presented a second
/// time revokes the session ([`Rejection::RefreshReused`]).
pub async fn refresh(
    app: &App,
    token: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SessionTokens, CoreError> {
    let invalid = || Rejection::Unauthenticated("The refresh token is not valid; sign in again.");
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_secret(token.trim())))
        .one(&app.db)
        .await?
        .ok_or_else(invalid)?;
    let session = auth_session::Entity::find_by_id(row.session_id)
        .one(&app.db)
        .await?
        .ok_or_else(invalid)?;
    if session.revoked_at.is_some() {
        return Err(invalid().into());
    }
    if outlived(app, &session, now) {
        return Err(Rejection::Unauthenticated(
            "This session reached its longest lifetime (CALY_SESSION_MAX_DAYS); sign in again.",
        )
        .into());
    }
    // One use each: the conditional update lets exactly one of two racing requests through.
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(Some(now)))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&app.db)
        .await?;
    if spent.rows_affected != 1 {
        revoke(&app.db, session.id, now).await?;
        let actor = Actor {
            tenant_id: Some(session.tenant_id),
            user_id: Some(session.user_id),
            ..actor.clone()
        };
        audit::record(
            &app.db,
            &actor,
            "auth.refresh_reused",
            &format!("session:{}", session.id),
            json!({"revoked": true}),
            now,
        )
        .await?;
        return Err(Rejection::RefreshReused.into());
    }
    if row.expires_at <= now {
        return Err(invalid().into());
    }
    let user = user::Entity::find_by_id(session.user_id)
        .one(&app.db)
        .await?
        .ok_or_else(invalid)?;
    if user.disabled_at.is_some() {
        return Err(Rejection::AccountDisabled.into());
    }
    let role = role_in(&app.db, user.id, session.tenant_id)
        .await?
        .ok_or_else(invalid)?;
    let tenant = crate::tenancy::find(&app.db, caly_jobs::TenantId(session.tenant_id)).await?;
    issue(app, &session, user, tenant, role, now).await
}

/// The principal behind an access token: the token must verify, its session be open, its user
/// enabled and still a member of its tenant. The role is read now, so a changed role applies
/// at once.
pub async fn authenticate(
    app: &App,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Principal, CoreError> {
    let claims = app
        .signing_keys
        .verify(&app.db, &app.key, token, now)
        .await?;
    let signed_out = || Rejection::Unauthenticated("This session has ended; sign in again.");
    let session = auth_session::Entity::find_by_id(claims.sid)
        .one(&app.db)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.user_id.to_string() == claims.sub)
        .filter(|s| !outlived(app, s, now))
        .ok_or_else(signed_out)?;
    let user = user::Entity::find_by_id(session.user_id)
        .one(&app.db)
        .await?
        .ok_or_else(signed_out)?;
    if user.disabled_at.is_some() {
        return Err(Rejection::AccountDisabled.into());
    }
    let role = role_in(&app.db, user.id, session.tenant_id)
        .await?
        .ok_or_else(signed_out)?;
    let tenant = crate::tenancy::find(&app.db, caly_jobs::TenantId(session.tenant_id)).await?;
    Ok(Principal {
        tenant,
        user: Some(user),
        role,
        via: Via::Session(session.id),
    })
}
