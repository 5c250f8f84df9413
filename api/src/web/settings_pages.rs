//! `/settings/…` besides the team: API keys (shown once, revocable), the store profile (policies,
//! support hours, greeting, the send-every-call-to-a-person switch) and the viewer's own
//! notification preferences.

use super::format::{when, when_opt};
use super::layout::{shell, status};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::{Admin, Viewer as AnyRole};
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::tenancy::accounts::{Role, api_keys, members};
use caly_core::tenancy::profile;
use maud::html;

pub(super) fn router() -> Router<ApiState> {
    Router::new()
        .route(
            "/settings",
            get(|| async { axum::response::Redirect::to("/settings/team") }),
        )
        .route("/settings/api-keys", get(keys))
        .route("/settings/store", get(store_profile))
        .route("/settings/notifications", get(notifications))
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
