//! Security fixes (issue 29): a pending sign-up's code is bound to the browser or client that
//! started it (`email_codes.binding_hash`), and a person can be suspended in one store without
//! losing the others (`memberships.disabled_at`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("email_codes")
                    .add_column(ColumnDef::new("binding_hash").string_len(128).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("memberships")
                    .add_column(
                        ColumnDef::new("disabled_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("email_codes_by_email_sent")
                    .table("email_codes")
                    .col("email")
                    .col("sent_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("email_codes_by_email_sent")
                    .table("email_codes")
                    .to_owned(),
            )
            .await?;
        for (table, column) in [
            ("memberships", "disabled_at"),
            ("email_codes", "binding_hash"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
