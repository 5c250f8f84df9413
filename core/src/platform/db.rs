//! Database connections: PostgreSQL in production, a SQLite file on the embedded default.

mod handle;

pub use handle::Db;

use super::pools::{DbSettings, Pooler};
use crate::CoreError;
use caly_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DbBackend, DbErr};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// When a commit returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// After the write-ahead log is on disk: webhooks, charges, the ledger, everything by default.
    Durable,
    /// Before the log is flushed (PostgreSQL's `synchronous_commit = off`): the writes of a live
    /// turn, which a caller is waiting on. Visibility and order are unchanged; a database crash
    /// may lose the last fraction of a second of such commits, never corrupt them.
    Deferred,
}

/// Connects to `url` (creating the SQLite file and folder when needed) with up to `pool_size`
/// PostgreSQL connections (SQLite uses 8) whose commits return as `commit` says (SQLite's are
/// always durable). A statement waits up to `settings.acquire_timeout` for a free connection;
/// behind a transaction-mode pooler each statement runs in a transaction of its own (see
/// [`Db`]).
pub async fn connect(
    url: &SecretString,
    pool_size: u32,
    commit: Commit,
    settings: &DbSettings,
) -> Result<Db, CoreError> {
    let url = url.expose_secret();
    if let Some(path) = sqlite_path(url)
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        tokio::fs::create_dir_all(parent).await?;
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(settings.acquire_timeout)
        // A connection idle this long is pinged before use (the server or a proxy may have
        // dropped it); a busy one is not: a ping on every checkout doubled each query's
        // round trips.
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite") {
        options.max_connections(8).min_connections(1);
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    } else if settings.pooler == Pooler::Transaction {
        options.max_connections(pool_size.max(1)).min_connections(1);
        options.map_sqlx_postgres_opts(|o| {
            // No statement outlives its transaction (see `Db`), and no start-up parameter
            // PgBouncer would refuse.
            o.statement_cache_capacity(0).extra_float_digits(None)
        });
        let set_local = (commit == Commit::Deferred).then_some(LIVE_SET_LOCAL);
        let db = Db::behind(
            Database::connect(options).await?,
            settings.pooler,
            set_local,
        );
        // A statement this transaction did not prepare means the pooler keeps them between
        // clients, and two clients' names will clash.
        let left_over = db.statements_left_over().await?;
        if left_over > 0 {
            tracing::warn!(
                left_over,
                "the pooler leaves prepared statements on its servers between transactions: \
                 set server_reset_query = DEALLOCATE ALL and server_reset_query_always = 1 in \
                 PgBouncer (docs/operations.md), or statements will fail with 'already exists'"
            );
        }
        return Ok(db);
    } else {
        options.max_connections(pool_size.max(1)).min_connections(1);
        if commit == Commit::Deferred {
            // A live turn's statements are key lookups and keyed writes, prepared once per
            // connection: planned once, too. PostgreSQL otherwise keeps planning each execution
            // afresh whenever its generic plan's estimate looks dearer than the custom ones, and
            // planning a turn's joins cost more than running them.
            options.map_sqlx_postgres_opts(|o| {
                o.options([
                    ("synchronous_commit", "off"),
                    ("plan_cache_mode", "force_generic_plan"),
                ])
            });
            // A turn never waits for a new connection: opening one took ~90 ms under load.
            options.min_connections(pool_size.max(1));
        }
    }
    Ok(Db::direct(Database::connect(options).await?))
}

/// The live pool's session setting, per transaction behind a pooler.
const LIVE_SET_LOCAL: &str = "SET LOCAL synchronous_commit TO off";

/// True when `err` is a statement that found no free connection within its wait: this
/// process's pool ran dry, or PgBouncer's did (its `query_wait_timeout`, which closes the
/// client connection with that name as the error).
pub fn is_pool_timeout(err: &DbErr) -> bool {
    matches!(err, DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
        || err.to_string().contains(POOLER_WAIT_TIMEOUT)
}

/// PgBouncer's error when a client waited longer than `query_wait_timeout` for a server.
const POOLER_WAIT_TIMEOUT: &str = "query_wait_timeout";

/// Runs pending migrations.
/// Behind a transaction-mode pooler they run in one transaction (see [`Db`]); straight to
/// PostgreSQL, as the migrator runs them.
pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    if db.is_pooled() {
        use sea_orm::TransactionTrait;
        let txn = db.begin().await?;
        Migrator::up(&txn, None).await?;
        return txn.commit().await;
    }
    Migrator::up(db.connection(), None).await
}

/// The file path inside a `sqlite://path?…` URL.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Checks the database answers (for `/readyz`).
pub async fn ping(db: &Db) -> Result<(), sea_orm::DbErr> {
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

/// A raw statement written with PostgreSQL's `$1`, `$2`, … placeholders, in the backend's
/// spelling (SQLite numbers its parameters `?1`, `?2`, …).
pub fn portable_statement(
    backend: DbBackend,
    sql: &str,
    values: impl IntoIterator<Item = sea_orm::Value>,
) -> sea_orm::Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_string(),
        _ => sql.replace('$', "?"),
    };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

/// True on PostgreSQL (row locks are emitted there; SQLite serialises writers instead).
pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::RuntimeErr;

    #[test]
    fn a_dry_pool_here_or_in_pgbouncer_is_a_wait_that_timed_out() {
        assert!(is_pool_timeout(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        let pgbouncer = DbErr::Conn(RuntimeErr::Internal(
            "error returned from database: query_wait_timeout".into(),
        ));
        assert!(is_pool_timeout(&pgbouncer));
        assert!(!is_pool_timeout(&DbErr::ConnectionAcquire(
            ConnAcquireErr::ConnectionClosed
        )));
        assert!(!is_pool_timeout(&DbErr::Custom("no such column".into())));
    }
}
