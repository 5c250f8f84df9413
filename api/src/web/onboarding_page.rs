//! `/onboarding`: the setup wizard — connect Shopify, connect Exotel, put Caly's three URLs into
//! the Exotel flow (with copy buttons), and see "ready". Each step shows what is already done.

use super::layout::{shell, status};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Admin;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::tenancy::{self, onboarding};
use maud::{Markup, html};

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/onboarding", get(wizard))
}

fn url_row(id: &str, label: &str, url: &str, note: &str) -> Markup {
    html! {
        div.url {
            label for=(id) { (label) }
            div.row {
                input.mono id=(id) readonly value=(url) data-skip;
                button.quiet type="button" data-copy={ "#" (id) } { "Copy" }
            }
            p.small.muted { (note) }
        }
    }
}

async fn wizard(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<Admin>,
) -> PageResult {
    let tenant = viewer.tenant();
    let state = onboarding::status(&app, tenant).await?;
    let secret = tenancy::webhook_secret(&app.key, &viewer.principal.tenant)?;
    let urls = secret.map(|s| tenancy::webhook_urls(&app.settings.public_base(), tenant, &s));
    let url_of = |name: &str| {
        urls.as_ref()
            .and_then(|all| all.iter().find(|(n, _)| *n == name))
            .map(|(_, u)| u.clone())
            .unwrap_or_default()
    };
    let regions = app.settings.exotel_api_hosts.regions();
    let steps = [
        ("Shopify", state.shopify.connected),
        ("Exotel", state.exotel.connected),
        ("Exotel flow", state.ready),
    ];
    let body = html! {
        h1 { "Set up your phone line" }
        ol.steps aria-label="Progress" {
            @for (name, done) in steps {
                li.chip.good[done] { (if done { "✓ " } else { "" }) (name) }
            }
        }
        @if state.ready {
            div.panel id="ready" {
                h2 { "Ready" }
                p { "Shopify and Exotel are connected. Calls to your Exotel number are answered by Caly's agent and show up under " a href="/calls" { "Calls" } "." }
            }
        } @else {
            p.muted { "Still to do: " (state.missing.join(", ")) "." }
        }
        section.panel id="step-shopify" aria-labelledby="shopify-h" {
            h2 id="shopify-h" { "1. Connect Shopify" }
            @if state.shopify.connected {
                p { "Connected to " b { (state.shopify.shop.as_deref().unwrap_or("")) } "." }
            } @else if let Some(error) = &state.shopify.last_error {
                p.status.error { (error) }
            }
            @if !state.shopify.missing_scopes.is_empty() {
                p.status.error { "Missing scopes: " (state.shopify.missing_scopes.join(", ")) }
            }
            form id="shopify-form" data-api="/api/v1/integrations/shopify" data-method="PUT" data-busy="Checking with Shopify…"
                data-success="Shopify connected." {
                label for="shop" { "Shop domain" }
                input id="shop" name="shop" required placeholder="your-store.myshopify.com"
                    pattern="[a-zA-Z0-9][a-zA-Z0-9\\-]*\\.myshopify\\.com" data-hint="Like your-store.myshopify.com."
                    value=[state.shopify.shop.as_deref()];
                p.small.muted { "Either an Admin API access token (shpat_…) of a custom app, or its client id and secret." }
                label for="token" { "Admin API access token" }
                input id="token" name="token" type="password" autocomplete="off" data-empty="omit" placeholder="shpat_…";
                details {
                    summary.small { "Use a client id and secret instead" }
                    label for="client_id" { "Client id" }
                    input id="client_id" name="client_id" autocomplete="off" data-empty="omit";
                    label for="client_secret" { "Client secret" }
                    input id="client_secret" name="client_secret" type="password" autocomplete="off" data-empty="omit";
                }
                @if app.settings.security.shopify_api_url_override {
                    details {
                        summary.small { "Advanced: a test API address" }
                        label for="api_url" { "API address (loopback test servers only)" }
                        input id="api_url" name="api_url" type="url" data-empty="omit";
                    }
                }
                p { button type="submit" { (if state.shopify.connected { "Reconnect Shopify" } else { "Connect Shopify" }) } }
                (status())
            }
        }
        section.panel id="step-exotel" aria-labelledby="exotel-h" {
            h2 id="exotel-h" { "2. Connect Exotel" }
            @if state.exotel.connected {
                p { "Connected to account " b { (state.exotel.account_sid.as_deref().unwrap_or("")) } " in region " b { (state.exotel.region.as_deref().unwrap_or("")) } "." }
            }
            form id="exotel-form" data-api="/api/v1/integrations/exotel" data-method="PUT" data-busy="Checking with Exotel…"
                data-success="Exotel connected." {
                label for="account_sid" { "Account SID" }
                input id="account_sid" name="account_sid" required autocomplete="off" value=[state.exotel.account_sid.as_deref()];
                label for="api_key" { "API key" }
                input id="api_key" name="api_key" required autocomplete="off";
                label for="api_token" { "API token" }
                input id="api_token" name="api_token" type="password" required autocomplete="off";
                label for="region" { "Region" }
                select id="region" name="region" required {
                    @for region in &regions {
                        option value=(region) selected[state.exotel.region.as_deref() == Some(region.as_str())] { (region) }
                    }
                }
                p { button type="submit" { (if state.exotel.connected { "Reconnect Exotel" } else { "Connect Exotel" }) } }
                (status())
            }
        }
        section.panel id="step-flow" aria-labelledby="flow-h" {
            h2 id="flow-h" { "3. Put Caly into your Exotel flow" }
            @if urls.is_none() {
                p.empty { "The URLs appear once the store has a webhook secret." }
            } @else {
                p { "In Exotel's App Bazaar, build the flow for your number in this order:" }
                (url_row("url-passthru-first", "a. Passthru (first applet): tells Caly a call started", &url_of("passthru"), "Leave \"Make Passthru Synchronous\" off."))
                (url_row("url-voicebot", "b. Voicebot: the AI agent answers", &url_of("voicebot"), "Paste it as the Voicebot applet's URL (a wss:// address)."))
                (url_row("url-passthru-after", "c. Passthru after the Voicebot (synchronous)", &url_of("passthru"), "Tick \"Make Passthru Synchronous\". Caly answers 200 when the caller should reach a person: connect that branch to a Connect applet with your team's numbers; the other branch hangs up."))
                (url_row("url-status", "d. StatusCallback of the flow", &url_of("status_callback"), "Caly bills and records each call from this callback."))
                form data-api="/api/v1/integrations/webhooks/rotate" data-confirm="Make new URLs? The old ones keep working for a grace period; update your flow."
                    data-success="New URLs made." {
                    button.quiet type="submit" { "Make new URLs" }
                    (status())
                }
            }
        }
    };
    Ok(shell(&viewer, "Setup", "/onboarding", body).into_response())
}
