//! `/settings/…`: the team (people, roles, invitations, teams), API keys (shown once, revocable),
//! the store profile (policies, support hours, greeting, the send-every-call-to-a-person switch)
//! and the viewer's own notification preferences.

use super::format::{when, when_opt};
use super::layout::{shell, status};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::{Admin, Viewer as AnyRole};
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::tenancy::accounts::{Role, api_keys, invitations, members, teams};
use caly_core::tenancy::profile;
use chrono::Utc;
use maud::{Markup, html};
use std::collections::HashMap;

pub(super) fn router() -> Router<ApiState> {
    Router::new()
        .route(
            "/settings",
            get(|| async { axum::response::Redirect::to("/settings/team") }),
        )
        .route("/settings/team", get(team))
        .route("/settings/api-keys", get(keys))
        .route("/settings/store", get(store_profile))
        .route("/settings/notifications", get(notifications))
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

async fn keys(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<Admin>,
) -> PageResult {
    let all = api_keys::list(&app.db, viewer.tenant()).await?;
    let body = html! {
        h1 { "API keys" }
        p.muted { "Keys let your own systems read (viewer) or change (admin) this store's data through the " a href="/api/docs" { "API" } "." }
        section.panel {
            h2 { "New key" }
            form id="key-form" data-api="/api/v1/api-keys" data-then="show:key@#new-key" data-success="Key created. Copy it now: it is shown this once." {
                div.filters {
                    div { label for="key-name" { "Name" } input id="key-name" name="name" required maxlength="80" placeholder="e.g. warehouse sync"; }
                    div { label for="key-scope" { "Scope" }
                        select id="key-scope" name="scope" { option value="read" { "read" } option value="write" { "write" } } }
                    div { button type="submit" { "Create key" } }
                }
                (status())
            }
            div.hidden {
                p.secret.mono id="new-key" {}
                button.quiet type="button" data-copy="#new-key" { "Copy" }
            }
        }
        section.panel.table-wrap {
            @if all.is_empty() { p.empty { "No keys yet." } } @else {
                table id="keys" {
                    thead { tr { th { "Name" } th { "Key" } th { "Scope" } th.hide-narrow { "Created" } th { "Last used" } th {} } }
                    tbody {
                        @for key in &all {
                            tr {
                                td { (key.name) }
                                td.mono { (key.key_prefix) "…" }
                                td { (key.scope) }
                                td.hide-narrow { (when(key.created_at)) }
                                td { (when_opt(key.last_used_at)) }
                                td {
                                    @if key.revoked_at.is_some() { span.chip.bad { "revoked" } } @else {
                                        form.inline data-api={ "/api/v1/api-keys/" (key.id) } data-method="DELETE"
                                            data-confirm="Revoke this key? Anything using it stops working." data-success="Revoked." {
                                            button.danger type="submit" { "Revoke" }
                                            (status())
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(shell(&viewer, "API keys", "/settings/api-keys", body).into_response())
}

const DAYS: [(&str, &str); 7] = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];

async fn store_profile(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
) -> PageResult {
    let current = profile::profile_of(&app.db, viewer.tenant()).await?;
    let admin = viewer.at_least(Role::Admin);
    let p = current.as_ref();
    let policy = |get: fn(&profile::Policies) -> &String| {
        p.map(|p| get(&p.policies).clone()).unwrap_or_default()
    };
    let hours = p.map(|p| p.support_hours.clone());
    let text_area = |name: &str, label: &str, value: String| {
        html! {
            label for=(name) { (label) }
            textarea id=(name) name=(name) required maxlength="2000" disabled[!admin] { (value) }
        }
    };
    let body = html! {
        h1 { "Store profile" }
        p.muted { "What the agent tells callers, when your people answer, and how a call opens." }
        @if current.is_none() { p.status.error { "No profile yet: the agent answers without your policies until you save one." } }
        form.panel id="profile-form" data-api="/api/v1/store/profile" data-method="PUT" data-success="Profile saved." {
            h2 { "Calls" }
            label for="bot_name" { "The agent's name" }
            input id="bot_name" name="bot_name" required maxlength="40" disabled[!admin] value=[p.map(|p| p.bot_name.as_str())];
            label for="greeting" { "Greeting (say that an AI answers and the call is recorded)" }
            textarea id="greeting" name="greeting" required maxlength="500" disabled[!admin] { (p.map(|p| p.greeting.clone()).unwrap_or_default()) }
            label for="escalation_number" { "Where calls go to a person (E.164)" }
            input id="escalation_number" name="escalation_number" required type="tel" pattern="\\+?[0-9 ]{8,16}" data-hint="A phone number like +919812345678." disabled[!admin] value=[p.map(|p| p.escalation_number.as_str())];
            label.check { input name="send_all_to_human" type="checkbox" disabled[!admin] checked[p.is_some_and(|p| p.send_all_to_human)]; "Send every call to a person (the agent does not answer)" }
            label.check { input name="redact_transcripts" type="checkbox" disabled[!admin] checked[p.is_none_or(|p| p.redact_transcripts)]; "Redact phone numbers, card numbers and codes from stored transcripts" }
            h2 { "Support hours" }
            input type="hidden" name="support_hours.timezone" value=(hours.as_ref().map(|h| h.timezone.clone()).unwrap_or_else(|| "Asia/Kolkata".into()));
            div.row {
                @for (day, label) in DAYS {
                    label.check { input type="checkbox" name="support_hours.days" value=(day) data-type="list" disabled[!admin]
                        checked[hours.as_ref().is_none_or(|h| h.days.iter().any(|d| d == day))]; (label) }
                }
            }
            div.filters {
                div { label for="open" { "Open (IST)" } input id="open" name="support_hours.open" type="time" required disabled[!admin] value=(hours.as_ref().map(|h| h.open.clone()).unwrap_or_else(|| "10:00".into())); }
                div { label for="close" { "Close (IST)" } input id="close" name="support_hours.close" type="time" required disabled[!admin] value=(hours.as_ref().map(|h| h.close.clone()).unwrap_or_else(|| "19:00".into())); }
            }
            h2 { "Policies the agent quotes" }
            (text_area("policies.shipping", "Shipping", policy(|p| &p.shipping)))
            (text_area("policies.returns", "Returns", policy(|p| &p.returns)))
            (text_area("policies.refunds", "Refunds", policy(|p| &p.refunds)))
            (text_area("policies.cod", "Cash on delivery", policy(|p| &p.cod)))
            (text_area("policies.offers", "Offers", policy(|p| &p.offers)))
            @if admin { p { button type="submit" { "Save profile" } } (status()) }
            @else { p.muted { "Only admins change the profile." } }
        }
    };
    Ok(shell(&viewer, "Store profile", "/settings/store", body).into_response())
}

async fn notifications(Page { viewer, .. }: Page<AnyRole>) -> PageResult {
    let Some(user) = viewer.principal.user.clone() else {
        let body = html! { h1 { "Notifications" } p { "An API key has no profile; sign in as a person." } };
        return Ok(
            shell(&viewer, "Notifications", "/settings/notifications", body).into_response(),
        );
    };
    let chosen = members::notifications_of(&user);
    let choices = [
        (
            "notifications.handoffs",
            "Calls handed to a person and callback requests",
            chosen.handoffs,
        ),
        (
            "notifications.daily_report",
            "The daily report",
            chosen.daily_report,
        ),
        (
            "notifications.weekly_report",
            "The weekly report",
            chosen.weekly_report,
        ),
        (
            "notifications.invoices",
            "Monthly invoices",
            chosen.invoices,
        ),
        (
            "notifications.qa_flags",
            "Calls QA flags for review",
            chosen.qa_flags,
        ),
    ];
    let body = html! {
        h1 { "You and your notifications" }
        form.panel id="me-form" data-api="/api/v1/me" data-method="PATCH" data-success="Saved." {
            label for="me-name" { "Name" }
            input id="me-name" name="name" required maxlength="120" value=(user.name);
            label for="me-phone" { "Phone (the number Exotel dials for you; handoffs you take are credited to you)" }
            input id="me-phone" name="phone" type="tel" pattern="\\+?[0-9 ]{8,16}" data-hint="A phone number like +919812345678, or empty." value=[user.phone.as_deref()];
            h2 { "Email me about" }
            @for (name, label, on) in choices {
                label.check { input type="checkbox" name=(name) checked[on]; (label) }
            }
            p { button type="submit" { "Save" } }
            (status())
        }
    };
    Ok(shell(&viewer, "Notifications", "/settings/notifications", body).into_response())
}
