//! A tenant's connected Shopify store: its permanent `*.myshopify.com` domain, its sealed Admin
//! API token, the scopes it was granted and whether it is still connected.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let time = |name: &'static str| {
            ColumnDef::new(name)
                .timestamp_with_time_zone()
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table("shopify_stores")
                    .col(
                        ColumnDef::new("tenant_id")
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("shop").text().not_null())
                    .col(ColumnDef::new("api_url").text().null())
                    .col(ColumnDef::new("token_enc").text().not_null())
                    .col(ColumnDef::new("scopes").text().not_null())
                    .col(ColumnDef::new("status").text().not_null())
                    .col(ColumnDef::new("last_error").text().null())
                    .col(time("connected_at"))
                    .col(time("updated_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("shopify_stores").to_owned())
            .await
    }
}
