//! One security-relevant or administrative action: who, what, on what, when, from where.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// An audit log row. Rows are only ever inserted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Event id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant it concerns (none for platform-wide events).
    pub tenant_id: Option<i64>,
    /// The acting user, if a person acted.
    pub actor_user_id: Option<i64>,
    /// Who acted, readably: an email, `api_key:<id>`, `cli`, or `anonymous`.
    pub actor: String,
    /// What was done, e.g. `auth.login`, `member.role_changed`.
    pub action: String,
    /// What it was done to, e.g. `user:12`.
    pub target: String,
    /// Further facts as JSON (never a secret).
    pub details: String,
    /// The client's address.
    pub ip: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
