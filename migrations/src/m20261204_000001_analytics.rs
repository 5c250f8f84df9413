//! Analytics rollups: per tenant, IST day and dimension (hour, intent, agent, latency bucket,
//! handoff number), the sums the dashboard and analytics read instead of scanning calls.
//!
//! They stay correct through an outbox the database fills itself: triggers on `calls`, `turns`
//! and `ledger_entries` write `(tenant_id, call_id)` into `rollup_changes` in the same commit as any change
//! that matters to a rollup, whichever code path made it (ingest, the agent, a charge, a
//! replay, a seed). `calls.rolled_day` remembers the day a call was last counted in, so a call
//! whose day moves is taken out of its old day.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The call columns a rollup reads: a change to any other column fires nothing.
const CALL_COLUMNS: [&str; 9] = [
    "state",
    "happened_at",
    "bot_answered",
    "duration_secs",
    "cost_paise",
    "outcome",
    "dialed_number",
    "channel",
    "billing_status",
];

/// The turn columns a rollup reads.
const TURN_COLUMNS: [&str; 6] = [
    "status",
    "intent",
    "agent",
    "handoff",
    "error",
    "answered_at",
];

/// `OLD.a IS DISTINCT FROM NEW.a OR …` in the backend's spelling.
fn changed(columns: &[&str], backend: DbBackend) -> String {
    let op = match backend {
        DbBackend::Sqlite => "IS NOT",
        _ => "IS DISTINCT FROM",
    };
    columns
        .iter()
        .map(|c| format!("OLD.{c} {op} NEW.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The triggers that fill `rollup_changes`, for one backend.
fn triggers(backend: DbBackend) -> Vec<String> {
    let calls = changed(&CALL_COLUMNS, backend);
    let turns = changed(&TURN_COLUMNS, backend);
    match backend {
        DbBackend::Sqlite => vec![
            "CREATE TRIGGER calls_rollup_insert AFTER INSERT ON calls BEGIN \
             INSERT INTO rollup_changes (tenant_id, call_id) VALUES (NEW.tenant_id, NEW.id); END"
                .to_string(),
            format!(
                "CREATE TRIGGER calls_rollup_update AFTER UPDATE ON calls WHEN {calls} BEGIN \
                 INSERT INTO rollup_changes (tenant_id, call_id) VALUES (NEW.tenant_id, NEW.id); END"
            ),
            "CREATE TRIGGER turns_rollup_insert AFTER INSERT ON turns BEGIN \
             INSERT INTO rollup_changes (tenant_id, call_id) VALUES (NEW.tenant_id, NEW.call_id); END"
                .to_string(),
            format!(
                "CREATE TRIGGER turns_rollup_update AFTER UPDATE ON turns WHEN {turns} BEGIN \
                 INSERT INTO rollup_changes (tenant_id, call_id) VALUES (NEW.tenant_id, NEW.call_id); END"
            ),
            "CREATE TRIGGER ledger_rollup_insert AFTER INSERT ON ledger_entries \
             WHEN NEW.call_id IS NOT NULL BEGIN \
             INSERT INTO rollup_changes (tenant_id, call_id) VALUES (NEW.tenant_id, NEW.call_id); END"
                .to_string(),
        ],
        _ => vec![
            "CREATE FUNCTION caly_call_changed() RETURNS trigger AS $$ BEGIN \
             INSERT INTO rollup_changes (tenant_id, call_id) VALUES (NEW.tenant_id, NEW.id); \
             RETURN NULL; END $$ LANGUAGE plpgsql"
                .to_string(),
            "CREATE FUNCTION caly_call_part_changed() RETURNS trigger AS $$ BEGIN \
             INSERT INTO rollup_changes (tenant_id, call_id) VALUES (NEW.tenant_id, NEW.call_id); \
             RETURN NULL; END $$ LANGUAGE plpgsql"
                .to_string(),
            "CREATE TRIGGER calls_rollup_insert AFTER INSERT ON calls \
             FOR EACH ROW EXECUTE FUNCTION caly_call_changed()"
                .to_string(),
            format!(
                "CREATE TRIGGER calls_rollup_update AFTER UPDATE ON calls \
                 FOR EACH ROW WHEN ({calls}) EXECUTE FUNCTION caly_call_changed()"
            ),
            "CREATE TRIGGER turns_rollup_insert AFTER INSERT ON turns \
             FOR EACH ROW EXECUTE FUNCTION caly_call_part_changed()"
                .to_string(),
            format!(
                "CREATE TRIGGER turns_rollup_update AFTER UPDATE ON turns \
                 FOR EACH ROW WHEN ({turns}) EXECUTE FUNCTION caly_call_part_changed()"
            ),
            // A ledger entry's minutes count towards its call's day, whatever else changed.
            "CREATE TRIGGER ledger_rollup_insert AFTER INSERT ON ledger_entries \
             FOR EACH ROW WHEN (NEW.call_id IS NOT NULL) EXECUTE FUNCTION caly_call_part_changed()"
                .to_string(),
        ],
    }
}

/// A `BIGINT NOT NULL DEFAULT 0` sum column.
fn sum(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("calls")
                    .add_column(ColumnDef::new("rolled_day").date().null())
                    .to_owned(),
            )
            .await?;
        let mut rollups = Table::create();
        rollups
            .table("analytics_rollups")
            .col(
                ColumnDef::new("id")
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new("tenant_id").big_integer().not_null())
            .col(ColumnDef::new("day").date().not_null())
            .col(ColumnDef::new("dimension").string_len(16).not_null())
            .col(ColumnDef::new("key").string_len(64).not_null());
        for column in [
            "calls",
            "answered",
            "resolved",
            "handed_off",
            "callbacks",
            "missed",
            "duration_secs",
            "durations",
            "minutes",
            "spend_paise",
            "turns",
            "latency_ms",
            "latencies",
            "errors",
        ] {
            rollups.col(sum(column));
        }
        manager.create_table(rollups.to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_analytics_rollups")
                    .table("analytics_rollups")
                    .col("tenant_id")
                    .col("dimension")
                    .col("day")
                    .col("key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("rollup_changes")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("call_id").big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rollup_changes_by_tenant")
                    .table("rollup_changes")
                    .col("tenant_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("rollup_locks")
                    .col(
                        ColumnDef::new("tenant_id")
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new("settled_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The team's tasks, closed in a range.
        manager
            .create_index(
                Index::create()
                    .name("tasks_tenant_closed")
                    .table("tasks")
                    .col("tenant_id")
                    .col("closed_at")
                    .to_owned(),
            )
            .await?;
        // Exports page through a tenant's turns and ledger entries by id.
        for (name, table) in [
            ("turns_tenant_id", "turns"),
            ("ledger_tenant_id", "ledger_entries"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col("tenant_id")
                        .col("id")
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for statement in triggers(backend) {
            db.execute_unprepared(&statement).await?;
        }
        // Calls that exist already are counted by the first settle.
        db.execute_unprepared(
            "INSERT INTO rollup_changes (tenant_id, call_id) SELECT tenant_id, id FROM calls",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for name in [
            "calls_rollup_insert",
            "calls_rollup_update",
            "turns_rollup_insert",
            "turns_rollup_update",
            "ledger_rollup_insert",
        ] {
            let table = match name {
                n if n.starts_with("calls") => "calls",
                n if n.starts_with("ledger") => "ledger_entries",
                _ => "turns",
            };
            let drop = match backend {
                DbBackend::Sqlite => format!("DROP TRIGGER IF EXISTS {name}"),
                _ => format!("DROP TRIGGER IF EXISTS {name} ON {table}"),
            };
            db.execute_unprepared(&drop).await?;
        }
        if backend != DbBackend::Sqlite {
            db.execute_unprepared("DROP FUNCTION IF EXISTS caly_call_changed()")
                .await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS caly_call_part_changed()")
                .await?;
        }
        for (name, table) in [
            ("tasks_tenant_closed", "tasks"),
            ("turns_tenant_id", "turns"),
            ("ledger_tenant_id", "ledger_entries"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for table in ["rollup_locks", "rollup_changes", "analytics_rollups"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("calls")
                    .drop_column("rolled_day")
                    .to_owned(),
            )
            .await
    }
}
