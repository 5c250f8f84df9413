//! A tenant's people: who they are, their roles, their phone numbers and mail preferences;
//! changing roles (never leaving a tenant without an owner) and disabling accounts.

use super::{Principal, Role, sessions};
use crate::calls::phone::to_e164;
use crate::{CoreError, Rejection};
use caly_entities::{membership, user};
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

/// Which emails a new user gets: all of them.
pub const DEFAULT_NOTIFICATIONS: &str =
    r#"{"daily_report":true,"weekly_report":true,"invoices":true,"handoffs":true,"qa_flags":true}"#;

/// Which emails a user gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notifications {
    /// The daily report.
    pub daily_report: bool,
    /// The weekly report.
    pub weekly_report: bool,
    /// Monthly invoices.
    pub invoices: bool,
    /// Calls handed to a human and callback requests.
    pub handoffs: bool,
    /// Calls QA flags for review.
    pub qa_flags: bool,
}

impl Default for Notifications {
    /// Every email (the same as [`DEFAULT_NOTIFICATIONS`]).
    fn default() -> Self {
        Notifications {
            daily_report: true,
            weekly_report: true,
            invoices: true,
            handoffs: true,
            qa_flags: true,
        }
    }
}

/// A user about to be created. Every way in proves the address first (a mailed code, a mailed
/// link, Google), so new users are verified from the start.
#[derive(Debug)]
pub struct NewUser<'a> {
    /// The address, already normalised.
    pub email: &'a str,
    /// The display name.
    pub name: &'a str,
    /// An argon2id hash, for users who sign in with a password.
    pub password_hash: Option<String>,
    /// Google's subject id, for users who sign in with Google.
    pub google_sub: Option<String>,
}

/// Creates a verified user with every mail switched on.
pub async fn insert_user(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<user::Model, CoreError> {
    Ok(user::ActiveModel {
        email: Set(new.email.to_string()),
        name: Set(new.name.to_string()),
        password_hash: Set(new.password_hash),
        phone: Set(None),
        google_sub: Set(new.google_sub),
        notifications: Set(DEFAULT_NOTIFICATIONS.into()),
        email_verified_at: Set(Some(now)),
        disabled_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Makes a user a member of a tenant with `role`.
pub async fn add_membership(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    user_id: i64,
    role: Role,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    membership::ActiveModel {
        tenant_id: Set(tenant_id),
        user_id: Set(user_id),
        role: Set(role.as_str().into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Creates a user who owns a new, unconnected store named `store_name` (sign-up by code or by
/// Google), inside the caller's transaction, which must not have read before: this writes first.
pub async fn create_owner(
    txn: &impl ConnectionTrait,
    key: &crate::platform::crypto::MasterKey,
    new: NewUser<'_>,
    store_name: &str,
    rate_paise_per_min: i64,
    now: DateTime<Utc>,
) -> Result<(user::Model, caly_entities::tenant::Model), CoreError> {
    let user = insert_user(txn, new, now).await?;
    let tenant =
        crate::tenancy::create_unconnected(txn, key, store_name, rate_paise_per_min, now).await?;
    add_membership(txn, tenant.id, user.id, Role::Owner, now).await?;
    Ok((user, tenant))
}

/// A person in a tenant, as listed to its admins.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    /// The user's id.
    pub id: i64,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role here.
    pub role: Role,
    /// The number Exotel dials for them.
    pub phone: Option<String>,
    /// Whether an admin suspended them in this store (or the platform disabled their account).
    pub disabled: bool,
    /// When they joined this tenant.
    pub joined_at: DateTime<Utc>,
}

fn member(user: user::Model, membership: &membership::Model) -> Result<Member, CoreError> {
    Ok(Member {
        id: user.id,
        email: user.email,
        name: user.name,
        role: Role::parse(&membership.role)?,
        phone: user.phone,
        disabled: membership.disabled_at.is_some() || user.disabled_at.is_some(),
        joined_at: membership.created_at,
    })
}

/// The tenant's people, in the order they joined.
pub async fn list(db: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<Member>, CoreError> {
    let memberships = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tenant.0))
        .order_by_asc(membership::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = memberships.iter().map(|m| m.user_id).collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?;
    memberships
        .iter()
        .filter_map(|m| {
            users
                .iter()
                .find(|u| u.id == m.user_id)
                .map(|u| member(u.clone(), m))
        })
        .collect()
}

/// One of the tenant's people; someone outside it is [`CoreError::NotFound`].
pub async fn find(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    user_id: i64,
) -> Result<(user::Model, membership::Model), CoreError> {
    let membership = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tenant.0))
        .filter(membership::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    Ok((user, membership))
}

/// One of the tenant's people as listed.
pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    user_id: i64,
) -> Result<Member, CoreError> {
    let (user, row) = find(db, tenant, user_id).await?;
    member(user, &row)
}

/// The tenant's person whose phone number is `phone` (E.164): who took a handed-off call.
pub async fn by_phone(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    phone: &str,
) -> Result<Option<Member>, CoreError> {
    let users = user::Entity::find()
        .filter(user::Column::Phone.eq(phone))
        .all(db)
        .await?;
    for user in users {
        if let Ok((user, row)) = find(db, tenant, user.id).await {
            return member(user, &row).map(Some);
        }
    }
    Ok(None)
}

/// The store's owners who are not suspended there.
async fn owners(db: &impl ConnectionTrait, tenant: TenantId) -> Result<u64, CoreError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tenant.0))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .filter(membership::Column::DisabledAt.is_null())
        .count(db)
        .await?)
}

/// Only an owner may make, unmake or act on an owner.
fn may_manage(by: &Principal, current: Role, new: Option<Role>) -> Result<(), Rejection> {
    by.role.require(Role::Admin)?;
    if (current == Role::Owner || new == Some(Role::Owner)) && by.role != Role::Owner {
        return Err(Rejection::Forbidden {
            role: by.role.as_str(),
            needed: Role::Owner.as_str(),
        });
    }
    Ok(())
}

/// Changes a person's role. The last owner cannot stop being one.
pub async fn change_role(
    db: &impl ConnectionTrait,
    by: &Principal,
    user_id: i64,
    role: Role,
) -> Result<Member, CoreError> {
    let (user, row) = find(db, by.tenant_id(), user_id).await?;
    let current = Role::parse(&row.role)?;
    may_manage(by, current, Some(role))?;
    if current == Role::Owner && role != Role::Owner && owners(db, by.tenant_id()).await? <= 1 {
        return Err(Rejection::AccountConflict(
            "A store needs an owner; make someone else owner first.".into(),
        )
        .into());
    }
    let mut active: membership::ActiveModel = row.into();
    active.role = Set(role.as_str().into());
    let row = active.update(db).await?;
    member(user, &row)
}

/// Suspends or restores a person in the caller's store only: their membership here is marked
/// and their sessions in this store end; their account and their other stores are untouched
/// (only the platform operator disables an account everywhere: [`disable_everywhere`]).
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    by: &Principal,
    user_id: i64,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<Member, CoreError> {
    let (user, row) = find(db, by.tenant_id(), user_id).await?;
    may_manage(by, Role::parse(&row.role)?, None)?;
    if by.user.as_ref().is_some_and(|me| me.id == user_id) {
        return Err(
            Rejection::AccountConflict("You cannot disable your own account.".into()).into(),
        );
    }
    let mut active: membership::ActiveModel = row.into();
    active.disabled_at = Set(disabled.then_some(now));
    let row = active.update(db).await?;
    if disabled {
        sessions::revoke_all_in(db, user_id, by.tenant_id(), now).await?;
    }
    member(user, &row)
}

/// Removes a person from the caller's store: their membership, their place in its teams and
/// their sessions in it. Their account and other stores stay. The last owner cannot be removed,
/// nor can anyone remove themselves.
pub async fn remove(
    db: &impl ConnectionTrait,
    by: &Principal,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Member, CoreError> {
    let (user, row) = find(db, by.tenant_id(), user_id).await?;
    let role = Role::parse(&row.role)?;
    may_manage(by, role, None)?;
    if by.user.as_ref().is_some_and(|me| me.id == user_id) {
        return Err(Rejection::AccountConflict(
            "You cannot remove yourself; ask another admin.".into(),
        )
        .into());
    }
    if role == Role::Owner && owners(db, by.tenant_id()).await? <= 1 {
        return Err(Rejection::AccountConflict(
            "A store needs an owner; make someone else owner first.".into(),
        )
        .into());
    }
    let gone = member(user, &row)?;
    caly_entities::team_member::Entity::delete_many()
        .filter(caly_entities::team_member::Column::TenantId.eq(by.tenant_id().0))
        .filter(caly_entities::team_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    membership::Entity::delete_by_id(row.id).exec(db).await?;
    sessions::revoke_all_in(db, user_id, by.tenant_id(), now).await?;
    Ok(gone)
}

/// Disables (or restores) an account everywhere: every store, every session, recorded in the
/// audit log of every store the person belongs to (as `actor`, outside any one store). For the
/// platform operator only (`caly auth disable-user`, the operator console).
pub async fn disable_everywhere(
    db: &impl ConnectionTrait,
    email: &str,
    disabled: bool,
    actor: &super::Actor,
    now: DateTime<Utc>,
) -> Result<user::Model, CoreError> {
    let email = super::normalise_email(email)?;
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    let mut active: user::ActiveModel = user.into();
    active.disabled_at = Set(disabled.then_some(now));
    let user = active.update(db).await?;
    if disabled {
        sessions::revoke_all_of(db, user.id, now).await?;
    }
    let action = if disabled {
        "user.disabled_everywhere"
    } else {
        "user.enabled_everywhere"
    };
    audit_in_every_store(db, user.id, actor, action, now).await?;
    Ok(user)
}

/// Records `action` on the user `user_id` by `actor` in the audit log of every store the user
/// belongs to, where its admins look.
pub async fn audit_in_every_store(
    db: &impl ConnectionTrait,
    user_id: i64,
    actor: &super::Actor,
    action: &str,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let target = format!("user:{user_id}");
    for tenant in tenants_of(db, user_id).await? {
        let actor = actor.in_tenant(tenant);
        super::audit::record(db, &actor, action, &target, serde_json::json!({}), now).await?;
    }
    Ok(())
}

/// The stores a user belongs to (suspended or not).
pub async fn tenants_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<i64>, CoreError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.tenant_id)
        .collect())
}

/// What a person may change about themselves.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ProfileChange {
    /// A new display name.
    pub name: Option<String>,
    /// A new phone number (`""` removes it).
    pub phone: Option<String>,
    /// New mail preferences.
    pub notifications: Option<Notifications>,
}

/// Applies a person's change to their own profile.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    user: user::Model,
    change: ProfileChange,
) -> Result<user::Model, CoreError> {
    let mut active: user::ActiveModel = user.into();
    if let Some(name) = change.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Rejection::InvalidField {
                field: "name",
                message: "must be 1 to 200 characters".into(),
            }
            .into());
        }
        active.name = Set(name.to_string());
    }
    if let Some(phone) = change.phone {
        active.phone = Set(match phone.trim() {
            "" => None,
            raw => Some(to_e164(raw).ok_or_else(|| Rejection::InvalidField {
                field: "phone",
                message: "is not a phone number; write it like +919812345678".into(),
            })?),
        });
    }
    if let Some(notifications) = change.notifications {
        active.notifications = Set(serde_json::to_string(&notifications).expect("serialisable"));
    }
    Ok(active.update(db).await?)
}

/// A user's mail preferences.
pub fn notifications_of(user: &user::Model) -> Notifications {
    serde_json::from_str(&user.notifications).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_default_is_every_email_and_missing_choices_default_to_yes() {
        let stored: Notifications = serde_json::from_str(DEFAULT_NOTIFICATIONS).unwrap();
        assert_eq!(stored, Notifications::default());
        let partial: Notifications = serde_json::from_str(r#"{"daily_report": false}"#).unwrap();
        assert!(!partial.daily_report && partial.invoices);
    }
}
