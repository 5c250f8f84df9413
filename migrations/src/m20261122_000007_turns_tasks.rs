//! The agent's conversations: each call's memory, every turn (input, reply, agent, intent,
//! tool calls, verification, latency) and the requests the agent records for staff.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn at(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("conversations")
                    .col(
                        ColumnDef::new("call_id")
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("memory").text().not_null())
                    .col(at("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("turns")
                    .col(id("id"))
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("call_id").big_integer().not_null())
                    .col(ColumnDef::new("seq").integer().not_null())
                    .col(ColumnDef::new("status").string_len(16).not_null())
                    .col(ColumnDef::new("input").text().not_null())
                    .col(ColumnDef::new("reply").text().null())
                    .col(ColumnDef::new("intent").string_len(32).null())
                    .col(ColumnDef::new("agent").string_len(32).null())
                    .col(ColumnDef::new("confidence").double().null())
                    .col(
                        ColumnDef::new("verified")
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new("handoff")
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new("tool_calls").text().not_null())
                    .col(ColumnDef::new("latency").text().not_null())
                    .col(ColumnDef::new("error").text().null())
                    .col(at("created_at"))
                    .col(
                        ColumnDef::new("answered_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("turns_call_seq")
                    .table("turns")
                    .col("call_id")
                    .col("seq")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tasks")
                    .col(id("id"))
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("call_id").big_integer().not_null())
                    .col(ColumnDef::new("turn_id").big_integer().not_null())
                    .col(ColumnDef::new("kind").string_len(32).not_null())
                    .col(ColumnDef::new("status").string_len(16).not_null())
                    .col(ColumnDef::new("order_name").string_len(64).null())
                    .col(ColumnDef::new("caller").string_len(32).null())
                    .col(ColumnDef::new("details").text().not_null())
                    .col(ColumnDef::new("note").text().null())
                    .col(at("created_at"))
                    .col(
                        ColumnDef::new("closed_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tasks_turn_kind")
                    .table("tasks")
                    .col("turn_id")
                    .col("kind")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tasks_tenant_status")
                    .table("tasks")
                    .col("tenant_id")
                    .col("status")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["tasks", "turns", "conversations"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
