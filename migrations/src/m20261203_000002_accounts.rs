//! People and machines: users, their memberships (role per tenant), emailed codes, sessions with
//! rotating refresh tokens, signing keys for access tokens, API keys (which take over from the
//! single per-tenant key: every existing key is copied in with scope `write`), invitations,
//! teams and the audit log.

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

fn maybe_at(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn unique(name: &str, table: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table)).unique();
    for col in cols {
        index.col(Alias::new(*col));
    }
    index.to_owned()
}

fn plain(name: &str, table: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for col in cols {
        index.col(Alias::new(*col));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("users")
                .col(id("id"))
                .col(ColumnDef::new("email").string_len(320).not_null())
                .col(text("name"))
                .col(ColumnDef::new("password_hash").text().null())
                .col(ColumnDef::new("phone").string_len(32).null())
                .col(ColumnDef::new("google_sub").string_len(255).null())
                .col(text("notifications"))
                .col(maybe_at("email_verified_at"))
                .col(maybe_at("disabled_at"))
                .col(at("created_at"))
                .to_owned(),
            Table::create()
                .table("memberships")
                .col(id("id"))
                .col(big("tenant_id"))
                .col(big("user_id"))
                .col(ColumnDef::new("role").string_len(16).not_null())
                .col(at("created_at"))
                .to_owned(),
            Table::create()
                .table("email_codes")
                .col(id("id"))
                .col(ColumnDef::new("purpose").string_len(16).not_null())
                .col(ColumnDef::new("email").string_len(320).not_null())
                .col(ColumnDef::new("code_hash").string_len(64).not_null())
                .col(ColumnDef::new("link_hash").string_len(64).null())
                .col(ColumnDef::new("attempts").integer().not_null().default(0))
                .col(ColumnDef::new("payload").text().null())
                .col(at("sent_at"))
                .col(at("expires_at"))
                .col(maybe_at("consumed_at"))
                .to_owned(),
            Table::create()
                .table("auth_sessions")
                .col(id("id"))
                .col(big("user_id"))
                .col(big("tenant_id"))
                .col(ColumnDef::new("ip").string_len(64).null())
                .col(at("created_at"))
                .col(maybe_at("revoked_at"))
                .to_owned(),
            Table::create()
                .table("refresh_tokens")
                .col(id("id"))
                .col(big("session_id"))
                .col(ColumnDef::new("token_hash").string_len(64).not_null())
                .col(at("created_at"))
                .col(at("expires_at"))
                .col(maybe_at("used_at"))
                .to_owned(),
            Table::create()
                .table("signing_keys")
                .col(id("id"))
                .col(ColumnDef::new("kid").string_len(64).not_null())
                .col(text("secret_enc"))
                .col(at("created_at"))
                .col(maybe_at("retired_at"))
                .to_owned(),
            Table::create()
                .table("api_keys")
                .col(id("id"))
                .col(big("tenant_id"))
                .col(text("name"))
                .col(ColumnDef::new("scope").string_len(16).not_null())
                .col(ColumnDef::new("key_hash").string_len(64).not_null())
                .col(ColumnDef::new("key_prefix").string_len(32).not_null())
                .col(ColumnDef::new("created_by").big_integer().null())
                .col(at("created_at"))
                .col(maybe_at("last_used_at"))
                .col(maybe_at("revoked_at"))
                .to_owned(),
            Table::create()
                .table("invitations")
                .col(id("id"))
                .col(big("tenant_id"))
                .col(ColumnDef::new("email").string_len(320).not_null())
                .col(ColumnDef::new("role").string_len(16).not_null())
                .col(ColumnDef::new("token_hash").string_len(64).not_null())
                .col(ColumnDef::new("invited_by").big_integer().null())
                .col(at("created_at"))
                .col(at("expires_at"))
                .col(maybe_at("accepted_at"))
                .col(maybe_at("revoked_at"))
                .to_owned(),
            Table::create()
                .table("teams")
                .col(id("id"))
                .col(big("tenant_id"))
                .col(text("name"))
                .col(ColumnDef::new("parent_id").big_integer().null())
                .col(ColumnDef::new("lead_user_id").big_integer().null())
                .col(at("created_at"))
                .to_owned(),
            Table::create()
                .table("team_members")
                .col(id("id"))
                .col(big("tenant_id"))
                .col(big("team_id"))
                .col(big("user_id"))
                .col(at("created_at"))
                .to_owned(),
            Table::create()
                .table("audit_events")
                .col(id("id"))
                .col(ColumnDef::new("tenant_id").big_integer().null())
                .col(ColumnDef::new("actor_user_id").big_integer().null())
                .col(ColumnDef::new("actor").string_len(320).not_null())
                .col(ColumnDef::new("action").string_len(64).not_null())
                .col(ColumnDef::new("target").string_len(320).not_null())
                .col(text("details"))
                .col(ColumnDef::new("ip").string_len(64).null())
                .col(ColumnDef::new("request_id").string_len(64).null())
                .col(at("created_at"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            unique("users_email", "users", &["email"]),
            unique("users_google_sub", "users", &["google_sub"]),
            unique(
                "memberships_tenant_user",
                "memberships",
                &["tenant_id", "user_id"],
            ),
            plain("memberships_user", "memberships", &["user_id"]),
            plain(
                "email_codes_purpose_email",
                "email_codes",
                &["purpose", "email"],
            ),
            unique("email_codes_link", "email_codes", &["link_hash"]),
            plain("auth_sessions_user", "auth_sessions", &["user_id"]),
            unique("refresh_tokens_hash", "refresh_tokens", &["token_hash"]),
            plain("refresh_tokens_session", "refresh_tokens", &["session_id"]),
            unique("signing_keys_kid", "signing_keys", &["kid"]),
            unique("api_keys_hash", "api_keys", &["key_hash"]),
            plain("api_keys_tenant", "api_keys", &["tenant_id"]),
            unique("invitations_token", "invitations", &["token_hash"]),
            plain("invitations_tenant", "invitations", &["tenant_id"]),
            plain("teams_tenant", "teams", &["tenant_id"]),
            unique(
                "team_members_team_user",
                "team_members",
                &["team_id", "user_id"],
            ),
            plain(
                "audit_events_tenant_time",
                "audit_events",
                &["tenant_id", "created_at"],
            ),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        // The migration path from the single per-tenant key: each tenant's key keeps working as
        // an API key with scope `write`, listed (and revocable) like any other.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO api_keys (tenant_id, name, scope, key_hash, key_prefix, created_at) \
                 SELECT id, 'tenant key (migrated)', 'write', api_key_hash, 'caly_key_', created_at \
                 FROM tenants",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_events",
            "team_members",
            "teams",
            "invitations",
            "api_keys",
            "signing_keys",
            "refresh_tokens",
            "auth_sessions",
            "email_codes",
            "memberships",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
