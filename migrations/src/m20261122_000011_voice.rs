//! Live voice: each call's Voicebot session (format, node, heartbeat, how it ended), the audio
//! of each voice turn (the caller's utterance and the reply, in parts as they are synthesised),
//! how a turn came in (`text`, `voice`, `dtmf`) and how many reply parts it has, and each
//! call's outcome (resolved by the AI or handed off) and why.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn add(table: &'static str, column: ColumnDef) -> TableAlterStatement {
    Table::alter().table(table).add_column(column).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("voice_sessions")
                    .col(
                        ColumnDef::new("call_id")
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("tenant_id").big_integer().not_null())
                    .col(ColumnDef::new("node").text().not_null())
                    .col(ColumnDef::new("stream_sid").text().not_null())
                    .col(ColumnDef::new("encoding").string_len(16).not_null())
                    .col(ColumnDef::new("sample_rate").integer().not_null())
                    .col(
                        ColumnDef::new("started_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new("heartbeat_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new("ended_at").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("stop_reason").text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("voice_sessions_live")
                    .table("voice_sessions")
                    .col("tenant_id")
                    .col("ended_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("turn_audio")
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
            .await?;
        for column in [
            add(
                "turns",
                ColumnDef::new("source")
                    .string_len(8)
                    .not_null()
                    .default("text")
                    .to_owned(),
            ),
            add(
                "turns",
                ColumnDef::new("reply_parts").integer().null().to_owned(),
            ),
            add(
                "calls",
                ColumnDef::new("outcome").string_len(16).null().to_owned(),
            ),
            add(
                "calls",
                ColumnDef::new("outcome_reason").text().null().to_owned(),
            ),
        ] {
            manager.alter_table(column).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("calls", "outcome_reason"),
            ("calls", "outcome"),
            ("turns", "reply_parts"),
            ("turns", "source"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table("turn_audio").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("voice_sessions").to_owned())
            .await
    }
}
