//! Connecting a store and setting its profile from the CLI: the token's shop and scopes are checked with Shopify (with
//! its throttling waited out), missing scopes are named, a refused token or an address outside
//! the egress policy is refused, and the token is stored sealed.

use crate::support::process::{caly_command, run_caly};
use crate::support::shopify::fake_shopify;
use crate::support::{Backend, TestApp, loopback_egress};
use caly_core::integrations::shopify::local::LocalShopify;
use caly_core::integrations::shopify::{ShopifyClient, ShopifyError, ShopifyOrigin, store};
use caly_core::tenancy::{profile, shopify};
use caly_entities::shopify_store;
use sea_orm::EntityTrait;

const TOKEN: &str = "shpat_test_0123456789abcdef";
const ALL: &[&str] = &[
    "read_orders",
    "read_customers",
    "read_products",
    "read_inventory",
];

fn connect_args<'a>(id: &'a str, fake: &'a LocalShopify, token: &'a str) -> Vec<&'a str> {
    vec![
        "tenant",
        "connect-shopify",
        "--tenant",
        id,
        "--shop",
        "kesar.myshopify.com",
        "--token",
        token,
        "--api-url",
        &fake.base,
    ]
}

async fn a_store_is_connected_from_the_cli(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.tenant.tenant.id.to_string();
    let fake = fake_shopify(TOKEN, ALL).await;
    fake.throttle_next(1);
    let (ok, out) = run_caly(&app, &connect_args(&id, &fake, TOKEN)).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("shop: Kesar Ethnic Wear (kesar.myshopify.com, INR, Asia/Kolkata)"),
        "{out}"
    );
    assert!(
        out.contains("warning: Without read_all_orders, orders older than 60 days"),
        "{out}"
    );
    assert!(out.contains("connected to kesar.myshopify.com"), "{out}");
    assert!(!out.contains(TOKEN), "the token is never echoed");
    assert_eq!(fake.hits(), 2, "throttled once, then answered");
    assert_eq!(fake.versions()[0], "2026-10");
    let store = shopify_store::Entity::find_by_id(app.tenant.tenant.id)
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.status, "connected");
    assert_eq!(store.scopes, ALL.join(","));
    assert!(!store.token_enc.contains(TOKEN), "sealed at rest");
    let row = store.tenant_id.to_string();
    let at = caly_core::tenancy::shopify::store_at("token_enc", &row);
    assert_eq!(app.app.key.open(&store.token_enc, at).unwrap(), TOKEN);
    app.stop().await;
}

async fn a_store_missing_scopes_or_with_a_bad_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.tenant.tenant.id.to_string();
    let fake = fake_shopify(TOKEN, &["read_orders", "read_products"]).await;
    let (ok, out) = run_caly(&app, &connect_args(&id, &fake, TOKEN)).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("lacks read_customers, read_inventory"),
        "{out}"
    );

    let (ok, out) = run_caly(&app, &connect_args(&id, &fake, "shpat_revoked")).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("refused the access token") && out.contains("revoked"),
        "{out}"
    );

    // --api-url stands in for the shop only on loopback, and only with the loopback switch.
    let args = [
        "tenant",
        "connect-shopify",
        "--tenant",
        &id,
        "--shop",
        "kesar.myshopify.com",
        "--token",
        TOKEN,
        "--api-url",
        "https://evil.example",
    ];
    let (ok, out) = run_caly(&app, &args).await;
    assert!(!ok && out.contains("not allowed"), "{out}");
    let output = caly_command(&app)
        .args(connect_args(&id, &fake, TOKEN))
        .env("CALY_EGRESS_ALLOW_LOOPBACK", "false")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && out.contains("loopback only"),
        "{out}"
    );
    let (ok, out) = run_caly(
        &app,
        &[
            "tenant",
            "connect-shopify",
            "--tenant",
            &id,
            "--shop",
            "kesar.com",
            "--token",
            TOKEN,
        ],
    )
    .await;
    assert!(!ok && out.contains("myshopify.com"), "{out}");

    assert_eq!(
        app.count::<shopify_store::Entity>().await,
        0,
        "nothing stored"
    );
    // Every tenant subcommand takes --tenant (and --id where it did before).
    let (ok, out) = run_caly(
        &app,
        &[
            "tenant",
            "set-rate",
            "--tenant",
            &id,
            "--paise-per-min",
            "2500",
        ],
    )
    .await;
    assert!(ok && out.contains("2500 paise/min"), "{out}");
    app.stop().await;
}

fn client(fake: &LocalShopify, token: &str) -> ShopifyClient {
    let egress = loopback_egress();
    let origin = ShopifyOrigin::new("kesar.myshopify.com", Some(&fake.base), &egress).unwrap();
    ShopifyClient::new(
        reqwest::Client::new(),
        egress,
        origin,
        token.to_string().into(),
        "2026-10",
    )
}

#[tokio::test]
async fn the_store_is_read_by_order_number_caller_phone_and_product() {
    let fake = fake_shopify(TOKEN, ALL).await;
    let shop = client(&fake, TOKEN);
    for spoken in ["1002", "#1002", " 1002 "] {
        let orders = store::orders_by_number(&shop, spoken).await.unwrap();
        assert_eq!(orders.len(), 1, "{spoken}");
        let order = &orders[0];
        assert_eq!(order.name, "#1002");
        assert_eq!(order.display_fulfillment_status, "UNFULFILLED");
        assert_eq!(order.payment_gateway_names, ["Cash on Delivery (COD)"]);
        assert_eq!(order.total_price_set.shop_money.amount, "2999.00");
        assert_eq!(order.line_items[0].title, "Silk Saree");
        assert_eq!(
            order.shipping_address.as_ref().unwrap().zip.as_deref(),
            Some("411001")
        );
    }
    assert!(
        store::orders_by_number(&shop, "9999")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store::orders_by_number(&shop, "1002\" OR name:*")
            .await
            .unwrap()
            .is_empty()
    );

    let customers = store::customers_by_phone(&shop, "+919876543210")
        .await
        .unwrap();
    assert_eq!(customers[0].first_name.as_deref(), Some("Priya"));
    let orders = store::orders_of_customer(&shop, &customers[0].id)
        .await
        .unwrap();
    let names: Vec<&str> = orders.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["#1003", "#1002", "#1001"]);
    let tracking = &orders[2].fulfillments[0];
    assert_eq!(tracking.display_status.as_deref(), Some("DELIVERED"));
    assert_eq!(
        tracking.tracking_info[0].company.as_deref(),
        Some("Delhivery")
    );
    assert!(
        store::customers_by_phone(&shop, "+910000000000")
            .await
            .unwrap()
            .is_empty()
    );

    let products = store::search_products(&shop, &["kurta"]).await.unwrap();
    assert_eq!(products.len(), 1);
    let stock: Vec<(&str, Option<i64>)> = products[0]
        .variants
        .iter()
        .map(|v| (v.title.as_str(), v.inventory_quantity))
        .collect();
    assert_eq!(
        stock,
        [
            ("M / Blue", Some(4)),
            ("L / Blue", Some(0)),
            ("S / Red", Some(6))
        ]
    );

    // A revoked token is a disconnected store, not a retry.
    let revoked = client(&fake, "shpat_revoked");
    let err = store::orders_by_number(&revoked, "1002").await.unwrap_err();
    assert!(matches!(err, ShopifyError::Unauthorized(_)), "{err}");
}

async fn a_revoked_token_marks_the_store_disconnected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.tenant.tenant.id.to_string();
    let fake = fake_shopify(TOKEN, ALL).await;
    let (ok, out) = run_caly(&app, &connect_args(&id, &fake, TOKEN)).await;
    assert!(ok, "{out}");
    let tenant = caly_core::TenantId(app.tenant.tenant.id);
    let stored = shopify::store_of(&app.app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    let shop = shopify::client_for(&app.app, &stored).unwrap();
    assert_eq!(
        store::orders_by_number(&shop, "1001").await.unwrap().len(),
        1
    );
    // The owner uninstalls the app: the same token is now refused.
    fake.revoke();
    let err = store::orders_by_number(&shop, "1001").await.unwrap_err();
    let now = chrono::Utc::now();
    assert!(
        shopify::note_failure(&app.app.db, tenant, &err, now)
            .await
            .unwrap()
    );
    let after = shopify::store_of(&app.app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, "disconnected");
    assert!(after.last_error.unwrap().contains("uninstalled"));
    app.stop().await;
}

#[test]
fn the_checker_accepts_shopify_queries_and_refuses_what_shopify_lacks() {
    let schema = crate::support::shopify::schema();
    let lookup = r#"query OrderLookup($q: String!) {
      orders(first: 5, query: $q, sortKey: PROCESSED_AT, reverse: true) {
        nodes { id name displayFinancialStatus totalPriceSet { shopMoney { amount currencyCode } }
          fulfillments(first: 10) { displayStatus trackingInfo { company number url } } } } }"#;
    schema.check(lookup).unwrap();
    schema
        .check(
            "{ shop { name myshopifyDomain } currentAppInstallation { accessScopes { handle } } }",
        )
        .unwrap();
    let err = schema.check("{ shop { name fax } }").unwrap_err();
    assert!(err.contains("'fax' doesn't exist on type 'Shop'"), "{err}");
    let err = schema
        .check("{ orders(first: 5, phone: \"+91\") { nodes { id } } }")
        .unwrap_err();
    assert!(err.contains("argument 'phone'"), "{err}");
}

#[tokio::test]
async fn every_process_shares_one_rate_budget_per_store() {
    let app = TestApp::spawn(Backend::Production).await;
    let fake = fake_shopify(TOKEN, ALL).await;
    let id = app.tenant.tenant.id.to_string();
    let (ok, out) = run_caly(&app, &connect_args(&id, &fake, TOKEN)).await;
    assert!(ok, "{out}");
    let tenant = caly_core::TenantId(app.tenant.tenant.id);
    let stored = shopify::store_of(&app.app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    let shop = shopify::client_for(&app.app, &stored).unwrap();
    // Shopify reports the bucket drained: 50 points at 10 a second is 5 s away.
    fake.report_bucket(0.0, 10.0);
    store::orders_by_number(&shop, "1001").await.unwrap();
    // Another process, with its own connection to the same Redis, now waits before asking.
    let settings = &app.app.settings;
    let url =
        secrecy::ExposeSecret::expose_secret(settings.redis_url.as_ref().unwrap()).to_string();
    let other =
        caly_core::integrations::shopify::budget::RedisBudget::new(&url, &settings.queue_namespace)
            .unwrap();
    use caly_core::integrations::shopify::budget::RateBudget;
    let wait = other.before_request("kesar.myshopify.com").await;
    assert!(wait >= std::time::Duration::from_secs(4), "{wait:?}");
    assert_eq!(
        other.before_request("another.myshopify.com").await,
        std::time::Duration::ZERO
    );
    app.stop().await;
}

both_backends!(
    a_store_profile_is_set_from_json_or_toml,
    a_revoked_token_marks_the_store_disconnected,
    a_store_is_connected_from_the_cli,
    a_store_missing_scopes_or_with_a_bad_token_is_refused,
);

const PROFILE_JSON: &str = r#"{
  "policies": {"shipping": "Free shipping over ₹999; 3–5 days.", "returns": "7-day returns.",
    "refunds": "5–7 working days.", "cod": "COD up to ₹5,000.", "offers": "FESTIVE10: 10% off."},
  "support_hours": {"timezone": "Asia/Kolkata", "days": ["mon", "tue", "wed", "thu", "fri"],
    "open": "10:00", "close": "19:00"},
  "escalation_number": "+91 98123 45678",
  "bot_name": "Meera",
  "greeting": "Namaste! I'm Meera, Kesar's AI assistant. This call is recorded.",
  "send_all_to_human": true
}"#;

const PROFILE_TOML: &str = r#"
escalation_number = "09812345678"
bot_name = "Meera"
greeting = "Namaste! I'm Meera, Kesar's AI assistant. This call is recorded."

[policies]
shipping = "Free shipping over ₹999."
returns = "7-day returns."
refunds = "5–7 working days."
cod = "COD up to ₹5,000."
offers = "None right now."

[support_hours]
timezone = "Asia/Kolkata"
days = ["Mon", "sat"]
open = "10:00"
close = "19:00"
"#;

async fn a_store_profile_is_set_from_json_or_toml(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.tenant.tenant.id.to_string();
    let json_file = app.data_dir().join("profile.json");
    std::fs::write(&json_file, PROFILE_JSON).unwrap();
    let path = json_file.to_str().unwrap();
    let (ok, out) = run_caly(
        &app,
        &["tenant", "set-profile", "--tenant", &id, "--file", path],
    )
    .await;
    assert!(ok, "{out}");
    assert!(
        out.contains("Meera answers") && out.contains("every call goes to a person"),
        "{out}"
    );
    let tenant = caly_core::TenantId(app.tenant.tenant.id);
    let stored = profile::profile_of(&app.app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.escalation_number, "+919812345678");
    assert!(stored.send_all_to_human);

    // A TOML profile replaces it.
    let toml_file = app.data_dir().join("profile.toml");
    let toml_text = PROFILE_TOML;
    std::fs::write(&toml_file, toml_text).unwrap();
    let path = toml_file.to_str().unwrap();
    let (ok, out) = run_caly(
        &app,
        &["tenant", "set-profile", "--tenant", &id, "--file", path],
    )
    .await;
    assert!(ok, "{out}");
    let stored = profile::profile_of(&app.app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.send_all_to_human);
    assert_eq!(stored.support_hours.days, ["mon", "sat"]);

    // A bad profile is refused with the field named, and the stored one is kept.
    std::fs::write(&toml_file, toml_text.replace("19:00", "7pm")).unwrap();
    let (ok, out) = run_caly(
        &app,
        &["tenant", "set-profile", "--tenant", &id, "--file", path],
    )
    .await;
    assert!(!ok && out.contains("support_hours.close"), "{out}");
    assert_eq!(
        profile::profile_of(&app.app.db, tenant)
            .await
            .unwrap()
            .unwrap(),
        stored
    );
    app.stop().await;
}
