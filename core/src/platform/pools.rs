//! How many PostgreSQL connections a process opens: sized from what the process runs (its
//! role), never more than the budget an operator sets, and how a pool behaves when it is empty
//! (a bounded wait) or sits behind a transaction-mode pooler such as PgBouncer.
//! `docs/operations.md` gives the same formulas with the sums per deployment shape.

use std::time::Duration;

/// What stands between Caly and PostgreSQL (`CALY_DB_POOLER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooler {
    /// Nothing: Caly's connections are PostgreSQL sessions (`none`, the default).
    #[default]
    None,
    /// A pooler in transaction mode, such as PgBouncer with `pool_mode = transaction`
    /// (`transaction`): a session lasts one transaction, so every statement runs in a
    /// transaction of its own, settings are set per transaction and prepared statements do not
    /// outlive their transaction (see [`crate::platform::db::Db`]).
    Transaction,
}

impl Pooler {
    /// Parses `none` or `transaction`.
    pub fn parse(text: &str) -> Result<Pooler, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(Pooler::None),
            "transaction" => Ok(Pooler::Transaction),
            other => Err(format!(
                "'{other}' is not a pooler mode: use none or transaction"
            )),
        }
    }
}

/// The database connection settings every process reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSettings {
    /// `CALY_DB_POOL_SIZE`: the durable pool's size, overriding the role's plan.
    pub pool_size: Option<u32>,
    /// `CALY_DB_MAX_CONNECTIONS`: the most connections this process may open, both pools
    /// together. A plan over it is cut to fit, and the process says so at start.
    pub max_connections: Option<u32>,
    /// `CALY_DB_ACQUIRE_TIMEOUT_MS`: how long a statement waits for a free connection before
    /// its stage attempt is given back (default 10 s, under every stage's timeout).
    pub acquire_timeout: Duration,
    /// `CALY_DB_POOLER`: what stands between Caly and PostgreSQL.
    pub pooler: Pooler,
}

impl Default for DbSettings {
    fn default() -> Self {
        DbSettings {
            pool_size: None,
            max_connections: None,
            acquire_timeout: Duration::from_secs(10),
            pooler: Pooler::None,
        }
    }
}

/// What a process runs, which decides how many connections it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessRole {
    /// `caly api`: HTTP requests, webhooks and live calls' sockets.
    Api {
        /// Live calls this node holds at most (`CALY_MAX_CALLS_PER_NODE`).
        max_calls: usize,
    },
    /// `caly worker`: stage queues.
    Worker {
        /// Batch stages it consumes.
        batch_stages: usize,
        /// Live stages it consumes.
        live_stages: usize,
        /// Jobs in flight per queue (`--concurrency`).
        concurrency: usize,
    },
    /// `caly scheduler`: cron ticks, dispatch and sweeps, one statement at a time.
    Scheduler,
    /// A one-off command (`caly migrate`, `caly secrets …`, a report): a statement at a time.
    Command,
    /// Several roles in one process (`caly run`: the api, every stage's workers and the
    /// scheduler).
    Together(Vec<ProcessRole>),
}

/// Connections per pool for a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolPlan {
    /// The pool whose commits wait for the log flush: everything but live turns.
    pub durable: u32,
    /// The live lane's pool (commits do not wait for the flush); 0 when the process runs no
    /// live work, which then shares the durable pool.
    pub live: u32,
}

/// Connections for the batch lane of a worker that runs `concurrency` jobs per queue. They
/// follow the database work the process can usefully run at once, not its jobs in flight (up
/// to `concurrency` on each queue): a job holds a connection only while a statement runs, and
/// between statements it waits on HTTP, storage or the queue. Half the concurrency keeps the
/// lane's database work going (`caly bench pipeline` gains nothing from more), and a job that
/// finds none free waits its turn.
fn batch_share(concurrency: usize) -> u32 {
    u32::try_from(concurrency.max(1).div_ceil(2)).unwrap_or(u32::MAX)
}

/// Connections for the live lane: a live job (a turn's transcription, answer or speech) spends
/// nearly all its time on speech engines and the model, and a few key lookups and writes in
/// the database: a quarter of the concurrency.
fn live_share(concurrency: usize) -> u32 {
    u32::try_from(concurrency.max(1).div_ceil(4)).unwrap_or(u32::MAX)
}

/// The api's durable pool: requests (dashboard reads, webhooks' inserts) are single short
/// statements.
const API_CONNECTIONS: u32 = 6;

impl ProcessRole {
    /// An api process: its requests and the live calls it may hold
    /// (`CALY_MAX_CALLS_PER_NODE`).
    pub fn api(settings: &crate::platform::settings::Settings) -> ProcessRole {
        ProcessRole::Api {
            max_calls: settings.voice.max_calls_per_node,
        }
    }

    /// The pools this role needs.
    pub fn plan(&self) -> PoolPlan {
        match self {
            ProcessRole::Api { max_calls } => PoolPlan {
                durable: API_CONNECTIONS,
                // A live call writes once per turn, every few seconds, for a few milliseconds:
                // one connection per 25 calls, between 2 and 8.
                live: u32::try_from(max_calls.div_ceil(25).clamp(2, 8)).unwrap_or(8),
            },
            ProcessRole::Worker {
                batch_stages,
                live_stages,
                concurrency,
            } => PoolPlan {
                // One for heartbeats and lease renewals, and the batch lane's share.
                durable: 1 + if *batch_stages > 0 {
                    batch_share(*concurrency)
                } else {
                    0
                },
                live: if *live_stages > 0 {
                    live_share(*concurrency)
                } else {
                    0
                },
            },
            ProcessRole::Scheduler | ProcessRole::Command => PoolPlan {
                durable: 2,
                live: 0,
            },
            ProcessRole::Together(roles) => roles.iter().fold(
                PoolPlan {
                    durable: 0,
                    live: 0,
                },
                |sum, role| {
                    let plan = role.plan();
                    PoolPlan {
                        durable: sum.durable + plan.durable,
                        live: sum.live + plan.live,
                    }
                },
            ),
        }
    }
}

impl PoolPlan {
    /// Both pools together: the connections this process may open.
    pub fn total(&self) -> u32 {
        self.durable + self.live
    }

    /// This plan with the operator's settings applied: `CALY_DB_POOL_SIZE` replaces the durable
    /// pool's size, and a plan over `CALY_DB_MAX_CONNECTIONS` is cut to fit (each pool keeps at
    /// least one connection). Returns the plan and, when it was cut, what to tell the operator.
    pub fn within(self, settings: &DbSettings) -> (PoolPlan, Option<String>) {
        let mut plan = self;
        if let Some(size) = settings.pool_size {
            plan.durable = size.max(1);
        }
        let Some(budget) = settings.max_connections else {
            return (plan, None);
        };
        if plan.total() <= budget {
            return (plan, None);
        }
        let wanted = plan;
        let set = budget;
        let budget = budget.max(1 + u32::from(plan.live > 0));
        if plan.live > 0 {
            // Shared in proportion; the durable pool gets what rounding leaves.
            let live = (u64::from(plan.live) * u64::from(budget) / u64::from(plan.total())) as u32;
            plan.live = live.clamp(1, budget - 1);
        }
        plan.durable = budget - plan.live;
        let warning = format!(
            "this process needs {} database connections ({} durable + {} live) but \
             CALY_DB_MAX_CONNECTIONS is {}: its pools are cut to {} + {}, so jobs will wait \
             for connections; raise the budget, lower --concurrency or put PgBouncer in front \
             (docs/operations.md)",
            wanted.total(),
            wanted.durable,
            wanted.live,
            set,
            plan.durable,
            plan.live
        );
        (plan, Some(warning))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(batch_stages: usize, live_stages: usize, concurrency: usize) -> ProcessRole {
        ProcessRole::Worker {
            batch_stages,
            live_stages,
            concurrency,
        }
    }

    #[test]
    fn a_worker_sizes_its_pools_from_its_concurrency_and_its_stages() {
        assert_eq!(
            worker(8, 4, 8).plan(),
            PoolPlan {
                durable: 5,
                live: 2
            }
        );
        assert_eq!(
            worker(1, 0, 16).plan(),
            PoolPlan {
                durable: 9,
                live: 0
            }
        );
        // A live-only worker keeps one durable connection for its heartbeats.
        assert_eq!(
            worker(0, 2, 3).plan(),
            PoolPlan {
                durable: 1,
                live: 1
            }
        );
    }

    #[test]
    fn the_default_deployment_of_eight_workers_fits_a_stock_postgresql() {
        let api = ProcessRole::Api { max_calls: 200 }.plan();
        let eight_workers = worker(8, 4, 8).plan().total() * 8;
        let sum = api.total() + ProcessRole::Scheduler.plan().total() + eight_workers;
        // max_connections = 100, 3 of them reserved for superusers: room is left for psql,
        // migrations and backups.
        assert!(sum <= 90, "{sum} connections");
    }

    #[test]
    fn together_adds_the_roles_up() {
        let all = ProcessRole::Together(vec![
            ProcessRole::Api { max_calls: 20 },
            worker(8, 4, 8),
            ProcessRole::Scheduler,
        ]);
        assert_eq!(
            all.plan(),
            PoolPlan {
                durable: 6 + 5 + 2,
                live: 2 + 2
            }
        );
    }

    #[test]
    fn a_budget_cuts_the_plan_and_says_so() {
        let settings = DbSettings {
            max_connections: Some(6),
            ..DbSettings::default()
        };
        let (plan, warning) = worker(8, 4, 8).plan().within(&settings);
        assert_eq!(plan.total(), 6);
        assert!(plan.durable >= 1 && plan.live >= 1);
        let warning = warning.expect("a cut plan is reported");
        assert!(warning.contains("needs 7") && warning.contains("CALY_DB_MAX_CONNECTIONS is 6"));
        let roomy = DbSettings {
            max_connections: Some(7),
            ..DbSettings::default()
        };
        assert_eq!(
            worker(8, 4, 8).plan().within(&roomy),
            (worker(8, 4, 8).plan(), None)
        );
        // Even a budget of 1 leaves each pool one connection.
        let tiny = DbSettings {
            max_connections: Some(1),
            ..DbSettings::default()
        };
        let (plan, _) = worker(8, 4, 8).plan().within(&tiny);
        assert_eq!(
            plan,
            PoolPlan {
                durable: 1,
                live: 1
            }
        );
    }

    #[test]
    fn pool_size_overrides_the_durable_pool() {
        let settings = DbSettings {
            pool_size: Some(1),
            ..DbSettings::default()
        };
        assert_eq!(worker(8, 4, 8).plan().within(&settings).0.durable, 1);
    }

    #[test]
    fn pooler_modes_parse() {
        assert_eq!(Pooler::parse("transaction"), Ok(Pooler::Transaction));
        assert_eq!(Pooler::parse("none"), Ok(Pooler::None));
        assert!(Pooler::parse("session").is_err());
    }
}
