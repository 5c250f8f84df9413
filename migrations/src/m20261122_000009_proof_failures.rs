//! Failed attempts to prove an order is the caller's (a wrong name or PIN code), kept across
//! conversations so that opening a new one does not reset the limit.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("proof_failures")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("order_name").string_len(64).not_null())
                    .col(ColumnDef::new("call_id").big_integer().not_null())
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
                    .name("proof_failures_order")
                    .table("proof_failures")
                    .col("tenant_id")
                    .col("order_name")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("proof_failures").to_owned())
            .await
    }
}
