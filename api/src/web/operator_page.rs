//! `/operator` (the platform operator's people, signed in): every store's balance, rate and
//! credit limit, and disabling (or restoring) a person's account in every store. Changes go
//! through the operator API (`/api/v1/operator/…`), like every form of the app.

use super::format::inr;
use super::layout::{shell, status};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Viewer as AnyRole;
use crate::operator::{billing_of, is_operator};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::tenancy;
use maud::html;

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/operator", get(console))
}

async fn console(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
) -> PageResult {
    if !is_operator(&app, &viewer.principal) {
        let body = html! {
            h1 { "Not for you" }
            p { "This page is for the people who run Caly (" code { "CALY_OPERATOR_EMAILS" } "), signed in." }
        };
        let page = shell(&viewer, "Not for you", "", body);
        return Ok((StatusCode::FORBIDDEN, page).into_response());
    }
    let mut stores = Vec::new();
    for row in tenancy::list(&app.db).await? {
        stores.push(billing_of(&app, &row).await?);
    }
    let paise = |v: &serde_json::Value| v.as_i64().map(inr).unwrap_or_else(|| "—".into());
    let body = html! {
        h1 { "Operator console" }
        section.panel.table-wrap aria-labelledby="stores-h" {
            h2 id="stores-h" { "Stores" }
            table id="stores" {
                thead { tr { th { "Store" } th.num { "Balance" } th.num { "Rate per minute" } th.num { "Credit limit" } } }
                tbody {
                    @for store in &stores {
                        tr {
                            td { (store["name"].as_str().unwrap_or("")) " " span.muted.small { "#" (store["id"]) } }
                            td.num { (paise(&store["balance_paise"])) }
                            td.num { (paise(&store["rate_paise_per_min"])) }
                            td.num { (paise(&store["credit_limit_paise"])) }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="disable-h" {
            h2 id="disable-h" { "Disable a person everywhere" }
            p.small.muted { "Signs them out of every store and stops their API keys. A store's admins can only suspend someone in their own store." }
            form id="disable-user" data-api="/api/v1/operator/users/disable" data-method="POST"
                data-busy="Saving…" data-success="Done." {
                label for="disable-email" { "Email" }
                input id="disable-email" name="email" type="email" required autocomplete="off";
                label.check for="disable-on" {
                    input id="disable-on" name="disabled" type="checkbox" checked;
                    " Disabled (clear this to restore the account)"
                }
                p { button type="submit" { "Save" } }
                (status())
            }
        }
    };
    Ok(shell(&viewer, "Operator console", "/operator", body).into_response())
}
