//! A call's channel: `phone` (Exotel) or `text` (a typed conversation with the agent, never
//! billed).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("calls")
                    .add_column(ColumnDef::new("channel").text().not_null().default("phone"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("calls")
                    .drop_column("channel")
                    .to_owned(),
            )
            .await
    }
}
