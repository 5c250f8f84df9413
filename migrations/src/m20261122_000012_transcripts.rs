//! A call's post-call transcripts: one per (call, recording source), its timed segments tagged
//! by speaker kept as JSON, and whether its text was redacted.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("transcripts")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("call_id").big_integer().not_null())
                    .col(ColumnDef::new("source").string_len(16).not_null())
                    .col(ColumnDef::new("engine").text().not_null())
                    .col(ColumnDef::new("redacted").boolean().not_null())
                    .col(ColumnDef::new("duration_ms").big_integer().not_null())
                    .col(ColumnDef::new("segments").text().not_null())
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
                    .name("transcripts_call_source")
                    .table("transcripts")
                    .col("call_id")
                    .col("source")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("transcripts").to_owned())
            .await
    }
}
