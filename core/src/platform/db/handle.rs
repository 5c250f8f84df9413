//! [`Db`]: the handle every query goes through. Straight to PostgreSQL (or SQLite) it is the
//! sea-orm connection and nothing more. Behind a transaction-mode pooler (PgBouncer's
//! `pool_mode = transaction`, [`Pooler::Transaction`]) every statement runs in a transaction of
//! its own, committed before the statement's call returns.
//!
//! Why: a pooler in transaction mode lends a server session to a client only until a
//! transaction ends, and sqlx parses a statement and binds it in two exchanges. Between them,
//! outside a transaction, the pooler may hand the server to another client, and the bind then
//! reaches a server that never saw the parse. Inside a transaction both exchanges reach the
//! same server. The pool caches no prepared statement (each one is parsed afresh under a new
//! name), and the pooler deallocates a server's statements when it takes the server back
//! (`server_reset_query = DEALLOCATE ALL`, `server_reset_query_always = 1`), so no name
//! outlives the transaction that prepared it. Settings that were the session's (the live pool's
//! `synchronous_commit = off`) are set on each transaction with `SET LOCAL`.

use crate::platform::pools::Pooler;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, IsolationLevel, QueryResult, Statement, TransactionError, TransactionOptions,
    TransactionTrait,
};
use std::future::Future;
use std::pin::Pin;

/// A database handle. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// Behind a transaction-mode pooler: each statement runs in a transaction of its own.
    pooled: bool,
    /// Run first in every transaction (a `SET LOCAL …` that would otherwise be the session's).
    set_local: Option<&'static str>,
}

impl Db {
    /// `conn` straight to the database.
    pub fn direct(conn: DatabaseConnection) -> Db {
        Db {
            conn,
            pooled: false,
            set_local: None,
        }
    }

    /// `conn` behind a pooler in `pooler` mode; with one, each transaction first runs
    /// `set_local` when given.
    pub fn behind(conn: DatabaseConnection, pooler: Pooler, set_local: Option<&'static str>) -> Db {
        match pooler {
            Pooler::None => Db::direct(conn),
            Pooler::Transaction => Db {
                conn,
                pooled: true,
                set_local,
            },
        }
    }

    /// The sea-orm connection underneath, for what only it does: migrations, the SQLite
    /// queue's pool. Queries go through the handle.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// True behind a transaction-mode pooler.
    pub fn is_pooled(&self) -> bool {
        self.pooled
    }

    /// Behind a pooler: the prepared statements an earlier transaction left on the server this
    /// transaction got (none when the pooler deallocates them as it takes a server back).
    pub async fn statements_left_over(&self) -> Result<i64, DbErr> {
        let txn = self.begin().await?;
        let sql = "SELECT count(*)::int8 FROM pg_prepared_statements \
            WHERE statement NOT LIKE '%pg_prepared_statements%'";
        let row = txn
            .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await;
        let count = finish(txn, row).await?;
        count.map_or(Ok(0), |row| row.try_get_by_index::<i64>(0))
    }

    async fn started(&self, txn: DatabaseTransaction) -> Result<DatabaseTransaction, DbErr> {
        // Only a pooled handle has a setting to move to the transaction.
        if let Some(sql) = self.set_local {
            txn.execute_unprepared(sql).await?;
        }
        Ok(txn)
    }
}

/// Ends a statement's own transaction: commits after a success, rolls back after a failure
/// (whose error is the one returned).
async fn finish<T>(txn: DatabaseTransaction, result: Result<T, DbErr>) -> Result<T, DbErr> {
    match result {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(err) => {
            let _ = txn.rollback().await;
            Err(err)
        }
    }
}

/// Runs one statement: straight on the connection, or behind a pooler in a transaction of its
/// own, committed before it returns.
macro_rules! alone {
    ($db:ident, $method:ident, $arg:expr) => {{
        if !$db.pooled {
            return $db.conn.$method($arg).await;
        }
        let txn = $db.begin().await?;
        let result = txn.$method($arg).await;
        finish(txn, result).await
    }};
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        alone!(self, execute_raw, stmt)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        // One exchange (the simple protocol): nothing to keep on one server, and statements
        // that may not run in a transaction (`VACUUM`) still can.
        self.conn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        alone!(self, query_one_raw, stmt)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        alone!(self, query_all_raw, stmt)
    }
}

#[async_trait::async_trait]
impl TransactionTrait for Db {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.started(self.conn.begin().await?).await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        let txn = self
            .conn
            .begin_with_config(isolation_level, access_mode)
            .await?;
        self.started(txn).await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.started(self.conn.begin_with_options(options).await?)
            .await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let txn = self.begin().await.map_err(TransactionError::Connection)?;
        run(txn, callback).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let txn = self
            .begin_with_config(isolation_level, access_mode)
            .await
            .map_err(TransactionError::Connection)?;
        run(txn, callback).await
    }
}

/// Runs `callback` in `txn`: commits when it succeeds, rolls back when it fails.
async fn run<F, T, E>(txn: DatabaseTransaction, callback: F) -> Result<T, TransactionError<E>>
where
    F: for<'c> FnOnce(
            &'c DatabaseTransaction,
        ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
        + Send,
    T: Send,
    E: std::fmt::Display + std::fmt::Debug + Send,
{
    let result = callback(&txn).await;
    match result {
        Ok(value) => {
            txn.commit().await.map_err(TransactionError::Connection)?;
            Ok(value)
        }
        Err(err) => {
            txn.rollback().await.map_err(TransactionError::Connection)?;
            Err(TransactionError::Transaction(err))
        }
    }
}
