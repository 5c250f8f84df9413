//! A tenant's own language model, overriding the platform's: base URL, model and sealed key.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("llm_overrides")
                    .col(
                        ColumnDef::new("tenant_id")
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("base_url").text().not_null())
                    .col(ColumnDef::new("model").string_len(200).not_null())
                    .col(ColumnDef::new("api_key_enc").text().not_null())
                    .col(
                        ColumnDef::new("updated_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("llm_overrides").to_owned())
            .await
    }
}
