//! The api described: an OpenAPI 3.0 document built from one table of every operation (method,
//! path, least role, summary, example body, success status), served at `/api/openapi.json`, and
//! an interactive docs page at `/api/docs` that works offline (its script and styles are served
//! by Caly; no CDN). A test checks that every route the api serves is in the table and that
//! every operation in the table is served.

use crate::ApiState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/openapi.json", get(document))
        .route("/api/docs", get(page))
        .route("/api/docs/docs.js", get(script))
        .route("/api/docs/docs.css", get(styles))
}

/// Who may call an operation.
#[derive(Clone, Copy)]
enum Who {
    /// Anyone (sign-up, login, health).
    Public,
    /// A tenant's webhook secret in the URL (Exotel).
    Webhook,
    /// A signed-in person or API key whose role is this or above.
    Role(&'static str),
    /// A signed-in person (never an API key) whose role is this or above.
    Person(&'static str),
    /// A signed-in person of the platform operator (`CALY_OPERATOR_EMAILS`).
    Operator,
}

/// One operation.
struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    who: Who,
    summary: &'static str,
    body: Option<&'static str>,
    success: u16,
}

const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    who: Who,
    summary: &'static str,
    body: Option<&'static str>,
    success: u16,
) -> Op {
    Op {
        method,
        path,
        tag,
        who,
        summary,
        body,
        success,
    }
}

use Who::{Operator, Person, Public, Role, Webhook};

const V: Who = Role("viewer");
const AG: Who = Role("agent");
const AD: Who = Role("admin");

/// Every operation the api serves.
const OPERATIONS: &[Op] = &[
    op(
        "post",
        "/api/v1/auth/signup",
        "auth",
        Public,
        "Start a sign-up: mails a 6-digit code bound to the answer's signup_token (also set as the caly_signup cookie)",
        Some(
            r#"{"email": "asha@store.example", "password": "Blue-Kettle-42", "company": "Chai & Co", "name": "Asha"}"#,
        ),
        202,
    ),
    op(
        "post",
        "/api/v1/auth/signup/resend",
        "auth",
        Public,
        "Mail a new sign-up code (after the cooldown)",
        Some(r#"{"email": "asha@store.example", "signup_token": "caly_su_…"}"#),
        202,
    ),
    op(
        "post",
        "/api/v1/auth/signup/verify",
        "auth",
        Public,
        "Verify the code: creates the user, their tenant and a session",
        Some(r#"{"email": "asha@store.example", "code": "123456", "signup_token": "caly_su_…"}"#),
        201,
    ),
    op(
        "post",
        "/api/v1/auth/login",
        "auth",
        Public,
        "Sign in with email and password",
        Some(r#"{"email": "asha@store.example", "password": "Blue-Kettle-42"}"#),
        200,
    ),
    op(
        "post",
        "/api/v1/auth/refresh",
        "auth",
        Public,
        "Exchange a refresh token (one use; reuse revokes the session)",
        Some(r#"{"refresh_token": "caly_rt_..."}"#),
        200,
    ),
    op(
        "post",
        "/api/v1/auth/logout",
        "auth",
        Public,
        "Sign out: revokes the session",
        None,
        204,
    ),
    op(
        "post",
        "/api/v1/auth/password/forgot",
        "auth",
        Public,
        "Mail a password reset code and link",
        Some(r#"{"email": "asha@store.example"}"#),
        202,
    ),
    op(
        "post",
        "/api/v1/auth/password/reset",
        "auth",
        Public,
        "Set a new password with the code or the link's token (ends every session; revoke_api_keys also revokes the keys the person created)",
        Some(
            r#"{"email": "asha@store.example", "code": "123456", "password": "Green-Teapot-77", "revoke_api_keys": true}"#,
        ),
        204,
    ),
    op(
        "post",
        "/api/v1/auth/invitations/accept",
        "auth",
        Public,
        "Accept an invitation and sign in to its store",
        Some(r#"{"token": "...", "password": "Saffron-Lane-9", "name": "Priya"}"#),
        200,
    ),
    op(
        "get",
        "/api/v1/auth/google/start",
        "auth",
        Public,
        "Sign in with Google: redirects to Google (return_to: a path here)",
        None,
        302,
    ),
    op(
        "get",
        "/api/v1/auth/google/callback",
        "auth",
        Public,
        "Google's redirect back: sets the session cookies, redirects to return_to",
        None,
        302,
    ),
    op(
        "get",
        "/api/v1/me",
        "people",
        V,
        "The signed-in user, tenant, role and memberships",
        None,
        200,
    ),
    op(
        "patch",
        "/api/v1/me",
        "people",
        Person("viewer"),
        "Change your name, phone number or mail preferences (a person; an API key has no profile)",
        Some(r#"{"phone": "+919812345678", "notifications": {"daily_report": false}}"#),
        200,
    ),
    op(
        "get",
        "/api/v1/users",
        "people",
        V,
        "The store's people",
        None,
        200,
    ),
    op(
        "patch",
        "/api/v1/users/{id}",
        "people",
        AD,
        "Change a person's role or suspend them in this store",
        Some(r#"{"role": "supervisor"}"#),
        200,
    ),
    op(
        "delete",
        "/api/v1/users/{id}",
        "people",
        AD,
        "Remove a person from this store (their account and other stores stay)",
        None,
        204,
    ),
    op(
        "get",
        "/api/v1/invitations",
        "people",
        AD,
        "Pending invitations",
        None,
        200,
    ),
    op(
        "post",
        "/api/v1/invitations",
        "people",
        AD,
        "Invite someone by email with a role",
        Some(r#"{"email": "priya@store.example", "role": "agent"}"#),
        201,
    ),
    op(
        "delete",
        "/api/v1/invitations/{id}",
        "people",
        AD,
        "Withdraw an invitation",
        None,
        204,
    ),
    op(
        "get",
        "/api/v1/teams",
        "people",
        V,
        "Teams with their members",
        None,
        200,
    ),
    op(
        "post",
        "/api/v1/teams",
        "people",
        AD,
        "Create a team",
        Some(r#"{"name": "Support", "parent_id": null, "lead_user_id": null}"#),
        201,
    ),
    op(
        "patch",
        "/api/v1/teams/{id}",
        "people",
        AD,
        "Rename, move or change the lead of a team",
        Some(r#"{"name": "Hindi line"}"#),
        200,
    ),
    op(
        "delete",
        "/api/v1/teams/{id}",
        "people",
        AD,
        "Delete a team (sub-teams move up)",
        None,
        204,
    ),
    op(
        "put",
        "/api/v1/teams/{id}/members/{user_id}",
        "people",
        AD,
        "Add a person to a team",
        None,
        204,
    ),
    op(
        "delete",
        "/api/v1/teams/{id}/members/{user_id}",
        "people",
        AD,
        "Remove a person from a team",
        None,
        204,
    ),
    op(
        "get",
        "/api/v1/api-keys",
        "people",
        AD,
        "API keys (never the keys themselves)",
        None,
        200,
    ),
    op(
        "post",
        "/api/v1/api-keys",
        "people",
        AD,
        "Create an API key (shown once); scope read or write",
        Some(r#"{"name": "warehouse sync", "scope": "read"}"#),
        201,
    ),
    op(
        "delete",
        "/api/v1/api-keys/{id}",
        "people",
        AD,
        "Revoke an API key",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/audit",
        "people",
        AD,
        "The audit log (filters action, actor, from, to; format=csv)",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/onboarding",
        "onboarding",
        V,
        "What is connected and what is missing",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/integrations",
        "onboarding",
        AD,
        "Integration settings (never a secret)",
        None,
        200,
    ),
    op(
        "put",
        "/api/v1/integrations/shopify",
        "onboarding",
        AD,
        "Connect Shopify: admin token or client id and secret",
        Some(r#"{"shop": "kesar.myshopify.com", "token": "shpat_..."}"#),
        200,
    ),
    op(
        "put",
        "/api/v1/integrations/exotel",
        "onboarding",
        AD,
        "Connect Exotel: checks the account in its region",
        Some(r#"{"account_sid": "kesar1", "api_key": "...", "api_token": "...", "region": "in"}"#),
        200,
    ),
    op(
        "get",
        "/api/v1/integrations/webhooks",
        "onboarding",
        AD,
        "The Passthru, StatusCallback and Voicebot URLs",
        None,
        200,
    ),
    op(
        "post",
        "/api/v1/integrations/webhooks/rotate",
        "onboarding",
        AD,
        "New webhook URLs (old ones work through the grace period)",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/analytics/summary",
        "analytics",
        V,
        "The KPIs for an IST range (from, to; the last 30 days by default) next to the previous period of the same length; format=csv",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/analytics/daily",
        "analytics",
        V,
        "Calls per IST day over the range (every day, zeroes included); format=csv",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/analytics/intents",
        "analytics",
        V,
        "Per intent: calls, AI resolution and handoff rates, average turns; format=csv",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/analytics/heatmap",
        "analytics",
        V,
        "Calls per IST weekday and hour; format=csv",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/analytics/agents",
        "analytics",
        V,
        "The AI agents over the range: calls, turns, resolution, handoff turns, fallbacks, latency; format=csv",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/analytics/agents/daily",
        "analytics",
        V,
        "The AI agents per day; format=csv",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/analytics/people",
        "analytics",
        V,
        "The human team per person: handoffs (matched by phone number), minutes, tasks closed and open; format=csv",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/analytics/teams",
        "analytics",
        V,
        "The human team per team; format=csv",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/exports/calls",
        "analytics",
        V,
        "Every call in the range (IST day it happened), streamed as CSV (default) or a JSON array (format=json)",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/exports/turns",
        "analytics",
        V,
        "Every turn spoken in the range, streamed as CSV or JSON",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/exports/charges",
        "analytics",
        V,
        "Every charge and adjustment written in the range, streamed as CSV or JSON",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/calls",
        "calls",
        V,
        "Calls, newest first (filters state, channel, from, to (IST days), intent, outcome, caller, weekday and hour (IST, with from and to); paged)",
        None,
        200,
    ),
    op(
        "post",
        "/api/v1/calls",
        "calls",
        AG,
        "Open a text conversation with the agent",
        Some(r#"{"channel": "text", "caller": "+919812345678"}"#),
        201,
    ),
    op(
        "get",
        "/api/v1/calls/{id}",
        "calls",
        V,
        "A call with its events, stage runs, recording, charge, turns and transcript",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/calls/{id}/recording",
        "calls",
        V,
        "A short-lived link to the call's recording",
        None,
        200,
    ),
    op(
        "post",
        "/api/v1/calls/{id}/turns",
        "calls",
        AG,
        "One turn of a text conversation",
        Some(r#"{"text": "Where is my order 1004?"}"#),
        200,
    ),
    op(
        "post",
        "/api/v1/calls/{id}/stages/{stage}/replay",
        "calls",
        AD,
        "Re-run one stage of one call",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/charges",
        "billing",
        V,
        "Ledger entries and the balance (paise)",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/tasks",
        "tasks",
        V,
        "Requests the agent recorded for staff",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/tasks/{id}",
        "tasks",
        V,
        "One task with its history (assigned, commented, closed: who and when)",
        None,
        200,
    ),
    op(
        "post",
        "/api/v1/tasks/{id}/assign",
        "tasks",
        AG,
        "Assign a task to a member of the store, or to nobody",
        Some(r#"{"assignee_id": 7}"#),
        200,
    ),
    op(
        "post",
        "/api/v1/tasks/{id}/comments",
        "tasks",
        AG,
        "Comment on a task",
        Some(r#"{"body": "Called back, no answer; trying again at 5."}"#),
        201,
    ),
    op(
        "post",
        "/api/v1/tasks/{id}/close",
        "tasks",
        AG,
        "Close a task with a note",
        Some(r#"{"note": "Called back; address updated."}"#),
        200,
    ),
    op(
        "get",
        "/api/v1/store/profile",
        "store",
        V,
        "The store profile: policies, support hours, greeting, escalation, send-all-to-human",
        None,
        200,
    ),
    op(
        "put",
        "/api/v1/store/profile",
        "store",
        AD,
        "Replace the store profile (checked field by field)",
        Some(
            r#"{"policies": {"shipping": "2-5 days", "returns": "7 days", "refunds": "5 days to source", "cod": "yes, up to ₹5,000", "offers": "none"}, "support_hours": {"timezone": "Asia/Kolkata", "days": ["mon","tue","wed","thu","fri"], "open": "10:00", "close": "19:00"}, "escalation_number": "+919812345678", "bot_name": "Asha", "greeting": "Hi, this is Asha, an AI assistant. This call is recorded.", "send_all_to_human": false, "redact_transcripts": true}"#,
        ),
        200,
    ),
    op(
        "get",
        "/api/v1/store",
        "onboarding",
        V,
        "The Shopify connection's state",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/stage-runs/failed",
        "operations",
        AD,
        "Failed stage runs (filters stage, since, until, error_contains)",
        None,
        200,
    ),
    op(
        "post",
        "/api/v1/stage-runs/retry",
        "operations",
        AD,
        "Retry matching failed runs in bulk",
        Some(r#"{"stage": "recording_upload", "since": "6h"}"#),
        200,
    ),
    op(
        "get",
        "/hooks/exotel/{tenant}/{secret}/{kind}",
        "exotel",
        Webhook,
        "Exotel Passthru (kind passthru) or StatusCallback (kind status) as a GET query",
        None,
        200,
    ),
    op(
        "post",
        "/hooks/exotel/{tenant}/{secret}/{kind}",
        "exotel",
        Webhook,
        "Exotel Passthru or StatusCallback as a form or JSON POST",
        None,
        200,
    ),
    op(
        "get",
        "/voice/exotel/{tenant}/{secret}",
        "exotel",
        Webhook,
        "Exotel Voicebot WebSocket (upgrade)",
        None,
        101,
    ),
    op(
        "get",
        "/voice/exotel/{tenant}",
        "exotel",
        Webhook,
        "Exotel Voicebot WebSocket with Basic auth (upgrade)",
        None,
        101,
    ),
    op(
        "get",
        "/objects/{key}",
        "calls",
        Public,
        "A recording behind a signed, expiring link (local storage)",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/admin/health",
        "operations",
        AD,
        "System health: components, the store's runs per stage, worker heartbeats",
        None,
        200,
    ),
    op(
        "get",
        "/api/v1/operator/tenants",
        "operator",
        Operator,
        "Every tenant's balance, rate and credit limit",
        None,
        200,
    ),
    op(
        "put",
        "/api/v1/operator/tenants/{id}/billing",
        "operator",
        Operator,
        "Set a tenant's rate (from now) and credit limit (null: none)",
        Some(r#"{"rate_paise_per_min": 2500, "credit_limit_paise": 500000}"#),
        200,
    ),
    op(
        "post",
        "/api/v1/operator/tenants/{id}/ledger",
        "operator",
        Operator,
        "Record a credit or a payment received, once per reference (201; 200 when repeated)",
        Some(
            r#"{"kind": "credit", "amount_paise": 50000, "reason": "Goodwill for the outage on 3 Dec", "reference": "TICKET-4821"}"#,
        ),
        201,
    ),
    op(
        "post",
        "/api/v1/operator/users/disable",
        "operator",
        Operator,
        "Disable (or restore) a person's account in every store",
        Some(r#"{"email": "asha@store.example", "disabled": true}"#),
        200,
    ),
    op(
        "get",
        "/healthz",
        "health",
        Public,
        "The process answers",
        None,
        200,
    ),
    op(
        "get",
        "/readyz",
        "health",
        Public,
        "Database, queue and object store reachable (503 otherwise)",
        None,
        200,
    ),
    op(
        "get",
        "/api/openapi.json",
        "docs",
        Public,
        "This document",
        None,
        200,
    ),
    op(
        "get",
        "/api/docs",
        "docs",
        Public,
        "Interactive docs",
        None,
        200,
    ),
    op(
        "get",
        "/api/docs/docs.js",
        "docs",
        Public,
        "The docs page's script",
        None,
        200,
    ),
    op(
        "get",
        "/api/docs/docs.css",
        "docs",
        Public,
        "The docs page's styles",
        None,
        200,
    ),
];

fn parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

fn operation(op: &Op) -> Value {
    let (security, who) = match op.who {
        Public => (json!([]), "Anyone.".to_string()),
        Webhook => (
            json!([]),
            "Exotel, with the tenant's webhook secret.".to_string(),
        ),
        Role(role) => (
            json!([{"bearer": []}, {"apiKey": []}, {"session": []}]),
            format!("Role {role} or above (API key scope read acts as viewer, write as admin)."),
        ),
        Person(role) => (
            json!([{"bearer": []}, {"session": []}]),
            format!("A signed-in person of role {role} or above (not an API key)."),
        ),
        Operator => (
            json!([{"bearer": []}, {"session": []}]),
            "A signed-in person of the platform operator (CALY_OPERATOR_EMAILS).".to_string(),
        ),
    };
    let error = json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut responses = Map::new();
    responses.insert(op.success.to_string(), json!({"description": "Success"}));
    for (status, meaning) in [
        ("400", "Bad request"),
        ("401", "No valid credentials"),
        (
            "403",
            "Role too low, or a cookie request without its CSRF token",
        ),
        ("404", "Not found (or another tenant's)"),
        ("422", "Invalid fields; see fields"),
        ("429", "Rate limited; see Retry-After"),
    ] {
        let mut e = error.clone();
        e["description"] = json!(meaning);
        responses.insert(status.into(), e);
    }
    let mut value = json!({
        "tags": [op.tag],
        "summary": op.summary,
        "description": who,
        "x-caly-least-role": match op.who { Role(r) | Person(r) => r, Public => "none", Webhook => "webhook secret", Operator => "operator" },
        "x-caly-people-only": matches!(op.who, Person(_) | Operator),
        "parameters": parameters(op.path),
        "security": security,
        "responses": responses,
    });
    if let Some(example) = op.body {
        let example: Value = serde_json::from_str(example).expect("examples are JSON");
        value["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}, "example": example}}});
    }
    value
}

/// The OpenAPI document.
pub fn openapi() -> Value {
    let mut paths = Map::new();
    for op in OPERATIONS {
        let entry = paths.entry(op.path).or_insert_with(|| json!({}));
        entry[op.method] = operation(op);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Caly API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "AI phone support for e-commerce stores. Errors are {\"error\": {\"code\", \"message\", \"request_id\", \"fields\"?}}.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An access token (JWT) or an API key (caly_key_...)"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "session": {"type": "apiKey", "in": "cookie", "name": "caly_session", "description": "Changes also need X-CSRF-Token"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string", "example": "forbidden"},
                            "message": {"type": "string"},
                            "request_id": {"type": "string"},
                            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    }},
                },
            },
        },
    })
}

async fn document() -> Json<Value> {
    Json(openapi())
}

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../assets/docs.html"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/docs.js"),
    )
}

async fn styles() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/docs.css"),
    )
}
