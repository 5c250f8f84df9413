//! Getting in: sign in (email and password, or Google), sign up with the emailed code, reset a
//! password (by code or by the mailed link), and accept an invitation. Each form posts to the
//! auth API; a signed-in visitor to the sign-in page goes straight on.

use super::layout::{bare, status};
use crate::ApiState;
use crate::access::MaybeSignedIn;
use crate::calls::query;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use caly_core::tenancy::accounts::{self, passwords};
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn router() -> Router<ApiState> {
    Router::new()
        .route("/login", get(login))
        .route("/signup", get(signup))
        .route("/forgot-password", get(forgot))
        .route("/reset-password", get(reset))
        .route("/accept-invite", get(accept_invite))
}

#[derive(Deserialize, Default)]
struct Params {
    next: Option<String>,
    token: Option<String>,
    email: Option<String>,
}

fn params(raw: Option<String>) -> Params {
    query(raw).unwrap_or_default()
}

/// A path on this site to return to (never another origin).
fn safe_next(next: Option<&str>) -> String {
    accounts::safe_return_path(next.unwrap_or("/"))
}

/// A new password's field (named `password`, with the id given).
fn password_field(id: &str, label: &str, autocomplete: &str) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) name="password" type="password" required minlength=(passwords::MIN_LENGTH)
            maxlength=(passwords::MAX_LENGTH) autocomplete=(autocomplete)
            data-hint={ "At least " (passwords::MIN_LENGTH) " characters, mixing letters, digits or symbols." };
    }
}

fn email_field(id: &str, value: Option<&str>) -> Markup {
    html! {
        label for=(id) { "Email" }
        input id=(id) name="email" type="email" required autocomplete="email" value=[value];
    }
}

async fn login(
    State(ApiState { app }): State<ApiState>,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = params(raw);
    if signed_in.is_some_and(|p| p.user.is_some()) {
        return Redirect::to(&safe_next(params.next.as_deref())).into_response();
    }
    let google = app.settings.accounts.google.is_some();
    bare(
        "Sign in",
        html! {
            h1 { "Sign in" }
            form data-api="/api/v1/auth/login" data-then="next" data-public data-login
                data-success="Signed in." data-busy="Signing in…" {
                (email_field("email", params.email.as_deref()))
                label for="password" { "Password" }
                input id="password" name="password" type="password" required autocomplete="current-password";
                p { button type="submit" { "Sign in" } }
                (status())
            }
            @if google {
                p { a.button.quiet href="/api/v1/auth/google/start" data-google { "Sign in with Google" } }
            }
            p.small {
                a href="/forgot-password" { "Forgot your password?" }
                " · New here? " a href="/signup" { "Create an account" }
            }
        },
    )
    .into_response()
}

async fn signup() -> Response {
    bare(
        "Create your account",
        html! {
            h1 { "Create your account" }
            form id="signup" data-api="/api/v1/auth/signup" data-then="reveal:#verify-step"
                data-carry="email" data-public data-busy="Sending your code…"
                data-success="We emailed you a 6-digit code." {
                label for="company" { "Store name" }
                input id="company" name="company" required maxlength="120" autocomplete="organization";
                label for="name" { "Your name" }
                input id="name" name="name" maxlength="120" autocomplete="name";
                (email_field("signup-email", None))
                (password_field("password", "Password", "new-password"))
                label for="password2" { "Password again" }
                input id="password2" name="password2" type="password" required data-match="password" data-skip autocomplete="new-password";
                p { button type="submit" { "Create account" } }
                (status())
            }
            section id="verify-step" class="hidden" {
                h2 { "Enter the code we emailed you" }
                form id="verify" data-api="/api/v1/auth/signup/verify" data-then="go:/onboarding"
                    data-public data-busy="Checking…" data-success="Welcome to Caly." {
                    (email_field("verify-email", None))
                    label for="code" { "6-digit code" }
                    input id="code" name="code" required inputmode="numeric" pattern="[0-9]{6}"
                        maxlength="6" autocomplete="one-time-code" data-hint="The code is 6 digits.";
                    p { button type="submit" { "Verify and continue" } }
                    (status())
                }
                form data-api="/api/v1/auth/signup/resend" data-then="stay" data-public
                    data-success="A new code is on its way." data-busy="Sending…" {
                    input type="hidden" name="email" data-carried;
                    button.quiet type="submit" { "Send a new code" }
                    (status())
                }
            }
            p.small { "Already have an account? " a href="/login" { "Sign in" } }
        },
    )
    .into_response()
}

async fn forgot() -> Response {
    bare(
        "Reset your password",
        html! {
            h1 { "Reset your password" }
            form id="forgot" data-api="/api/v1/auth/password/forgot" data-then="reveal:#reset-step"
                data-carry="email" data-public data-busy="Sending…"
                data-success="If that address has an account, a code and a link are on their way." {
                (email_field("forgot-email", None))
                p { button type="submit" { "Email me a code" } }
                (status())
            }
            section id="reset-step" class="hidden" {
                h2 { "Choose a new password" }
                form data-api="/api/v1/auth/password/reset" data-then="go:/login" data-public
                    data-busy="Saving…" data-success="Password changed. Sign in with it." {
                    (email_field("reset-email", None))
                    label for="reset-code" { "6-digit code" }
                    input id="reset-code" name="code" required inputmode="numeric" pattern="[0-9]{6}" maxlength="6";
                    (password_field("new-password", "New password", "new-password"))
                    (revoke_keys_choice("reset-revoke-keys"))
                    p { button type="submit" { "Change password" } }
                    (status())
                }
            }
            p.small { a href="/login" { "Back to sign in" } }
        },
    )
    .into_response()
}

/// The reset's offer to revoke the API keys the person created (every session ends anyway).
fn revoke_keys_choice(id: &str) -> Markup {
    html! {
        p.small.muted { "Changing your password signs you out everywhere." }
        label.check for=(id) {
            input id=(id) type="checkbox" name="revoke_api_keys";
            " Also revoke the API keys I created (do this if someone else may have had your password)"
        }
    }
}

async fn reset(RawQuery(raw): RawQuery) -> Response {
    let params = params(raw);
    bare(
        "Choose a new password",
        html! {
            h1 { "Choose a new password" }
            @if let Some(token) = params.token.as_deref().filter(|t| !t.is_empty()) {
                form data-api="/api/v1/auth/password/reset" data-then="go:/login" data-public
                    data-busy="Saving…" data-success="Password changed. Sign in with it." {
                    input type="hidden" name="token" value=(token);
                    (password_field("password", "New password", "new-password"))
                    (revoke_keys_choice("link-revoke-keys"))
                    p { button type="submit" { "Change password" } }
                    (status())
                }
            } @else {
                p { "This link has no token. " a href="/forgot-password" { "Ask for a new one." } }
            }
        },
    )
    .into_response()
}

async fn accept_invite(
    MaybeSignedIn(signed_in): MaybeSignedIn,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = params(raw);
    let signed_in = signed_in.and_then(|p| p.user);
    bare(
        "Join your team",
        html! {
            h1 { "Join your team on Caly" }
            @if let Some(token) = params.token.as_deref().filter(|t| !t.is_empty()) {
                form data-api="/api/v1/auth/invitations/accept" data-then="go:/" data-public
                    data-busy="Joining…" data-success="You are in." {
                    input type="hidden" name="token" value=(token);
                    @if let Some(user) = &signed_in {
                        p { "You are signed in as " b { (user.email) } "." }
                    } @else {
                        label for="name" { "Your name" }
                        input id="name" name="name" maxlength="120" autocomplete="name";
                        (password_field("password", "Password (your current one if you already use Caly)", "new-password"))
                    }
                    p { button type="submit" { "Accept the invitation" } }
                    (status())
                }
            } @else {
                p { "This link has no token. Ask whoever invited you to send it again." }
            }
        },
    )
    .into_response()
}
