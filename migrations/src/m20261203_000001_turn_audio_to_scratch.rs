//! A live turn's audio moves to scratch (Redis, or process memory on the embedded default):
//! the `turn_audio` table goes. Its rows were working copies, forgotten after each call.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("turn_audio").if_exists().to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("turn_audio")
                    .if_not_exists()
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("call_id").big_integer().not_null())
                    .col(ColumnDef::new("turn_id").big_integer().not_null())
                    .col(ColumnDef::new("kind").string_len(16).not_null())
                    .col(ColumnDef::new("part").integer().not_null())
                    .col(ColumnDef::new("sample_rate").integer().not_null())
                    .col(ColumnDef::new("samples").binary().not_null())
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
                    .name("turn_audio_part")
                    .table("turn_audio")
                    .col("turn_id")
                    .col("kind")
                    .col("part")
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
