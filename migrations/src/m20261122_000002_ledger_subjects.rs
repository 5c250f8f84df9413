//! Money as a ledger (charges, adjustments, credits, payments) replacing the charges table;
//! a call's day and last event; stage runs whose subject is not a call, their cron tick and a
//! stable error code; lock rows per cron tick removed (cron ticks are stage runs now).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn add_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    // SQLite takes one column per ALTER TABLE.
    let mut column = column;
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

fn nullable_time(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn nullable_text(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).text().null().to_owned()
}

fn nullable_big(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("ledger_entries")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("kind").text().not_null())
                    .col(ColumnDef::new("entry_key").text().not_null())
                    .col(nullable_big("call_id"))
                    .col(ColumnDef::new("amount_paise").big_integer().not_null())
                    .col(nullable_big("billable_seconds"))
                    .col(nullable_big("minutes"))
                    .col(nullable_big("rate_paise_per_min"))
                    .col(nullable_text("duration_source"))
                    .col(ColumnDef::new("reason").text().not_null())
                    .col(
                        ColumnDef::new("created_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_ledger_key")
                    .table("ledger_entries")
                    .col("tenant_id")
                    .col("entry_key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_ledger_call")
                    .table("ledger_entries")
                    .col("call_id")
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO ledger_entries (tenant_id, kind, entry_key, call_id, amount_paise, \
                billable_seconds, minutes, rate_paise_per_min, duration_source, reason, created_at) \
             SELECT tenant_id, 'charge', 'charge:' || call_id, call_id, amount_paise, \
                billable_seconds, minutes, rate_paise_per_min, duration_source, \
                'call charged', created_at FROM charges",
        )
        .await?;
        manager
            .drop_table(Table::drop().table("charges").to_owned())
            .await?;

        add_column(manager, "calls", nullable_time("happened_at")).await?;
        add_column(manager, "calls", nullable_time("last_event_at")).await?;
        db.execute_unprepared(
            "UPDATE calls SET happened_at = COALESCE(started_at, created_at), \
             last_event_at = updated_at",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_calls_happened")
                    .table("calls")
                    .col("tenant_id")
                    .col("happened_at")
                    .to_owned(),
            )
            .await?;

        add_column(
            manager,
            "stage_runs",
            ColumnDef::new(Alias::new("subject"))
                .text()
                .not_null()
                .default("call")
                .to_owned(),
        )
        .await?;
        add_column(manager, "stage_runs", nullable_time("scheduled_for")).await?;
        add_column(manager, "stage_runs", nullable_text("error_code")).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_stage_runs_failed")
                    .table("stage_runs")
                    .col("status")
                    .col("stage")
                    .col("updated_at")
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("DELETE FROM scheduler_locks WHERE name LIKE 'cron:%'")
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the ledger migration is one-way: restore a backup to go back".into(),
        ))
    }
}
