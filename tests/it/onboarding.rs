//! Onboarding over the real HTTP API, against the Shopify and Exotel contract servers: a new
//! tenant connects Shopify (admin token, or client credentials with the token renewed before it
//! expires) and Exotel (with a wrong region detected), sees its webhook URLs again, rotates
//! them with grace, and becomes ready. Validation failures name what is wrong; nothing secret is
//! ever returned.

use crate::support::accounts::PASSWORD;
use crate::support::exotel::{ACCOUNT_SID, FakeExotel};
use crate::support::shopify::fake_shopify;
use crate::support::{Backend, Options, TestApp};
use caly_core::integrations::shopify::local::ALL_SCOPES;
use caly_core::tenancy::accounts::Role;
use caly_core::tenancy::{self, shopify};
use caly_entities::{shopify_store, tenant};
use reqwest::Method;
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const TOKEN: &str = "shpat_onboarding";

/// A fresh tenant (as sign-up makes it) and its owner's access token.
async fn new_store(t: &TestApp) -> (i64, String) {
    let now = chrono::Utc::now();
    let row = tenancy::create_unconnected(&t.app.db, &t.app.key, "Kesar Kitchen", 3000, now)
        .await
        .unwrap();
    let owner = t.add_user_to(row.id, Role::Owner).await;
    let session = t.login(&owner.email, PASSWORD).await;
    (
        row.id,
        session["access_token"].as_str().unwrap().to_string(),
    )
}

async fn put(
    t: &TestApp,
    token: &str,
    what: &str,
    body: Value,
) -> crate::support::accounts::Answer {
    t.request(
        Method::PUT,
        &format!("/api/v1/integrations/{what}"),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_new_store_connects_shopify_and_exotel_sees_its_urls_again_and_is_ready() {
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            workers: false,
            ..Options::default()
        },
    )
    .await;
    let (tenant_id, owner) = new_store(&t).await;
    let status = t
        .request(Method::GET, "/api/v1/onboarding", Some(&owner), None)
        .await;
    assert_eq!(status.status, 200);
    assert_eq!(status.body["ready"], false);
    assert_eq!(
        status.body["missing"],
        json!(["Connect Shopify.", "Connect Exotel."])
    );

    let store = fake_shopify(TOKEN, &ALL_SCOPES).await;
    let shop = json!({"shop": "kesar.myshopify.com", "token": TOKEN, "api_url": store.base});
    let connected = put(&t, &owner, "shopify", shop).await;
    assert_eq!(connected.status, 200, "{}", connected.body);
    assert_eq!(connected.body["auth"], "admin_token");
    assert!(connected.body["scopes"].as_array().unwrap().len() >= 4);
    let status = t
        .request(Method::GET, "/api/v1/onboarding", Some(&owner), None)
        .await;
    assert_eq!(status.body["shopify"]["connected"], true);
    assert_eq!(status.body["ready"], false);

    let exotel = json!({"account_sid": ACCOUNT_SID, "api_key": "exo-key", "api_token": "exo-token", "region": "in"});
    let connected = put(&t, &owner, "exotel", exotel).await;
    assert_eq!(connected.status, 200, "{}", connected.body);
    assert_eq!(connected.body["region"], "in");
    let hooks = connected.body["webhooks"].clone();
    let passthru = hooks["passthru"].as_str().unwrap().to_string();
    let status_url = hooks["status_callback"].as_str().unwrap().to_string();
    assert!(
        passthru.starts_with(&format!("{}/hooks/exotel/{tenant_id}/", t.base)),
        "{passthru}"
    );
    assert!(hooks["voicebot"].as_str().unwrap().starts_with("ws://"));
    let status = t
        .request(Method::GET, "/api/v1/onboarding", Some(&owner), None)
        .await;
    assert_eq!(status.body["ready"], true, "{}", status.body);
    assert_eq!(status.body["missing"], json!([]));

    // The URLs work, and can be seen again.
    let delivered = t
        .post_raw(
            &status_url,
            "application/x-www-form-urlencoded",
            "CallSid=onb-1&Status=completed&DialCallDuration=5",
        )
        .await;
    assert_eq!(delivered.status(), 200);
    let again = t
        .request(
            Method::GET,
            "/api/v1/integrations/webhooks",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(again.body, hooks);
    // Rotating gives new URLs; the old ones keep working through the grace period.
    let rotated = t
        .request(
            Method::POST,
            "/api/v1/integrations/webhooks/rotate",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(rotated.status, 200);
    let new_status = rotated.body["status_callback"].as_str().unwrap();
    assert_ne!(new_status, status_url);
    for url in [status_url.as_str(), new_status] {
        let answer = t
            .post_raw(
                url,
                "application/x-www-form-urlencoded",
                "CallSid=onb-2&Status=completed&DialCallDuration=5",
            )
            .await;
        assert_eq!(answer.status(), 200, "{url}");
    }

    // Nothing secret comes back, and the secrets are sealed at rest.
    let settings = t
        .request(Method::GET, "/api/v1/integrations", Some(&owner), None)
        .await;
    let text = settings.body.to_string();
    for secret in [TOKEN, "exo-key", "exo-token"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(settings.body["exotel"]["account_sid"], ACCOUNT_SID);
    let row = tenant::Entity::find_by_id(tenant_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.exotel_token_enc.contains("exo-token"));
    assert_eq!(
        t.app
            .key
            .open(
                &row.exotel_token_enc,
                tenancy::tenant_at("exotel_token_enc", &row.id.to_string())
            )
            .unwrap(),
        "exo-token"
    );
    let audit = t
        .request(
            Method::GET,
            "/api/v1/audit?action=integration.",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(audit.body["total"], 3, "{}", audit.body);
}

#[tokio::test]
async fn shopify_validation_names_what_is_wrong_and_client_credentials_tokens_are_renewed() {
    let t = TestApp::spawn_opts(
        Backend::Production,
        Options {
            workers: false,
            ..Options::default()
        },
    )
    .await;
    let (tenant_id, owner) = new_store(&t).await;
    let partial = fake_shopify(TOKEN, &["read_orders", "read_products"]).await;
    let shop = |token: &str, base: &str| json!({"shop": "kesar.myshopify.com", "token": token, "api_url": base});
    let bad = put(&t, &owner, "shopify", shop("shpat_wrong", &partial.base)).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["error"]["code"], "shopify_unauthorized");
    let missing = put(&t, &owner, "shopify", shop(TOKEN, &partial.base)).await;
    assert_eq!(missing.body["error"]["code"], "shopify_missing_scopes");
    assert!(
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read_customers, read_inventory"),
        "{}",
        missing.body
    );
    let neither = put(
        &t,
        &owner,
        "shopify",
        json!({"shop": "kesar.myshopify.com"}),
    )
    .await;
    assert_eq!(neither.status, 422);
    assert!(neither.body["error"]["fields"]["token"].is_string());

    // A Dev Dashboard app: the client-credentials grant, its ~24 h token cached.
    let store = fake_shopify(TOKEN, &ALL_SCOPES).await;
    store.accept_client("app-client-id", "app-client-secret");
    let wrong = put(
        &t,
        &owner,
        "shopify",
        json!({"shop": "kesar.myshopify.com", "client_id": "app-client-id",
        "client_secret": "nope", "api_url": store.base}),
    )
    .await;
    assert_eq!(wrong.body["error"]["code"], "shopify_unauthorized");
    let connected = put(
        &t,
        &owner,
        "shopify",
        json!({"shop": "kesar.myshopify.com", "client_id": "app-client-id",
        "client_secret": "app-client-secret", "api_url": store.base}),
    )
    .await;
    assert_eq!(connected.status, 200, "{}", connected.body);
    assert_eq!(connected.body["auth"], "client_credentials");
    assert_eq!(store.grants(), 1);
    let row = shopify_store::Entity::find_by_id(tenant_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let lasts = row.token_expires_at.unwrap() - chrono::Utc::now();
    assert!(lasts > chrono::Duration::hours(23), "{lasts}");
    assert!(
        !row.client_secret_enc
            .as_deref()
            .unwrap()
            .contains("app-client-secret")
    );
    // A client is made with the cached token until it nears expiry; then a new one is granted.
    shopify::connected_client(&t.app, caly_core::TenantId(tenant_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.grants(), 1);
    sea_orm::ConnectionTrait::execute_unprepared(
        &t.app.db,
        &format!(
            "UPDATE shopify_stores SET token_expires_at = '{}' WHERE tenant_id = {tenant_id}",
            (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339()
        ),
    )
    .await
    .unwrap();
    let client = shopify::connected_client(&t.app, caly_core::TenantId(tenant_id))
        .await
        .unwrap();
    assert!(client.is_some());
    assert_eq!(store.grants(), 2, "renewed before expiry");
    let row = shopify_store::Entity::find_by_id(tenant_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.token_expires_at.unwrap() - chrono::Utc::now() > chrono::Duration::hours(23));

    // A shop that stops answering is reported as unreachable, not left hanging.
    store.stall();
    let slow = put(&t, &owner, "shopify", shop(TOKEN, &store.base)).await;
    assert_eq!(
        slow.body["error"]["code"], "shopify_unreachable",
        "{}",
        slow.body
    );
}

#[tokio::test]
async fn exotel_validation_detects_a_wrong_region_bad_credentials_and_a_silent_host() {
    let india = FakeExotel::start("in-key", "in-token").await;
    let singapore = FakeExotel::start("sg-key", "sg-token").await;
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            workers: false,
            exotel_hosts: Some(format!("in={},sg={}", india.base, singapore.base)),
            ..Options::default()
        },
    )
    .await;
    let (_, owner) = new_store(&t).await;
    let account = |key: &str, token: &str, region: &str| json!({"account_sid": ACCOUNT_SID, "api_key": key, "api_token": token, "region": region});
    let wrong_region = put(&t, &owner, "exotel", account("sg-key", "sg-token", "in")).await;
    assert_eq!(wrong_region.status, 422);
    assert_eq!(wrong_region.body["error"]["code"], "exotel_wrong_region");
    assert!(
        wrong_region.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'sg'"),
        "{}",
        wrong_region.body
    );
    let refused = put(&t, &owner, "exotel", account("in-key", "wrong", "in")).await;
    assert_eq!(refused.body["error"]["code"], "exotel_unauthorized");
    let unknown = put(&t, &owner, "exotel", account("in-key", "in-token", "mars")).await;
    assert!(
        unknown.body["error"]["fields"]["region"].is_string(),
        "{}",
        unknown.body
    );
    let status = t
        .request(Method::GET, "/api/v1/onboarding", Some(&owner), None)
        .await;
    assert_eq!(
        status.body["exotel"]["connected"], false,
        "nothing stored on failure"
    );
    let ok = put(&t, &owner, "exotel", account("sg-key", "sg-token", "sg")).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["region"], "sg");
    singapore.stall();
    let silent = put(&t, &owner, "exotel", account("sg-key", "sg-token", "sg")).await;
    assert_eq!(
        silent.body["error"]["code"], "exotel_unreachable",
        "{}",
        silent.body
    );
}

#[tokio::test]
async fn system_health_shows_components_the_stores_runs_and_live_workers() {
    let t = TestApp::spawn(Backend::Production).await;
    let (_, admin) = t.signed_in(Role::Admin).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let health = loop {
        let answer = t
            .request(Method::GET, "/api/v1/admin/health", Some(&admin), None)
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        if !answer.body["workers"].as_array().unwrap().is_empty() {
            break answer.body;
        }
        assert!(std::time::Instant::now() < deadline, "the workers beat");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    for component in ["database", "queue", "object_store", "mail", "exotel"] {
        assert_eq!(
            health["components"][component]["status"], "ok",
            "{component}: {health}"
        );
    }
    assert_eq!(health["components"]["shopify"]["status"], "not_configured");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["workers"][0]["alive"], true);
    assert!(
        health["workers"][0]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "charge")
    );
    let stages = health["stages"].as_array().unwrap();
    assert!(
        stages
            .iter()
            .any(|s| s["stage"] == "ingest" && s["failed"] == 0)
    );
    // Exotel refusing the stored credentials shows as down, and the whole as degraded.
    let other = t.other_tenant().await;
    let other_admin = t.add_user_to(other.tenant.id, Role::Admin).await;
    let token = t.login(&other_admin.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = t
        .request(Method::GET, "/api/v1/admin/health", Some(&token), None)
        .await;
    assert_eq!(
        theirs.body["components"]["exotel"]["status"], "down",
        "{}",
        theirs.body
    );
    assert_eq!(theirs.body["status"], "degraded");
    assert!(!theirs.body.to_string().contains("exo-token"));
}

#[tokio::test]
async fn a_master_key_rotation_keeps_every_secret_readable_and_reseal_moves_them_to_the_new_key() {
    use caly_core::App;
    use caly_core::platform::crypto::MasterKey;
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            workers: false,
            ..Options::default()
        },
    )
    .await;
    let (tenant_id, owner) = new_store(&t).await;
    let store = fake_shopify(TOKEN, &ALL_SCOPES).await;
    store.accept_client("rot-id", "rot-secret");
    let connected = put(
        &t,
        &owner,
        "shopify",
        json!({"shop": "kesar.myshopify.com", "client_id": "rot-id",
        "client_secret": "rot-secret", "api_url": store.base}),
    )
    .await;
    assert_eq!(connected.status, 200);
    let exotel = json!({"account_sid": ACCOUNT_SID, "api_key": "exo-key", "api_token": "exo-token", "region": "in"});
    assert_eq!(put(&t, &owner, "exotel", exotel).await.status, 200);
    let urls = t
        .request(
            Method::GET,
            "/api/v1/integrations/webhooks",
            Some(&owner),
            None,
        )
        .await
        .body;

    // The new key is current; the old one is only "previous".
    let old = t.app.settings.master_key.clone().unwrap();
    let new = MasterKey::generate().to_base64();
    let mut settings = (*t.app.settings).clone();
    settings.master_key = Some(new.clone().into());
    settings.master_key_previous = vec![old];
    let rotated = App::connect(
        settings.clone(),
        false,
        caly_core::platform::pools::ProcessRole::Command,
    )
    .await
    .unwrap();
    let row = tenant::Entity::find_by_id(tenant_id)
        .one(&rotated.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        tenancy::exotel_credentials(&rotated.key, &row)
            .unwrap()
            .token
            .expose_secret(),
        "exo-token"
    );
    let report = caly_core::platform::reseal::reseal_all(&rotated.db, &rotated.key)
        .await
        .unwrap();
    for column in [
        "tenants.exotel_token_enc",
        "tenants.webhook_secret_enc",
        "shopify_stores.client_secret_enc",
        "signing_keys.secret_enc",
    ] {
        assert!(
            report.get(column).copied().unwrap_or(0) >= 1,
            "{column}: {report:?}"
        );
    }
    let again = caly_core::platform::reseal::reseal_all(&rotated.db, &rotated.key)
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "nothing left under the old key: {again:?}"
    );
    // Each value is bound to its table, column and row: one copied into another column (by
    // someone who can write the database but not read the key) no longer opens there.
    let row = tenant::Entity::find_by_id(tenant_id)
        .one(&rotated.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.exotel_token_enc.starts_with("v3:"),
        "bound after the reseal"
    );
    let swapped = tenant::Model {
        exotel_key_enc: row.exotel_token_enc.clone(),
        ..row.clone()
    };
    assert!(tenancy::exotel_credentials(&rotated.key, &swapped).is_err());
    let moved = tenant::Model {
        id: row.id + 1,
        ..row
    };
    assert!(tenancy::exotel_credentials(&rotated.key, &moved).is_err());

    // Without the old key everything still opens.
    settings.master_key_previous = Vec::new();
    let only_new = App::connect(
        settings,
        false,
        caly_core::platform::pools::ProcessRole::Command,
    )
    .await
    .unwrap();
    let row = tenant::Entity::find_by_id(tenant_id)
        .one(&only_new.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        tenancy::exotel_credentials(&only_new.key, &row)
            .unwrap()
            .key
            .expose_secret(),
        "exo-key"
    );
    let secret = tenancy::webhook_secret(&only_new.key, &row)
        .unwrap()
        .unwrap();
    assert!(
        urls["passthru"]
            .as_str()
            .unwrap()
            .contains(secret.expose_secret())
    );
    let client = shopify::connected_client(&only_new, caly_core::TenantId(tenant_id))
        .await
        .unwrap();
    assert!(
        client.is_some(),
        "the Shopify token opens under the new key"
    );
}
