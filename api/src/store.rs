//! `GET /api/v1/store`: the tenant's Shopify connection as its owner sees it — the shop, the
//! granted scopes, whether it is connected, and why not (a revoked token, an uninstalled app).
//! `GET`/`PUT /api/v1/store/profile`: what the agent quotes (policies), support hours, the
//! greeting, the escalation number and the "send every call to a person" switch.

use crate::access::{Access, Admin, Viewer};
use crate::body::JsonBody;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use caly_core::TenantId;
use caly_core::tenancy::accounts::Principal;
use caly_core::tenancy::accounts::audit;
use caly_core::tenancy::profile::{self, StoreProfile};
use caly_core::tenancy::shopify;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/store", get(store))
        .route("/api/v1/store/profile", get(get_profile).put(put_profile))
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

async fn get_profile(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
) -> Result<Json<Value>, ApiError> {
    let profile = profile::profile_of(&app.db, access.tenant_id()).await?;
    Ok(Json(json!({"profile": profile})))
}

async fn put_profile(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    JsonBody(profile): JsonBody<StoreProfile>,
) -> Result<Json<Value>, ApiError> {
    let profile = profile.checked()?;
    let now = chrono::Utc::now();
    profile::save_profile(&app.db, access.tenant_id(), &profile, now).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "store.profile_updated",
        &format!("tenant:{}", access.tenant_id().0),
        json!({"send_all_to_human": profile.send_all_to_human}),
        now,
    )
    .await?;
    Ok(Json(json!({"profile": profile})))
}
