//! The pipeline spine: tenants, rates, raw events, calls, stage runs, recordings, charges, locks.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(name: impl IntoIden) -> ColumnDef {
    schema::big_pk_auto(name)
}

fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn text_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

fn big(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn big_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

fn time(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn time_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn flag(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for column in columns {
        stmt.col(Alias::new(*column));
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tenants")
                    .col(id("id"))
                    .col(text("name"))
                    .col(text("exotel_sid"))
                    .col(text("exotel_key_enc"))
                    .col(text("exotel_token_enc"))
                    .col(text("exotel_subdomain"))
                    .col(text("api_key_hash"))
                    .col(text("webhook_secret_hash"))
                    .col(text_null("previous_secret_hash"))
                    .col(time_null("previous_secret_expires_at"))
                    .col(big("balance_paise"))
                    .col(time("created_at"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_tenants_api_key",
            "tenants",
            &["api_key_hash"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("tenant_rates")
                    .col(id("id"))
                    .col(big("tenant_id"))
                    .col(big("paise_per_min"))
                    .col(time("effective_from"))
                    .col(time("created_at"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_rates_tenant",
            "tenant_rates",
            &["tenant_id", "effective_from"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("raw_events")
                    .col(id("id"))
                    .col(big("tenant_id"))
                    .col(text("call_sid"))
                    .col(text("kind"))
                    .col(text("encoding"))
                    .col(text("raw"))
                    .col(text("fields"))
                    .col(text("dedupe_key"))
                    .col(flag("duplicate"))
                    .col(time("received_at"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_raw_events_call",
            "raw_events",
            &["tenant_id", "call_sid"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("calls")
                    .col(id("id"))
                    .col(big("tenant_id"))
                    .col(text("call_sid"))
                    .col(text("state"))
                    .col(text_null("from_number"))
                    .col(text_null("from_raw"))
                    .col(text_null("to_number"))
                    .col(text_null("to_raw"))
                    .col(text_null("direction"))
                    .col(flag("bot_answered"))
                    .col(big_null("duration_secs"))
                    .col(text_null("duration_source"))
                    .col(text_null("recording_url"))
                    .col(time_null("started_at"))
                    .col(time_null("ended_at"))
                    .col(text("billing_status"))
                    .col(big_null("cost_paise"))
                    .col(time("created_at"))
                    .col(time("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_calls_sid",
            "calls",
            &["tenant_id", "call_sid"],
            true,
        )
        .await?;
        index(
            manager,
            "ix_calls_created",
            "calls",
            &["tenant_id", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("stage_runs")
                    .col(id("id"))
                    .col(big("tenant_id"))
                    .col(text("call_sid"))
                    .col(big_null("call_id"))
                    .col(text("stage"))
                    .col(text("dedupe_key"))
                    .col(big_null("raw_event_id"))
                    .col(text("status"))
                    .col(ColumnDef::new("attempts").integer().not_null().default(0))
                    .col(time("next_run_at"))
                    .col(time_null("dispatched_at"))
                    .col(time_null("locked_until"))
                    .col(text_null("last_error"))
                    .col(text_null("outcome"))
                    .col(time("created_at"))
                    .col(time("updated_at"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_stage_runs_key",
            "stage_runs",
            &["stage", "dedupe_key"],
            true,
        )
        .await?;
        index(
            manager,
            "ix_stage_runs_due",
            "stage_runs",
            &["status", "next_run_at"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_stage_runs_call",
            "stage_runs",
            &["tenant_id", "call_sid"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("recordings")
                    .col(id("id"))
                    .col(big("tenant_id"))
                    .col(big("call_id"))
                    .col(text("source"))
                    .col(text("object_key"))
                    .col(text("content_type"))
                    .col(big("size_bytes"))
                    .col(time("created_at"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_recordings_call",
            "recordings",
            &["call_id", "source"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("charges")
                    .col(id("id"))
                    .col(big("tenant_id"))
                    .col(big("call_id"))
                    .col(big("billable_seconds"))
                    .col(big("minutes"))
                    .col(big("rate_paise_per_min"))
                    .col(big("amount_paise"))
                    .col(text("duration_source"))
                    .col(time("created_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_charges_call", "charges", &["call_id"], true).await?;
        index(
            manager,
            "ix_charges_tenant",
            "charges",
            &["tenant_id", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("scheduler_locks")
                    .col(ColumnDef::new("name").text().not_null().primary_key())
                    .col(text("holder"))
                    .col(time("expires_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "scheduler_locks",
            "charges",
            "recordings",
            "stage_runs",
            "calls",
            "raw_events",
            "tenant_rates",
            "tenants",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
