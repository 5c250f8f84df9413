//! The web app: server-rendered pages (maud templates, SVG drawn on the server, one stylesheet
//! and a few KB of plain JavaScript, nothing from a CDN). Pages read through the same tenant-scoped
//! core queries as the JSON API; every change a page makes goes through the JSON API itself, so a
//! form shows exactly the API's answer. Only this module renders HTML.

mod admin_pages;
mod analytics_page;
mod assets;
mod auth_pages;
mod billing_page;
mod call_detail;
mod calls_page;
mod charts;
mod dashboard_page;
mod format;
mod layout;
mod onboarding_page;
mod operator_page;
mod page;
mod settings_pages;
mod tasks_page;
mod team_page;

use crate::ApiState;
use axum::Router;

/// Every page and the app's static files.
pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .merge(assets::router())
        .merge(auth_pages::router())
        .merge(onboarding_page::router())
        .merge(dashboard_page::router())
        .merge(analytics_page::router())
        .merge(calls_page::router())
        .merge(call_detail::router())
        .merge(tasks_page::router())
        .merge(billing_page::router())
        .merge(settings_pages::router())
        .merge(team_page::router())
        .merge(admin_pages::router())
        .merge(operator_page::router())
}
