//! Connecting a store from the CLI: the token's shop and scopes are checked with Shopify (with
//! its throttling waited out), missing scopes are named, a refused token or an address outside
//! the egress policy is refused, and the token is stored sealed.

use crate::support::process::{caly_command, run_caly};
use crate::support::shopify::FakeShopify;
use crate::support::{Backend, TestApp};
use caly_entities::shopify_store;
use sea_orm::EntityTrait;

const TOKEN: &str = "shpat_test_0123456789abcdef";
const ALL: &[&str] = &[
    "read_orders",
    "read_customers",
    "read_products",
    "read_inventory",
];

fn connect_args<'a>(id: &'a str, fake: &'a FakeShopify, token: &'a str) -> Vec<&'a str> {
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
    let fake = FakeShopify::start(TOKEN, ALL).await;
    fake.throttle_next(1);
    let (ok, out) = run_caly(&app, &connect_args(&id, &fake, TOKEN));
    assert!(ok, "{out}");
    assert!(
        out.contains("shop: Kesar Ethnic Wear (kesar.myshopify.com, INR, Asia/Kolkata)"),
        "{out}"
    );
    assert!(out.contains("warning: no read_all_orders scope"), "{out}");
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
    assert_eq!(app.app.key.decrypt(&store.token_enc).unwrap(), TOKEN);
    app.stop().await;
}

async fn a_store_missing_scopes_or_with_a_bad_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.tenant.tenant.id.to_string();
    let fake = FakeShopify::start(TOKEN, &["read_orders", "read_products"]).await;
    let (ok, out) = run_caly(&app, &connect_args(&id, &fake, TOKEN));
    assert!(!ok, "{out}");
    assert!(
        out.contains("lacks read_customers, read_inventory"),
        "{out}"
    );

    let (ok, out) = run_caly(&app, &connect_args(&id, &fake, "shpat_revoked"));
    assert!(!ok, "{out}");
    assert!(
        out.contains("401") && out.contains("token revoked"),
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
    let (ok, out) = run_caly(&app, &args);
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
    );
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
    );
    assert!(ok && out.contains("2500 paise/min"), "{out}");
    app.stop().await;
}

#[test]
fn the_checker_accepts_shopify_queries_and_refuses_what_shopify_lacks() {
    let schema = crate::support::shopify_schema::schema();
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

both_backends!(
    a_store_is_connected_from_the_cli,
    a_store_missing_scopes_or_with_a_bad_token_is_refused,
);
