//! Who did the work: the AI agents over time, and the human team on handoffs and tasks, per
//! person and per team.

use super::range::DayRange;
use super::read::{Grouping, sums};
use super::rollup::{AGENT, HANDOFF};
use super::settle::day_bounds;
use crate::CoreError;
use caly_entities::{membership, task, team, team_member, user};
use caly_jobs::TenantId;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One AI agent's work on one day (or, with no day, over the range).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    /// The day, for the per-day series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
    /// The agent (an intent label such as `order_status`).
    pub agent: String,
    /// Calls it spoke in.
    pub calls: i64,
    /// Of them, resolved by the AI.
    pub resolved_by_ai: i64,
    /// Turns it answered.
    pub turns: i64,
    /// Turns where it asked for a person.
    pub handoff_turns: i64,
    /// Turns answered with the fallback line.
    pub error_turns: i64,
    /// Mean answered-turn latency, ms.
    pub avg_latency_ms: Option<i64>,
}

fn agent_row(day: Option<NaiveDate>, agent: String, s: &super::rollup::Sums) -> AgentRow {
    AgentRow {
        day,
        agent,
        calls: s.calls,
        resolved_by_ai: s.resolved,
        turns: s.turns,
        handoff_turns: s.handed_off,
        error_turns: s.errors,
        avg_latency_ms: (s.latencies > 0)
            .then(|| (s.latency_ms as f64 / s.latencies as f64).round() as i64),
    }
}

/// Each agent's totals over the range, the busiest first.
pub async fn agents(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<Vec<AgentRow>, CoreError> {
    let mut rows: Vec<AgentRow> = sums(db, tenant, AGENT, range, Grouping::Key)
        .await?
        .into_iter()
        .map(|g| agent_row(None, g.key.unwrap_or_default(), &g.sums))
        .collect();
    rows.sort_by(|a, b| b.turns.cmp(&a.turns).then_with(|| a.agent.cmp(&b.agent)));
    Ok(rows)
}

/// Each agent's work per day over the range (days an agent did not speak are left out).
pub async fn agents_daily(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<Vec<AgentRow>, CoreError> {
    Ok(sums(db, tenant, AGENT, range, Grouping::DayKey)
        .await?
        .into_iter()
        .map(|g| agent_row(g.day, g.key.unwrap_or_default(), &g.sums))
        .collect())
}

/// One person's (or one team's) handoffs and tasks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRow {
    /// The user, or `None` for handoffs to a number no member has.
    pub user_id: Option<i64>,
    /// Their name (or the number).
    pub name: String,
    /// Their phone number, which handoffs are matched on.
    pub phone: Option<String>,
    /// Calls handed to them.
    pub handoffs: i64,
    /// Minutes on those calls (their durations, summed, in whole minutes).
    pub handoff_minutes: i64,
    /// Tasks they closed in the range.
    pub tasks_closed: i64,
    /// Open tasks assigned to them now.
    pub tasks_open: i64,
}

/// One team's totals over its members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamRow {
    /// The team.
    pub team_id: i64,
    /// Its name.
    pub name: String,
    /// Members.
    pub members: i64,
    /// Their handoffs.
    pub handoffs: i64,
    /// Their handoff minutes.
    pub handoff_minutes: i64,
    /// Tasks they closed in the range.
    pub tasks_closed: i64,
    /// Open tasks assigned to them.
    pub tasks_open: i64,
}

/// The human team's numbers over a range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamReport {
    /// Per person: every member, then numbers handoffs went to that no member has.
    pub people: Vec<PersonRow>,
    /// Per team.
    pub teams: Vec<TeamRow>,
}

/// Handoffs per number (from the rollups), tasks per person (from the tasks, by index).
pub async fn team(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    range: DayRange,
) -> Result<TeamReport, CoreError> {
    let mut handoffs: BTreeMap<String, (i64, i64)> =
        sums(db, tenant, HANDOFF, range, Grouping::Key)
            .await?
            .into_iter()
            .map(|g| {
                (
                    g.key.unwrap_or_default(),
                    (g.sums.calls, g.sums.duration_secs),
                )
            })
            .collect();
    let (start, _) = day_bounds(range.from);
    let (_, end) = day_bounds(range.to);
    let closed: HashMap<i64, i64> = task::Entity::find()
        .select_only()
        .column(task::Column::ClosedBy)
        .column_as(task::Column::Id.count(), "n")
        .filter(task::Column::TenantId.eq(tenant.0))
        .filter(task::Column::ClosedAt.gte(start))
        .filter(task::Column::ClosedAt.lt(end))
        .filter(task::Column::ClosedBy.is_not_null())
        .group_by(task::Column::ClosedBy)
        .into_tuple::<(Option<i64>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(user, n)| Some((user?, n)))
        .collect();
    let open: HashMap<i64, i64> = task::Entity::find()
        .select_only()
        .column(task::Column::AssigneeId)
        .column_as(task::Column::Id.count(), "n")
        .filter(task::Column::TenantId.eq(tenant.0))
        .filter(task::Column::Status.eq("open"))
        .filter(task::Column::AssigneeId.is_not_null())
        .group_by(task::Column::AssigneeId)
        .into_tuple::<(Option<i64>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(user, n)| Some((user?, n)))
        .collect();
    let member_ids: Vec<i64> = membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .filter(membership::Column::TenantId.eq(tenant.0))
        .into_tuple()
        .all(db)
        .await?;
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(member_ids))
        .order_by_asc(user::Column::Name)
        .all(db)
        .await?;
    let mut people: Vec<PersonRow> = users
        .into_iter()
        .map(|u| {
            let (calls, secs) = u
                .phone
                .as_ref()
                .and_then(|p| handoffs.remove(p))
                .unwrap_or_default();
            PersonRow {
                user_id: Some(u.id),
                name: u.name,
                phone: u.phone,
                handoffs: calls,
                handoff_minutes: secs / 60,
                tasks_closed: closed.get(&u.id).copied().unwrap_or(0),
                tasks_open: open.get(&u.id).copied().unwrap_or(0),
            }
        })
        .collect();
    for (number, (calls, secs)) in handoffs {
        people.push(PersonRow {
            user_id: None,
            name: if number.is_empty() {
                "Number not reported".to_string()
            } else {
                format!("Not a member: {number}")
            },
            phone: (!number.is_empty()).then_some(number),
            handoffs: calls,
            handoff_minutes: secs / 60,
            tasks_closed: 0,
            tasks_open: 0,
        });
    }
    let teams = team_rows(db, tenant, &people).await?;
    Ok(TeamReport { people, teams })
}

async fn team_rows(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    people: &[PersonRow],
) -> Result<Vec<TeamRow>, CoreError> {
    let teams = team::Entity::find()
        .filter(team::Column::TenantId.eq(tenant.0))
        .order_by_asc(team::Column::Name)
        .all(db)
        .await?;
    let members = team_member::Entity::find()
        .filter(team_member::Column::TenantId.eq(tenant.0))
        .all(db)
        .await?;
    let by_user: HashMap<i64, &PersonRow> = people
        .iter()
        .filter_map(|p| Some((p.user_id?, p)))
        .collect();
    Ok(teams
        .into_iter()
        .map(|t| {
            let mut row = TeamRow {
                team_id: t.id,
                name: t.name,
                members: 0,
                handoffs: 0,
                handoff_minutes: 0,
                tasks_closed: 0,
                tasks_open: 0,
            };
            for member in members.iter().filter(|m| m.team_id == t.id) {
                row.members += 1;
                if let Some(person) = by_user.get(&member.user_id) {
                    row.handoffs += person.handoffs;
                    row.handoff_minutes += person.handoff_minutes;
                    row.tasks_closed += person.tasks_closed;
                    row.tasks_open += person.tasks_open;
                }
            }
            row
        })
        .collect())
}
