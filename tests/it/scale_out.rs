//! Workers that scale out. An api, a scheduler and eight `caly worker` processes at their
//! default settings run a backlog of calls on a stock PostgreSQL (`max_connections = 100`),
//! straight and through PgBouncer in transaction mode: PostgreSQL's connection count stays
//! under its limit, no process is refused a connection, and every call is charged once. A live
//! Voicebot call is answered through PgBouncer with the socket's process running each turn's
//! first stage, and a worker whose pool is one connection waits for it and loses nothing.
//!
//! These tests share the stock server and count its connections: they run one at a time
//! (`.config/nextest.toml`).

use crate::support::infra;
use crate::support::process::{WorkerProcess, wait_until};
use crate::support::{Backend, Database, Options, TestApp};
use caly_core::RunStatus;
use caly_entities::stage_run;
use futures::StreamExt;
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, Statement,
};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Calls in each backlog.
const CALLS: u32 = 400;

/// What a refused connection looks like in a log (PostgreSQL's own words, and sqlx's).
const REFUSED: &[&str] = &[
    "too many clients",
    "remaining connection slots",
    "Connection refused",
];

/// One connection to the stock server's `postgres` database, straight (never through
/// PgBouncer): PostgreSQL's own count of its client connections.
async fn stock_admin() -> DatabaseConnection {
    let mut options = ConnectOptions::new(format!("{}/postgres", infra::stock_postgres()));
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    sea_orm::Database::connect(options)
        .await
        .expect("the stock PostgreSQL runs: use the README's test command")
}

async fn number(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .expect("one row");
    row.try_get_by_index::<i64>(0).unwrap()
}

/// PostgreSQL's client connections, by database (`datname: n, …`).
const BY_DATABASE: &str = "SELECT string_agg(datname || ': ' || n, ', ') FROM (SELECT \
    coalesce(datname, '-') AS datname, count(*) AS n FROM pg_stat_activity \
    WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC) AS each";

/// Samples the stock server's client connections every 20 ms until `stop`: the peak, and how
/// it was made up.
fn sample_connections(
    admin: DatabaseConnection,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<(i64, String)> {
    tokio::spawn(async move {
        let sql =
            "SELECT count(*)::int8 FROM pg_stat_activity WHERE backend_type = 'client backend'";
        let mut peak = (0, String::new());
        while !stop.is_cancelled() {
            let now = number(&admin, sql).await;
            if now > peak.0 {
                peak = (now, text(&admin, BY_DATABASE).await);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak
    })
}

async fn text(db: &impl ConnectionTrait, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .expect("one row");
    row.try_get_by_index::<Option<String>>(0)
        .unwrap()
        .unwrap_or_default()
}

/// Waits until the stock server has no client but `admin` (PgBouncer closes its idle server
/// connections after two seconds): the count is this test's alone.
async fn until_quiet(admin: &DatabaseConnection) {
    let others = "SELECT count(*)::int8 FROM pg_stat_activity \
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";
    let deadline = Instant::now() + Duration::from_secs(60);
    while number(admin, others).await > 0 {
        assert!(
            Instant::now() < deadline,
            "the stock PostgreSQL is not left to the scale-out tests: {}",
            text(admin, BY_DATABASE).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A terminal StatusCallback for call `n` of a backlog: a completed call of `30 + n % 600` s.
fn status_of(n: u32) -> serde_json::Value {
    json!({"CallSid": format!("5ca1e{n:027x}"), "EventType": "terminal",
        "Status": "completed", "From": "09876543210", "To": "08040000000",
        "StartTime": "2026-11-21 10:00:00", "ConversationDuration": 30 + n % 600})
}

/// Waits until `calls` calls are charged, running `tick` between looks, while every process
/// in `running` stays alive, until `deadline`.
async fn until_charged<F, Fut>(
    app: &TestApp,
    calls: u32,
    deadline: Instant,
    running: &mut [WorkerProcess],
    mut tick: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        let charged = app.charge_count().await;
        if charged >= u64::from(calls) {
            return;
        }
        still_going(
            deadline,
            running,
            &format!("{charged} of {calls} calls charged"),
        );
        tick().await;
    }
}

/// Asserts that every process in `running` is alive and that `deadline` has not passed while
/// the test waits for `what`.
fn still_going(deadline: Instant, running: &mut [WorkerProcess], what: &str) {
    for process in running.iter_mut() {
        assert!(
            process.is_running(),
            "a process died:\n{}",
            process.log_text()
        );
    }
    assert!(Instant::now() < deadline, "still waiting for {what}");
}

/// Runs [`CALLS`] calls through an api, a scheduler and eight workers, all separate processes at
/// their default pool settings, on `database`; checks the connection count, the logs and the
/// ledger.
async fn a_backlog_through_eight_workers(database: Database) {
    let admin = stock_admin().await;
    until_quiet(&admin).await;
    // What a deployment that does not log in as a superuser may use.
    let limit = number(
        &admin,
        "SELECT (SELECT setting::int8 FROM pg_settings WHERE name = 'max_connections') - \
         (SELECT setting::int8 FROM pg_settings WHERE name = 'superuser_reserved_connections')",
    )
    .await;
    let app = TestApp::spawn_opts(
        Backend::Production,
        Options {
            workers: false,
            database,
            // The test's own process reads the results: a small pool of its own.
            max_connections: Some(3),
            ..Options::default()
        },
    )
    .await;
    let stop_sampling = CancellationToken::new();
    let peak = sample_connections(stock_admin().await, stop_sampling.clone());
    let bind = format!("127.0.0.1:{}", free_port());
    let settle = ("CALY_CHARGE_SETTLE_SECS", "0");
    let mut processes = vec![
        WorkerProcess::start(&app, "api", &["api"], &[("CALY_BIND", &bind), settle]),
        WorkerProcess::start(&app, "scheduler", &["scheduler"], &[settle]),
    ];
    for n in 0..8 {
        processes.push(WorkerProcess::start(
            &app,
            &format!("worker{n}"),
            &["worker"],
            &[settle],
        ));
    }
    let base = format!("http://{bind}");
    wait_until("the api process to be ready", || async {
        matches!(app.client.get(format!("{base}/readyz")).send().await, Ok(r) if r.status().is_success())
    })
    .await;
    let hook = format!(
        "{base}/hooks/exotel/{}/{}/status",
        app.tenant.tenant.id, app.tenant.webhook_secret
    );
    let accepted = futures::stream::iter(0..CALLS)
        .map(|n| {
            let (client, hook) = (app.client.clone(), hook.clone());
            async move {
                let response = client.post(hook).json(&status_of(n)).send().await.unwrap();
                response.status().as_u16()
            }
        })
        .buffer_unordered(32)
        .filter(|status| futures::future::ready(*status == 200))
        .count()
        .await;
    assert_eq!(accepted, CALLS as usize, "every webhook accepted");
    // The scheduler process dispatches: the test only watches.
    let deadline = Instant::now() + Duration::from_secs(240);
    until_charged(&app, CALLS, deadline, &mut processes, || async {
        tokio::time::sleep(Duration::from_millis(100)).await;
    })
    .await;
    stop_sampling.cancel();
    let (peak, made_of) = peak.await.unwrap();
    assert!(
        peak <= limit,
        "PostgreSQL held {peak} client connections at once ({made_of}); its limit is {limit}"
    );
    // At their default settings nothing waits past its bound, let alone is refused.
    for process in &processes {
        let log = process.log_text();
        for refused in REFUSED {
            assert!(!log.contains(refused), "'{refused}' in a log:\n{log}");
        }
        assert!(
            !log.contains("waited for a database connection"),
            "a statement waited past its bound:\n{log}"
        );
    }
    if database == Database::ThroughPgBouncer {
        let left_over = app.app.db.statements_left_over().await.unwrap();
        assert_eq!(
            left_over, 0,
            "prepared statements outlived their transaction"
        );
    }
    // Every call charged exactly once, and no run failed on the way.
    let twice = number(
        &app.app.db,
        "SELECT count(*)::int8 FROM (SELECT call_id FROM ledger_entries WHERE kind = 'charge' \
         GROUP BY call_id HAVING count(*) > 1) AS twice",
    )
    .await;
    assert_eq!(twice, 0, "calls charged more than once");
    assert_eq!(app.charge_count().await, u64::from(CALLS));
    let failed = stage_run::Entity::find()
        .filter(stage_run::Column::Status.eq(RunStatus::Failed))
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(failed, 0, "failed runs");
    eprintln!("peak PostgreSQL client connections: {peak} of {limit} ({made_of}, {database:?})");
    drop(processes);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_workers_an_api_and_a_scheduler_stay_under_a_stock_postgresql_limit() {
    a_backlog_through_eight_workers(Database::Stock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_workers_an_api_and_a_scheduler_run_through_pgbouncer_in_transaction_mode() {
    a_backlog_through_eight_workers(Database::ThroughPgBouncer).await;
}

#[tokio::test]
async fn through_pgbouncer_a_voicebot_call_is_answered_with_the_socket_running_its_first_stage() {
    crate::voice::answered_and_resolved_on(Backend::Production, true, Database::ThroughPgBouncer)
        .await;
}

#[tokio::test]
async fn through_pgbouncer_the_words_and_their_answer_are_stored_in_one_write() {
    crate::voice::words_and_answer_stored_together_on(
        Backend::Production,
        Database::ThroughPgBouncer,
    )
    .await;
}

#[tokio::test]
async fn through_pgbouncer_live_writes_do_not_wait_for_the_disk_and_the_rest_does() {
    let app = TestApp::spawn_opts(
        Backend::Production,
        Options {
            database: Database::ThroughPgBouncer,
            ..Options::default()
        },
    )
    .await;
    // The setting is the transaction's now, not the session's: each statement has it.
    for _ in 0..3 {
        assert_eq!(
            crate::voice::synchronous_commit(&app.app.live_db).await,
            "off"
        );
        assert_eq!(crate::voice::synchronous_commit(&app.app.db).await, "on");
    }
    // A write is committed before its call returns: a session of its own, straight to
    // PostgreSQL, sees it at once.
    let tenant = app.tenant.tenant.id;
    let rename = |name: &str| {
        Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "UPDATE tenants SET name = $1 WHERE id = $2",
            [name.into(), tenant.into()],
        )
    };
    let url = secrecy::ExposeSecret::expose_secret(&app.app.settings.database_url).to_string();
    let database = url.rsplit('/').next().unwrap();
    let straight = sea_orm::Database::connect(format!("{}/{database}", infra::stock_postgres()))
        .await
        .unwrap();
    let name_of = format!("SELECT name FROM tenants WHERE id = {tenant}");
    for name in ["Renamed once", "Renamed twice"] {
        app.app.db.execute_raw(rename(name)).await.unwrap();
        assert_eq!(text(&straight, &name_of).await, name);
    }
    // A statement that fails is rolled back alone; the pool goes on.
    let failing = app
        .app
        .db
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT no_such_column FROM tenants WHERE id = $1",
            [tenant.into()],
        ))
        .await;
    assert!(failing.is_err());
    assert_eq!(text(&app.app.db, &name_of).await, "Renamed twice");
    app.stop().await;
}

/// A worker whose pools are one connection each, waiting at most 250 ms for one, takes a
/// backlog at eight jobs per queue while the test holds a lock on the ledger: the first charge
/// waits on the lock inside PostgreSQL with the one connection, so every other statement times
/// out waiting for it and gives its attempt (or its job) back. Once the lock goes, every run
/// succeeds on its first counted attempt and every call is charged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_one_connection_under_load_waits_and_loses_nothing() {
    use sea_orm::TransactionTrait;
    let app = TestApp::spawn_opts(
        Backend::Production,
        Options {
            workers: false,
            ..Options::default()
        },
    )
    .await;
    let calls = 100;
    for n in 0..calls {
        let response = app.post_json("status", &status_of(n)).await;
        assert_eq!(response.status(), 200);
    }
    let url = secrecy::ExposeSecret::expose_secret(&app.app.settings.database_url).to_string();
    let locker = sea_orm::Database::connect(url).await.unwrap();
    let held = locker.begin().await.unwrap();
    held.execute_unprepared("LOCK TABLE ledger_entries IN SHARE MODE")
        .await
        .unwrap();
    let mut worker = WorkerProcess::start(
        &app,
        "starved",
        &["worker", "--concurrency", "8"],
        &[
            ("CALY_DB_MAX_CONNECTIONS", "2"),
            ("CALY_DB_ACQUIRE_TIMEOUT_MS", "250"),
            ("CALY_CHARGE_SETTLE_SECS", "0"),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let dispatch = || async {
        caly_core::pipeline::dispatch::dispatch_due(&app.app, chrono::Utc::now())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    while !worker
        .log_text()
        .contains("waited for a database connection")
    {
        dispatch().await;
        let log = worker.log_text();
        still_going(
            deadline,
            std::slice::from_mut(&mut worker),
            &format!("a statement to wait for the one connection:\n{log}"),
        );
        assert!(
            Instant::now() < deadline,
            "no statement waited for the one connection:\n{}",
            worker.log_text()
        );
    }
    assert_eq!(app.charge_count().await, 0, "the ledger is locked");
    held.commit().await.unwrap();
    until_charged(
        &app,
        calls,
        deadline,
        std::slice::from_mut(&mut worker),
        dispatch,
    )
    .await;
    let log = worker.log_text();
    assert!(
        log.contains("cut to 1 + 1"),
        "the budget is reported at start:\n{log}"
    );
    let runs = stage_run::Entity::find().all(&app.app.db).await.unwrap();
    let unfinished: Vec<_> = runs
        .iter()
        .filter(|r| r.status != RunStatus::Succeeded || r.attempts != 1)
        .map(|r| {
            (
                r.stage.as_str(),
                r.status,
                r.attempts,
                r.last_error.as_deref(),
            )
        })
        .collect();
    assert!(
        unfinished.is_empty(),
        "runs that failed or used more than one attempt: {unfinished:?}"
    );
    assert_eq!(app.charge_count().await, u64::from(calls));
    worker.terminate();
    worker.wait();
    app.stop().await;
}

const STARVE: caly_core::StageName = caly_core::StageName::new("starve");

/// A stage whose first attempt starves its own pool of one connection: it holds the connection
/// in a transaction and asks the pool for another, which cannot come. Later attempts succeed.
#[derive(Clone)]
struct Starve {
    pool: caly_core::platform::db::Db,
    starved: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[async_trait::async_trait]
impl caly_core::pipeline::Stage for Starve {
    type Subject = caly_entities::call::Model;

    fn spec(&self) -> caly_core::pipeline::StageSpec {
        caly_core::pipeline::StageSpec {
            name: STARVE,
            follow_ups: &[],
            timeout: Duration::from_secs(30),
            max_attempts: Some(1),
            lane: caly_core::pipeline::Lane::Batch,
            call_key: Some(|call| format!("{call}:starve")),
        }
    }

    async fn run(
        &self,
        _app: &caly_core::App,
        _run: &stage_run::Model,
        call: caly_entities::call::Model,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> Result<caly_core::pipeline::StageOutcome, caly_core::pipeline::StageError> {
        use sea_orm::TransactionTrait;
        if !self.starved.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let _held = self.pool.begin().await?;
            let second = Statement::from_string(sea_orm::DbBackend::Postgres, "SELECT 1");
            self.pool.query_one_raw(second).await?;
            unreachable!("a pool of one gave a second connection");
        }
        Ok(caly_core::pipeline::StageOutcome::note(
            Some(caly_core::CallId(call.id)),
            "fed",
        ))
    }
}

/// A stage attempt whose statement finds no connection within the pool's wait gives its
/// attempt back: the run is not failed (its limit is one attempt), no poll is counted, the
/// wait is on record as `database_busy`, and the next attempt succeeds.
#[tokio::test]
async fn a_stage_that_finds_no_connection_gives_its_attempt_back() {
    let url = infra::fresh_postgres(&format!("caly_t_{}", uuid::Uuid::new_v4().simple())).await;
    let settings = caly_core::platform::pools::DbSettings {
        acquire_timeout: Duration::from_millis(250),
        ..Default::default()
    };
    let pool = caly_core::platform::db::connect(
        &url.into(),
        1,
        caly_core::platform::db::Commit::Durable,
        &settings,
    )
    .await
    .unwrap();
    let starve = Starve {
        pool,
        starved: Default::default(),
    };
    let app = TestApp::spawn_opts(
        Backend::Production,
        Options {
            stages: Some(caly_core::pipeline::StageRegistry::builtin().with(starve.clone())),
            ..Options::default()
        },
    )
    .await;
    let response = app.post_json("status", &status_of(1)).await;
    assert_eq!(response.status(), 200);
    app.drain().await;
    let call = app.call_by_sid(&format!("5ca1e{:027x}", 1)).await;
    let (status, body) = app
        .api_post(&format!("/api/v1/calls/{}/stages/starve/replay", call.id))
        .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    let run = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq(STARVE.as_str()))
        .one(&app.app.db)
        .await
        .unwrap()
        .expect("the stage ran");
    assert!(starve.starved.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!((run.attempts, run.polls), (1, 0), "{run:?}");
    assert_eq!(run.error_code.as_deref(), Some("database_busy"), "{run:?}");
    app.stop().await;
}
