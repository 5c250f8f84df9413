//! Connections to the real servers the test script starts: PostgreSQL (a migrated template
//! database cloned per test), Redis (a dedicated database index) and s3s-fs.

use caly_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, Statement};

/// s3s-fs credentials used by the test script.
pub const S3_KEY: &str = "caly-test";
/// s3s-fs secret used by the test script.
pub const S3_SECRET: &str = "caly-test-secret";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// Admin connection URL of the test PostgreSQL server (without a database name).
pub fn postgres_server() -> String {
    env_or("CALY_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
}

/// The stock PostgreSQL server (`max_connections = 100`) that only the scale-out tests use, so
/// they can count its connections.
pub fn stock_postgres() -> String {
    env_or(
        "CALY_TEST_POSTGRES_STOCK",
        "postgres://postgres@127.0.0.1:5433",
    )
}

/// PgBouncer in transaction mode in front of [`stock_postgres`] (every database name).
pub fn pgbouncer() -> String {
    env_or("CALY_TEST_PGBOUNCER", "postgres://postgres@127.0.0.1:6432")
}

/// Redis for tests (database 9, flushed by the test script).
pub fn redis_url() -> String {
    env_or("CALY_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
}

/// s3s-fs endpoint.
pub fn s3_endpoint() -> String {
    env_or("CALY_TEST_S3_ENDPOINT", "http://127.0.0.1:8014")
}

fn template_name() -> String {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let digest = caly_core::platform::crypto::digest_hex(&names.join(","));
    format!("caly_tpl_{}", &digest[..12])
}

/// Creates a fresh database cloned from the migrated template; returns its URL.
pub async fn fresh_postgres(name: &str) -> String {
    fresh_postgres_on(&postgres_server(), name).await
}

/// [`fresh_postgres`] on `server`.
pub async fn fresh_postgres_on(server: &str, name: &str) -> String {
    let server = server.to_string();
    let mut options = ConnectOptions::new(format!("{server}/postgres"));
    // One connection: the advisory lock and its unlock must share a session.
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options)
        .await
        .expect("PostgreSQL must be running: use the README's test command");
    let template = template_name();
    // One test at a time builds the template.
    admin
        .execute_unprepared("SELECT pg_advisory_lock(72410)")
        .await
        .unwrap();
    let exists = admin
        .query_one_raw(Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT 1 FROM pg_database WHERE datname = '{template}'"),
        ))
        .await
        .unwrap()
        .is_some();
    if !exists {
        admin
            .execute_unprepared(&format!("CREATE DATABASE {template}"))
            .await
            .unwrap();
        let tpl = Database::connect(format!("{server}/{template}"))
            .await
            .unwrap();
        Migrator::up(&tpl, None).await.expect("migrate template");
        tpl.close().await.unwrap();
    }
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .await
        .unwrap();
    admin
        .execute_unprepared("SELECT pg_advisory_unlock(72410)")
        .await
        .unwrap();
    admin.close().await.unwrap();
    format!("{server}/{name}")
}
