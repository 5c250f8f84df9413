//! The embedded default's demo tenant: created on first start, its credentials printed that
//! once and kept in the data folder (`demo-tenant.json`, mode 0600) for `caly simulate`;
//! later starts only say where they are.

use caly_core::platform::settings::Settings;
use caly_core::tenancy::{self, NewTenant};
use caly_core::{App, TenantId};
use caly_entities::tenant;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// What `caly simulate` needs to drive the demo tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoTenant {
    /// Tenant id.
    pub tenant_id: i64,
    /// API key.
    pub api_key: String,
    /// Webhook secret.
    pub webhook_secret: String,
    /// Exotel key the simulator's recording server expects.
    pub exotel_key: String,
    /// Exotel token the simulator's recording server expects.
    pub exotel_token: String,
    /// The api's base URL.
    pub base_url: String,
    /// The demo owner's sign-in email for the web app (absent in files of older versions).
    #[serde(default)]
    pub login_email: Option<String>,
    /// The demo owner's password.
    #[serde(default)]
    pub login_password: Option<String>,
}

/// The demo owner's address.
const DEMO_EMAIL: &str = "owner@demo.caly.local";

/// Creates the demo tenant's owner, who signs in to the web app, with a random password.
async fn create_demo_owner(app: &App, tenant: i64) -> anyhow::Result<(String, String)> {
    use caly_core::tenancy::accounts::{Role, members, passwords};
    // Random, long and mixed: it passes the password rule without a word list.
    let password = format!("Demo-{}-9x", caly_core::platform::crypto::random_token(""));
    let hash = passwords::hash(&SecretString::from(password.clone())).await?;
    let now = Utc::now();
    // A data folder whose demo file was deleted still has the demo owner: they get the new
    // password and the new demo tenant.
    let existing = caly_entities::user::Entity::find()
        .filter(caly_entities::user::Column::Email.eq(DEMO_EMAIL))
        .one(&app.db)
        .await?;
    let user = match existing {
        Some(user) => {
            let mut row: caly_entities::user::ActiveModel = user.into();
            row.password_hash = Set(Some(hash));
            row.update(&app.db).await?
        }
        None => {
            let new = members::NewUser {
                email: DEMO_EMAIL,
                name: "Demo Owner",
                password_hash: Some(hash),
                google_sub: None,
            };
            members::insert_user(&app.db, new, now).await?
        }
    };
    members::add_membership(&app.db, tenant, user.id, Role::Owner, now).await?;
    Ok((DEMO_EMAIL.to_string(), password))
}

/// Where the demo tenant's credentials are kept.
pub fn demo_file(settings: &Settings) -> PathBuf {
    settings.data_dir.join("demo-tenant.json")
}

/// On the embedded default, also allow recordings from this machine (the simulator serves them)
/// unless `CALY_RECORDING_HOSTS` was set explicitly.
pub fn allow_local_recordings(settings: &mut Settings) {
    if settings.is_sqlite() && std::env::var("CALY_RECORDING_HOSTS").is_err() {
        settings.recording_hosts = settings
            .recording_hosts
            .clone()
            .with_host("127.0.0.1")
            .with_host("localhost");
    }
}

/// Prints a tenant's API key and webhook URLs.
pub fn print_tenant(
    app: &App,
    tenant: &tenant::Model,
    api_key: &SecretString,
    secret: &SecretString,
) {
    println!("tenant {} ({})", tenant.id, tenant.name);
    println!(
        "  API key:   {}   (shown once; stored hashed)",
        api_key.expose_secret()
    );
    for (name, url) in
        tenancy::webhook_urls(&app.settings.public_base(), TenantId(tenant.id), secret)
    {
        println!("  {name:<16} {url}");
    }
}

/// The demo tenant written by an earlier `caly run`, if any.
pub async fn read_demo() -> Option<DemoTenant> {
    let settings = Settings::from_env().ok()?;
    let text = tokio::fs::read_to_string(demo_file(&settings)).await.ok()?;
    serde_json::from_str(&text).ok()
}

/// Creates the demo tenant on first start and prints how to use Caly; returns it, and whether
/// this was the first start.
pub async fn announce(app: &App, address: SocketAddr) -> anyhow::Result<(DemoTenant, bool)> {
    let path = demo_file(&app.settings);
    let base = app
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let (demo, first_start) = match tokio::fs::read_to_string(&path).await {
        Ok(text) => (serde_json::from_str::<DemoTenant>(&text)?, false),
        Err(_) => {
            let exotel_key = caly_core::platform::crypto::random_token("demo_key_");
            let exotel_token = caly_core::platform::crypto::random_token("demo_token_");
            let created = tenancy::create(
                &app.db,
                &app.key,
                NewTenant {
                    name: "Demo Store".into(),
                    exotel_sid: "demo".into(),
                    exotel_key: exotel_key.clone().into(),
                    exotel_token: exotel_token.clone().into(),
                    exotel_subdomain: "api.in.exotel.com".into(),
                    rate_paise_per_min: app.settings.default_rate_paise,
                },
                Utc::now(),
            )
            .await?;
            let (login_email, login_password) = create_demo_owner(app, created.tenant.id).await?;
            let demo = DemoTenant {
                tenant_id: created.tenant.id,
                api_key: created.api_key.expose_secret().to_string(),
                webhook_secret: created.webhook_secret.expose_secret().to_string(),
                exotel_key,
                exotel_token,
                base_url: base.clone(),
                login_email: Some(login_email),
                login_password: Some(login_password),
            };
            tokio::fs::write(&path, serde_json::to_string_pretty(&demo)?).await?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tokio::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).await?;
            }
            (demo, true)
        }
    };
    println!("Caly is running (embedded default) at {base}");
    println!(
        "  database: {}",
        caly_core::platform::settings::redact_url(&app.settings.database_url)
    );
    if !first_start {
        // Credentials are shown once; later starts only say where they are kept.
        println!("open {base}/login and sign in as the demo owner");
        println!(
            "demo tenant {}: its login, API key and webhook URLs are in {} (readable by you only)",
            demo.tenant_id,
            path.display()
        );
        println!("try:  cargo run --release -- simulate --calls 20");
        println!("      cargo run --release -- chat --caller +919812345678");
        return Ok((demo, false));
    }
    println!(
        "demo tenant {} created; shown this once, kept in {} (mode 0600)",
        demo.tenant_id,
        path.display()
    );
    println!("  sign in:   {base}/login");
    println!(
        "    email:    {}",
        demo.login_email.as_deref().unwrap_or_default()
    );
    println!(
        "    password: {}",
        demo.login_password.as_deref().unwrap_or_default()
    );
    println!("  API key:   {}", demo.api_key);
    let secret = SecretString::from(demo.webhook_secret.clone());
    for (name, url) in tenancy::webhook_urls(&base, TenantId(demo.tenant_id), &secret) {
        println!("  {name:<16} {url}");
    }
    println!("try:  cargo run --release -- simulate --calls 20");
    println!(
        "      curl -H 'Authorization: Bearer {}' {base}/api/v1/calls",
        demo.api_key
    );
    println!("      cargo run --release -- chat --caller +919812345678");
    Ok((demo, true))
}
