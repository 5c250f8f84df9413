//! Index for the dispatcher's per-tick sweep of calls still awaiting a duration.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_calls_billing_status")
                    .table("calls")
                    .col("billing_status")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_calls_billing_status")
                    .table("calls")
                    .to_owned(),
            )
            .await
    }
}
