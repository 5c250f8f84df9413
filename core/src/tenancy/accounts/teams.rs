//! Teams of a tenant's people: named, nested under a parent team, with members and a lead.
//! Every lookup is scoped to the tenant, so another tenant's team or person is not found.

use super::members;
use crate::{CoreError, Rejection};
use caly_entities::{team, team_member};
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

/// A team as listed: its row and its members' user ids.
#[derive(Clone, Debug, Serialize)]
pub struct TeamView {
    /// The team.
    #[serde(flatten)]
    pub team: team::Model,
    /// Its members' user ids.
    pub members: Vec<i64>,
}

/// What to set on a team (`None` leaves a field; `Some(None)` clears parent or lead).
#[derive(Clone, Debug, Default)]
pub struct TeamChange {
    /// A new name.
    pub name: Option<String>,
    /// A new parent (or none).
    pub parent_id: Option<Option<i64>>,
    /// A new lead (or none).
    pub lead_user_id: Option<Option<i64>>,
}

fn valid_name(name: &str) -> Result<String, Rejection> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Rejection::InvalidField {
            field: "name",
            message: "must be 1 to 100 characters".into(),
        });
    }
    Ok(name.to_string())
}

/// One of the tenant's teams.
pub async fn find(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
) -> Result<team::Model, CoreError> {
    team::Entity::find_by_id(id)
        .filter(team::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("team"))
}

/// Checks a parent: the tenant's, and not the team itself or one of its descendants.
async fn check_parent(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    team_id: Option<i64>,
    parent: i64,
) -> Result<(), CoreError> {
    let mut cursor = Some(
        find(db, tenant, parent)
            .await
            .map_err(|_| Rejection::InvalidField {
                field: "parent_id",
                message: "is not a team of this store".into(),
            })?,
    );
    while let Some(ancestor) = cursor {
        if Some(ancestor.id) == team_id {
            return Err(Rejection::InvalidField {
                field: "parent_id",
                message: "would put the team inside itself".into(),
            }
            .into());
        }
        cursor = match ancestor.parent_id {
            Some(up) => Some(find(db, tenant, up).await?),
            None => None,
        };
    }
    Ok(())
}

async fn check_lead(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    lead: i64,
) -> Result<(), CoreError> {
    members::find(db, tenant, lead)
        .await
        .map(|_| ())
        .map_err(|_| {
            Rejection::InvalidField {
                field: "lead_user_id",
                message: "is not a member of this store".into(),
            }
            .into()
        })
}

/// Creates a team.
pub async fn create(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
    parent_id: Option<i64>,
    lead_user_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<team::Model, CoreError> {
    let name = valid_name(name)?;
    if let Some(parent) = parent_id {
        check_parent(db, tenant, None, parent).await?;
    }
    if let Some(lead) = lead_user_id {
        check_lead(db, tenant, lead).await?;
    }
    Ok(team::ActiveModel {
        tenant_id: Set(tenant.0),
        name: Set(name),
        parent_id: Set(parent_id),
        lead_user_id: Set(lead_user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Renames, moves or changes the lead of a team.
pub async fn update(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
    change: TeamChange,
) -> Result<team::Model, CoreError> {
    let row = find(db, tenant, id).await?;
    let mut active: team::ActiveModel = row.into();
    if let Some(name) = change.name {
        active.name = Set(valid_name(&name)?);
    }
    if let Some(parent) = change.parent_id {
        if let Some(parent) = parent {
            check_parent(db, tenant, Some(id), parent).await?;
        }
        active.parent_id = Set(parent);
    }
    if let Some(lead) = change.lead_user_id {
        if let Some(lead) = lead {
            check_lead(db, tenant, lead).await?;
        }
        active.lead_user_id = Set(lead);
    }
    Ok(active.update(db).await?)
}

/// Deletes a team; its sub-teams move up to its parent and its memberships go.
pub async fn delete(db: &impl ConnectionTrait, tenant: TenantId, id: i64) -> Result<(), CoreError> {
    let row = find(db, tenant, id).await?;
    team::Entity::update_many()
        .col_expr(team::Column::ParentId, Expr::value(row.parent_id))
        .filter(team::Column::TenantId.eq(tenant.0))
        .filter(team::Column::ParentId.eq(id))
        .exec(db)
        .await?;
    team_member::Entity::delete_many()
        .filter(team_member::Column::TeamId.eq(id))
        .exec(db)
        .await?;
    team::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Adds a person to a team (adding twice changes nothing).
pub async fn add_member(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    team_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    find(db, tenant, team_id).await?;
    members::find(db, tenant, user_id).await?;
    let exists = team_member::Entity::find()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some();
    if !exists {
        team_member::ActiveModel {
            tenant_id: Set(tenant.0),
            team_id: Set(team_id),
            user_id: Set(user_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Removes a person from a team.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    team_id: i64,
    user_id: i64,
) -> Result<(), CoreError> {
    find(db, tenant, team_id).await?;
    team_member::Entity::delete_many()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The tenant's teams with their members, oldest first.
pub async fn list(db: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<TeamView>, CoreError> {
    let teams = team::Entity::find()
        .filter(team::Column::TenantId.eq(tenant.0))
        .order_by_asc(team::Column::Id)
        .all(db)
        .await?;
    let rows = team_member::Entity::find()
        .filter(team_member::Column::TenantId.eq(tenant.0))
        .order_by_asc(team_member::Column::Id)
        .all(db)
        .await?;
    Ok(teams
        .into_iter()
        .map(|team| TeamView {
            members: rows
                .iter()
                .filter(|m| m.team_id == team.id)
                .map(|m| m.user_id)
                .collect(),
            team,
        })
        .collect())
}
