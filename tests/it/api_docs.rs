//! The OpenAPI document covers every route the api serves, every operation it lists is served,
//! and the interactive docs page works offline.

use crate::support::{Backend, Options, TestApp};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every path given to `.route(` in the api's source, in OpenAPI form (`{*key}` → `{key}`).
fn routed_paths() -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/api/src");
    let mut paths = BTreeSet::new();
    // Only the files directly in `api/src`: the web app's pages (`api/src/web/`) are HTML for
    // people, not API operations; the page tests cover them.
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let start = rest.find('"').unwrap() + 1;
            let end = start + rest[start..].find('"').unwrap();
            paths.insert(rest[start..end].replace("{*", "{"));
        }
    }
    paths
}

#[tokio::test]
async fn every_route_is_documented_every_documented_operation_is_served_and_the_docs_work_offline()
{
    let t = TestApp::spawn_opts(
        Backend::Embedded,
        Options {
            workers: false,
            ..Options::default()
        },
    )
    .await;
    let doc: Value = t
        .client
        .get(format!("{}/api/openapi.json", t.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(
        doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["request_id"]
            .is_object()
    );
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let routed = routed_paths();
    assert!(routed.len() >= 40, "{routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );

    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            assert!(operation["responses"]["401"]["content"]["application/json"].is_object());
            let concrete = path
                .split('/')
                .map(|part| if part.starts_with('{') { "1" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            let response = t
                .client
                .request(
                    method.to_uppercase().parse().unwrap(),
                    format!("{}{concrete}", t.base),
                )
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            // axum answers a route it does not have with an empty 404 or a 405.
            assert!(
                status != 405 && !(status == 404 && body.is_empty()),
                "{method} {path} is documented but not served ({status})"
            );
        }
    }

    let page = t
        .client
        .get(format!("{}/api/docs", t.base))
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/docs/docs.js") && html.contains("/api/docs/docs.css"));
    for asset in ["docs.js", "docs.css"] {
        let text = t
            .client
            .get(format!("{}/api/docs/{asset}", t.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.len() > 200, "{asset}");
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{asset} loads nothing from elsewhere"
        );
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
}
