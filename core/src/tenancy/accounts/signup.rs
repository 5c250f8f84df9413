//! Sign-up: an email, a password and a company name; a 6-digit code mailed to the address and
//! bound to a token the starting client holds; the code verified with that token, and the
//! person is the owner of a new tenant, signed in. Nothing but the pending code (with the
//! sign-up sealed inside it) is stored until the code is verified. Whoever types the code gets
//! the password chosen with that token, never one from another sign-up for the same address.

use super::codes::{self, CodeFor, Purpose};
use super::members::{self, NewUser};
use super::sessions::{self, SessionTokens};
use super::{Actor, audit, normalise_email, passwords};
use crate::platform::crypto::random_token;
use crate::{App, CoreError, Rejection};
use caly_entities::user;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What a person signs up with.
#[derive(Clone, Debug)]
pub struct SignupRequest {
    /// Their email.
    pub email: String,
    /// Their password.
    pub password: SecretString,
    /// Their name (optional; the email's name part when empty).
    pub name: String,
    /// The store's (company's) name.
    pub company: String,
}

/// The pending sign-up, sealed inside its code.
#[derive(Serialize, Deserialize)]
struct Pending {
    name: String,
    company: String,
    password_hash: String,
}

/// What a started sign-up tells the client.
#[derive(Clone, Debug, Serialize)]
pub struct CodeSent {
    /// The address the code went to.
    pub email: String,
    /// Seconds the code works.
    pub expires_in: u64,
    /// Seconds before another code can be asked for.
    pub resend_after: u64,
    /// The token that binds the mailed code to whoever started this sign-up: verifying and
    /// resending need it (the api also sets it as a cookie for browsers). A later sign-up for
    /// the same address, by anyone, gets its own token and its own code.
    pub signup_token: String,
}

fn code_sent(email: String, signup_token: String) -> CodeSent {
    CodeSent {
        email,
        expires_in: codes::CODE_TTL.as_secs(),
        resend_after: codes::RESEND_COOLDOWN.as_secs(),
        signup_token,
    }
}

fn text_field(field: &'static str, value: &str, max: usize) -> Result<String, Rejection> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Rejection::InvalidField {
            field,
            message: "must not be empty".into(),
        });
    }
    if value.chars().count() > max {
        return Err(Rejection::InvalidField {
            field,
            message: format!("must be at most {max} characters"),
        });
    }
    Ok(value.to_string())
}

/// Checks the request, mails a code bound to a new sign-up token and keeps the sign-up
/// pending. An address that already has an account gets a mail saying so instead. Both paths
/// hash the password, write a code row (so the daily cap counts both alike) and send one mail,
/// and answer the same, so sign-up does not reveal who has an account.
pub async fn start(
    app: &App,
    request: SignupRequest,
    now: DateTime<Utc>,
) -> Result<CodeSent, CoreError> {
    let email = normalise_email(&request.email)?;
    let company = text_field("company", &request.company, 200)?;
    let name = match request.name.trim() {
        "" => email.split('@').next().unwrap_or_default().to_string(),
        name => text_field("name", name, 200)?,
    };
    passwords::check_strength(
        secrecy::ExposeSecret::expose_secret(&request.password),
        &email,
    )?;
    let password_hash = passwords::hash(&request.password).await?;
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&app.db)
        .await?;
    let token = random_token("caly_su_");
    let which = CodeFor {
        purpose: Purpose::Signup,
        email: &email,
        binding: Some(&token),
    };
    let per_day = app.settings.security.codes_per_email_per_day;
    if existing.is_some() {
        // A code that is never mailed: it only counts toward the address's daily cap.
        codes::issue(&app.db, &app.key, which, None, per_day, now).await?;
        app.mailer
            .send(
                &email,
                "You already have a Caly account",
                "Someone (perhaps you) tried to sign up to Caly with this address, which \
                 already has an account. Sign in instead, or reset your password if you \
                 have forgotten it.\n\nIf this was not you, you can ignore this mail.",
            )
            .await?;
        return Ok(code_sent(email, token));
    }
    let pending = Pending {
        name,
        company,
        password_hash,
    };
    let payload = serde_json::to_string(&pending).expect("serialisable");
    let issued = codes::issue(&app.db, &app.key, which, Some(payload), per_day, now).await?;
    send_code(app, &email, &issued.code).await?;
    Ok(code_sent(email, token))
}

/// Mails a sign-up code. Nothing the requester typed goes into the mail (a stranger can start
/// a sign-up for anyone's address, so the mail must carry no text of theirs).
async fn send_code(app: &App, email: &str, code: &str) -> Result<(), CoreError> {
    let minutes = codes::CODE_TTL.as_secs() / 60;
    app.mailer
        .send(
            email,
            "Your Caly sign-up code",
            &format!(
                "Your Caly code is {code}\n\nEnter it on the page where you signed up, to finish \
                 signing up. It works for {minutes} minutes, and only on that page.\n\nIf you got \
                 more than one code, use the one that arrived right after you signed up.\n\n\
                 If you did not sign up to Caly, you can ignore this mail: nobody can use this \
                 address without the code."
            ),
        )
        .await?;
    Ok(())
}

/// Mails a new code for the pending sign-up that `signup_token` started (after the
/// cooldown). Without a pending sign-up for that token nothing is sent, with the same response.
pub async fn resend(
    app: &App,
    email: &str,
    signup_token: &str,
    now: DateTime<Utc>,
) -> Result<CodeSent, CoreError> {
    let email = normalise_email(email)?;
    let which = CodeFor {
        purpose: Purpose::Signup,
        email: &email,
        binding: Some(signup_token),
    };
    if let Some(retry_after_secs) = codes::cooldown_left(&app.db, &app.key, which, now).await? {
        return Err(Rejection::TooSoon { retry_after_secs }.into());
    }
    if let Some(payload) = codes::live_payload(&app.db, &app.key, which).await? {
        let per_day = app.settings.security.codes_per_email_per_day;
        let issued = codes::issue(&app.db, &app.key, which, Some(payload), per_day, now).await?;
        send_code(app, &email, &issued.code).await?;
    }
    Ok(code_sent(email, signup_token.to_string()))
}

/// Verifies the code: creates the user, their tenant (they own it) and a session.
/// The code works only with the `signup_token` of the sign-up it was mailed for.
pub async fn verify(
    app: &App,
    email: &str,
    code: &str,
    signup_token: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SessionTokens, CoreError> {
    let email = normalise_email(email)?;
    let which = CodeFor {
        purpose: Purpose::Signup,
        email: &email,
        binding: Some(signup_token),
    };
    let payload = codes::consume(&app.db, &app.key, which, code, now)
        .await?
        .ok_or(Rejection::CodeExpired)?;
    let pending: Pending = serde_json::from_str(&payload).map_err(|_| Rejection::CodeExpired)?;
    let taken = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&app.db)
        .await?;
    if taken.is_some() {
        return Err(Rejection::AccountConflict(
            "This email already has an account; sign in instead.".into(),
        )
        .into());
    }
    // The transaction starts with a write (SQLite lets a writing transaction wait its turn); the
    // unique email index stops a racing twin.
    let txn = app.db.begin().await?;
    let new = NewUser {
        email: &email,
        name: &pending.name,
        password_hash: Some(pending.password_hash),
        google_sub: None,
    };
    let (user, tenant) = members::create_owner(
        &txn,
        &app.key,
        new,
        &pending.company,
        app.settings.default_rate_paise,
        now,
    )
    .await?;
    let actor = actor.in_tenant(tenant.id).as_user(user.id, &user.email);
    audit::record(
        &txn,
        &actor,
        "auth.signup",
        &format!("user:{}", user.id),
        json!({"tenant": tenant.id, "company": tenant.name}),
        now,
    )
    .await?;
    txn.commit().await?;
    sessions::open(app, user, tenant.id, &actor, now).await
}
