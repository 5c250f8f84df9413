//! `/settings/team`: people and their roles (admins change roles and disable people; only owners
//! touch owners), invitations (send, withdraw) and teams (create, nest, add members).

use super::format::when;
use super::layout::{shell, status};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Viewer as AnyRole;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::tenancy::accounts::{Role, invitations, members, teams};
use chrono::Utc;
use maud::{Markup, html};
use std::collections::HashMap;

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/settings/team", get(team))
}

fn role_select(id: &str, current: Option<Role>, assignable: impl Fn(Role) -> bool) -> Markup {
    html! {
        select id=(id) name="role" {
            @for role in Role::ALL.into_iter().filter(|r| assignable(*r)) {
                option value=(role.as_str()) selected[current == Some(role)] { (role.as_str()) }
            }
        }
    }
}

async fn team(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
) -> PageResult {
    let tenant = viewer.tenant();
    let people = members::list(&app.db, tenant).await?;
    let groups = teams::list(&app.db, tenant).await?;
    let admin = viewer.at_least(Role::Admin);
    let pending = if admin {
        invitations::pending(&app, tenant, Utc::now()).await?
    } else {
        Vec::new()
    };
    let names: HashMap<i64, &str> = people.iter().map(|m| (m.id, m.name.as_str())).collect();
    let team_names: HashMap<i64, &str> = groups
        .iter()
        .map(|t| (t.team.id, t.team.name.as_str()))
        .collect();
    // Only owners make owners.
    let owner = viewer.at_least(Role::Owner);
    let assignable = |role: Role| owner || role != Role::Owner;
    let body = html! {
        h1 { "Team" }
        section.panel aria-labelledby="people-h" {
            h2 id="people-h" { "People" }
            div.table-wrap { table id="people" {
                thead { tr { th { "Name" } th { "Email" } th { "Role" } th.hide-narrow { "Phone" } th { "Status" } } }
                tbody {
                    @for person in &people {
                        tr {
                            td { (person.name) }
                            td { (person.email) }
                            td {
                                @if admin && (owner || person.role != Role::Owner) {
                                    form.row data-api={ "/api/v1/users/" (person.id) } data-method="PATCH" data-success="Role changed." {
                                        (role_select(&format!("role-{}", person.id), Some(person.role), assignable))
                                        button.quiet type="submit" { "Save" }
                                        (status())
                                    }
                                } @else { (person.role.as_str()) }
                            }
                            td.hide-narrow.mono { (person.phone.as_deref().unwrap_or("—")) }
                            td {
                                @if person.disabled { span.chip.bad { "disabled" } } @else { span.chip.good { "active" } }
                                @if admin && (owner || person.role != Role::Owner) {
                                    form.inline data-api={ "/api/v1/users/" (person.id) } data-method="PATCH"
                                        data-success="Saved." data-confirm=(if person.disabled { "Enable this person?" } else { "Disable this person? They are signed out at once." }) {
                                        input type="hidden" name="disabled" value=(!person.disabled) data-type="bool";
                                        button.quiet type="submit" { (if person.disabled { "Enable" } else { "Disable" }) }
                                        (status())
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        @if admin {
            section.panel aria-labelledby="invite-h" {
                h2 id="invite-h" { "Invite someone" }
                form id="invite-form" data-api="/api/v1/invitations" data-success="Invitation sent." {
                    div.filters {
                        div { label for="invite-email" { "Email" } input id="invite-email" name="email" type="email" required; }
                        div { label for="invite-role" { "Role" } (role_select("invite-role", Some(Role::Agent), assignable)) }
                        div { button type="submit" { "Send invitation" } }
                    }
                    (status())
                }
                @if !pending.is_empty() {
                    h3 { "Waiting to be accepted" }
                    ul.timeline {
                        @for invite in &pending {
                            li.spread {
                                span { (invite.email) " as " b { (invite.role) } span.small.muted { " · expires " (when(invite.expires_at)) } }
                                form.inline data-api={ "/api/v1/invitations/" (invite.id) } data-method="DELETE" data-success="Withdrawn." {
                                    button.quiet type="submit" { "Withdraw" }
                                    (status())
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="teams-h" {
            h2 id="teams-h" { "Teams" }
            @if groups.is_empty() { p.empty { "No teams yet. Teams group people for handoffs and reports." } }
            ul.timeline {
                @for group in &groups {
                    li {
                        b { (group.team.name) }
                        @if let Some(parent) = group.team.parent_id { span.small.muted { " in " (team_names.get(&parent).copied().unwrap_or("?")) } }
                        @if let Some(lead) = group.team.lead_user_id { span.small { " · lead " (names.get(&lead).copied().unwrap_or("?")) } }
                        div.small.muted {
                            @if group.members.is_empty() { "no members" }
                            @else { (group.members.iter().map(|id| names.get(id).copied().unwrap_or("?")).collect::<Vec<_>>().join(", ")) }
                        }
                        @if admin {
                            form.row data-api={ "/api/v1/teams/" (group.team.id) "/members/{user}" } data-method="PUT" data-path-field="user" data-success="Added." {
                                label.hidden for={ "member-" (group.team.id) } { "Add a member" }
                                select id={ "member-" (group.team.id) } name="user" data-skip {
                                    @for person in people.iter().filter(|p| !group.members.contains(&p.id)) {
                                        option value=(person.id) { (person.name) }
                                    }
                                }
                                button.quiet type="submit" { "Add member" }
                                (status())
                            }
                        }
                    }
                }
            }
            @if admin {
                h3 { "New team" }
                form id="team-form" data-api="/api/v1/teams" data-success="Team created." {
                    div.filters {
                        div { label for="team-name" { "Name" } input id="team-name" name="name" required maxlength="80"; }
                        div { label for="team-parent" { "Inside" }
                            select id="team-parent" name="parent_id" data-type="int" data-empty="omit" {
                                option value="" { "—" }
                                @for group in &groups { option value=(group.team.id) { (group.team.name) } }
                            } }
                        div { label for="team-lead" { "Lead" }
                            select id="team-lead" name="lead_user_id" data-type="int" data-empty="omit" {
                                option value="" { "—" }
                                @for person in &people { option value=(person.id) { (person.name) } }
                            } }
                        div { button type="submit" { "Create team" } }
                    }
                    (status())
                }
            }
        }
    };
    Ok(shell(&viewer, "Team", "/settings/team", body).into_response())
}
