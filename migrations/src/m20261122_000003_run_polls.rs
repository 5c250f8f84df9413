//! Stage runs count "not ready yet" polls apart from attempts, so waiting for Exotel to publish
//! a recording or a call's details never uses up the attempts a real failure needs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("stage_runs")
                    .add_column(ColumnDef::new("polls").integer().not_null().default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("stage_runs")
                    .drop_column("polls")
                    .to_owned(),
            )
            .await
    }
}
