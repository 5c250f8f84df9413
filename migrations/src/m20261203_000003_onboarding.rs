//! Onboarding: the webhook secret kept sealed (not only hashed) so owners can see their webhook
//! URLs again, and Shopify connections made with a client id and secret (the client-credentials
//! grant), whose ~24 h access token is cached with its expiry.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn add(table: &'static str, column: ColumnDef) -> TableAlterStatement {
    Table::alter()
        .table(Alias::new(table))
        .add_column(column)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for alter in [
            add(
                "tenants",
                ColumnDef::new("webhook_secret_enc")
                    .text()
                    .null()
                    .to_owned(),
            ),
            add(
                "shopify_stores",
                ColumnDef::new("client_id").text().null().to_owned(),
            ),
            add(
                "shopify_stores",
                ColumnDef::new("client_secret_enc").text().null().to_owned(),
            ),
            add(
                "shopify_stores",
                ColumnDef::new("token_expires_at")
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
        ] {
            manager.alter_table(alter).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("shopify_stores", "token_expires_at"),
            ("shopify_stores", "client_secret_enc"),
            ("shopify_stores", "client_id"),
            ("tenants", "webhook_secret_enc"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
