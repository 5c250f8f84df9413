//! Who is looking at a page: [`Page<R>`] authenticates like the API (session cookie, or a key
//! or token for scripts) and sends anyone without a valid session to `/login?next=…`, so they
//! come back to the same page after signing in. Below role `R` the answer is a 403 page.
//! [`PageError`] renders the API's errors as pages with the same status and sentence.

use super::layout;
use crate::access::{self, MinRole};
use crate::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use caly_core::tenancy::accounts::{Principal, Role, Via, sessions};
use caly_core::{CoreError, Rejection, TenantId};
use maud::html;
use std::marker::PhantomData;

/// What every signed-in page knows.
pub(crate) struct Viewer {
    /// Who is looking.
    pub principal: Principal,
    /// The token the page's forms echo in `X-CSRF-Token` (empty for key or bearer access).
    pub csrf: String,
    /// Whether they are one of the platform operator's people (the console is linked).
    pub operator: bool,
}

impl Viewer {
    /// The tenant every query of the page is scoped to.
    pub fn tenant(&self) -> TenantId {
        self.principal.tenant_id()
    }

    /// Whether the viewer holds `role` or above.
    pub fn at_least(&self, role: Role) -> bool {
        self.principal.role.require(role).is_ok()
    }
}

/// A signed-in page request whose role is `R` or above.
pub(crate) struct Page<R: MinRole> {
    /// The viewer.
    pub viewer: Viewer,
    role: PhantomData<R>,
}

/// Where someone without a session goes: the sign-in page, then back to `next`.
pub(crate) fn to_login(next: &str) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

impl<R: MinRole> FromRequestParts<ApiState> for Page<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Response> {
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let Ok(principal) = access::authenticate(parts, state).await else {
            return Err(to_login(&path));
        };
        let csrf = match principal.via {
            Via::Session(id) => sessions::csrf_token(&state.app, id),
            Via::ApiKey(_) => String::new(),
        };
        let operator = crate::operator::is_operator(&state.app, &principal);
        let viewer = Viewer {
            principal,
            csrf,
            operator,
        };
        if !viewer.at_least(R::ROLE) {
            let body = html! {
                h1 { "Not for your role" }
                p { "This page needs the " b { (R::ROLE.as_str()) } " role or above; you are "
                    b { (viewer.principal.role.as_str()) } ". Ask an admin of your store." }
            };
            let page = layout::shell(&viewer, "Not for your role", "", body);
            return Err((StatusCode::FORBIDDEN, page).into_response());
        }
        Ok(Page {
            viewer,
            role: PhantomData,
        })
    }
}

/// An error shown as a page: the API's status and sentence.
pub(crate) struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<CoreError> for PageError {
    fn from(error: CoreError) -> Self {
        PageError(error.into())
    }
}

impl From<Rejection> for PageError {
    fn from(error: Rejection) -> Self {
        PageError(error.into())
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(error: sea_orm::DbErr) -> Self {
        PageError(CoreError::from(error).into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let ApiError {
            status,
            code,
            message,
            ..
        } = self.0;
        let title = if status == StatusCode::NOT_FOUND {
            "Not found"
        } else if status.is_client_error() {
            "That did not work"
        } else {
            "Something went wrong"
        };
        let body = html! {
            h1 { (title) }
            p { (message) }
            p.muted.small { "Code: " code { (code) } }
            p { a href="/" { "Back to Caly" } }
        };
        (status, layout::bare(title, body)).into_response()
    }
}

/// What page handlers return.
pub(crate) type PageResult = Result<Response, PageError>;
