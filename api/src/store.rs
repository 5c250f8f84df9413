//! `GET /api/v1/store`: the tenant's Shopify connection as its owner sees it — the shop, the
//! granted scopes, whether it is connected, and why not (a revoked token, an uninstalled app).

use crate::access::{Access, Viewer};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use caly_core::TenantId;
use caly_core::tenancy::accounts::Principal;
use caly_core::tenancy::shopify;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/store", get(store))
}

async fn store(
    State(ApiState { app }): State<ApiState>,
    Access {
        principal: Principal { tenant, .. },
        ..
    }: Access<Viewer>,
) -> Result<Json<Value>, ApiError> {
    let Some(store) = shopify::store_of(&app.db, TenantId(tenant.id)).await? else {
        return Ok(Json(json!({"connected": false, "shop": null})));
    };
    let scopes: Vec<&str> = store.scopes.split(',').filter(|s| !s.is_empty()).collect();
    Ok(Json(json!({
        "connected": store.status == caly_entities::status::StoreStatus::Connected,
        "shop": store.shop,
        "status": store.status,
        "last_error": store.last_error,
        "scopes": scopes,
        "connected_at": store.connected_at,
        "updated_at": store.updated_at,
    })))
}
