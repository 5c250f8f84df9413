//! Fair queues: one busy store must not starve the others.

use crate::support::{Backend, Options, TestApp, sid};
use caly_entities::ledger_entry;
use caly_entities::status::LedgerKind;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const BUSY_CALLS: u32 = 500;
const QUIET_CALLS: u32 = 10;

async fn a_busy_store_does_not_starve_a_quiet_one(backend: Backend) {
    let mut app = TestApp::spawn_opts(
        backend,
        Options {
            queue_depth_bound: 20,
            workers: false,
            ..Options::default()
        },
    )
    .await;
    let quiet = app.other_tenant().await;
    let call =
        |n: u32| json!({"CallSid": sid(n), "Status": "completed", "ConversationDuration": 30});
    // Tenant A has 500 calls pending (a few already queued, the rest held in the database)...
    for n in 0..BUSY_CALLS {
        let r = app.post_json("status", &call(n)).await;
        assert_eq!(r.status(), 200);
    }
    // ...then tenant B sends 10.
    let quiet_url = app.hook_url_of(&quiet, "status");
    for n in 0..QUIET_CALLS {
        let r = app
            .client
            .post(&quiet_url)
            .json(&call(100_000 + n))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    app.start_workers();
    app.drain().await;

    let charges = |tenant: i64| {
        ledger_entry::Entity::find()
            .filter(ledger_entry::Column::Kind.eq(LedgerKind::Charge))
            .filter(ledger_entry::Column::TenantId.eq(tenant))
    };
    assert_eq!(
        charges(app.tenant.tenant.id)
            .count(&app.app.db)
            .await
            .unwrap(),
        500
    );
    let quiet_done = charges(quiet.tenant.id).all(&app.app.db).await.unwrap();
    assert_eq!(quiet_done.len(), QUIET_CALLS as usize);
    // Charges are written in the order calls finish: count A's before B's last one.
    let last_quiet = quiet_done.iter().map(|e| e.id).max().unwrap();
    let busy_before = charges(app.tenant.tenant.id)
        .filter(ledger_entry::Column::Id.lt(last_quiet))
        .count(&app.app.db)
        .await
        .unwrap();
    assert!(
        busy_before < 100,
        "tenant A finished {busy_before} calls before tenant B's 10 were done"
    );
    app.stop().await;
}

both_backends!(a_busy_store_does_not_starve_a_quiet_one);
