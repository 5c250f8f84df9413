//! The page shell: the head (stylesheet, script, CSRF token), the navigation for the viewer's
//! role, and the bare layout of the sign-in pages.

use super::assets::{CSS_PATH, ICON_PATH, JS_PATH};
use super::page::Viewer;
use axum::response::Html;
use caly_core::tenancy::accounts::Role;
use maud::{DOCTYPE, Markup, html};

fn head(title: &str, csrf: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            @if !csrf.is_empty() { meta name="csrf-token" content=(csrf); }
            title { (title) " · Caly" }
            link rel="icon" href=(ICON_PATH) type="image/svg+xml";
            link rel="stylesheet" href=(CSS_PATH);
            script src=(JS_PATH) defer {}
        }
    }
}

/// A navigation link: path, label and the least role that sees it.
type NavLink = (&'static str, &'static str, Role);

/// The navigation, grouped.
const SECTIONS: [(&str, &[NavLink]); 3] = [
    (
        "Store",
        &[
            ("/", "Dashboard", Role::Viewer),
            ("/analytics", "Analytics", Role::Viewer),
            ("/calls", "Calls", Role::Viewer),
            ("/tasks", "Tasks", Role::Viewer),
            ("/billing", "Billing", Role::Viewer),
            ("/onboarding", "Setup", Role::Admin),
        ],
    ),
    (
        "Settings",
        &[
            ("/settings/team", "Team", Role::Viewer),
            ("/settings/store", "Store profile", Role::Viewer),
            ("/settings/api-keys", "API keys", Role::Admin),
            ("/settings/notifications", "Notifications", Role::Viewer),
        ],
    ),
    (
        "Operations",
        &[
            ("/admin/health", "System health", Role::Admin),
            ("/admin/stage-runs", "Failed stages", Role::Admin),
            ("/admin/audit", "Audit log", Role::Admin),
        ],
    ),
];

/// A signed-in page: navigation on the side (on top on a phone) and `body` as its main part.
pub(crate) fn shell(viewer: &Viewer, title: &str, active: &str, body: Markup) -> Html<String> {
    let principal = &viewer.principal;
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, &viewer.csrf))
            body {
                div.app {
                    aside.side {
                        a.brand href="/" { "Caly" }
                        div.store { (principal.tenant.name) }
                        nav.nav aria-label="Main" {
                            @for (group, links) in SECTIONS {
                                @let shown: Vec<_> = links.iter().filter(|(_, _, role)| viewer.at_least(*role)).collect();
                                @if !shown.is_empty() {
                                    div.group { (group) }
                                    @for (path, label, _) in shown {
                                        a.on[*path == active] href=(path) { (label) }
                                    }
                                }
                            }
                            @if viewer.operator {
                                div.group { "Platform" }
                                a.on["/operator" == active] href="/operator" { "Operator console" }
                            }
                        }
                        div.who {
                            @if let Some(user) = &principal.user {
                                div { (user.email) }
                            } @else {
                                div { "API key" }
                            }
                            div { "Role: " (principal.role.as_str()) }
                            @if principal.user.is_some() {
                                button.quiet type="button" data-logout { "Sign out" }
                            }
                        }
                    }
                    main id="main" { (body) }
                }
            }
        }
    };
    Html(markup.into_string())
}

/// A page without navigation: sign-in, sign-up, errors.
pub(crate) fn bare(title: &str, body: Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, ""))
            body {
                div.auth {
                    a.brand href="/" { "Caly" }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string())
}

/// A form's trailing status line (filled by the script).
pub(crate) fn status() -> Markup {
    html! { div.status role="status" aria-live="polite" {} }
}

/// Previous and next links for a paged list, keeping the other query parameters.
pub(crate) fn pager(
    base: &str,
    query: &[(&str, String)],
    page: u64,
    per_page: u64,
    total: u64,
) -> Markup {
    let pages = total.div_ceil(per_page.max(1)).max(1);
    let link = |to: u64| {
        let mut pairs: Vec<(&str, String)> = query
            .iter()
            .filter(|(k, v)| *k != "page" && !v.is_empty())
            .cloned()
            .collect();
        pairs.push(("page", to.to_string()));
        let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{base}?{encoded}")
    };
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 { a.button.quiet href=(link(page - 1)) rel="prev" { "← Newer" } }
            span.muted { "Page " (page) " of " (pages) }
            @if page < pages { a.button.quiet href=(link(page + 1)) rel="next" { "Older →" } }
        }
    }
}
