//! Infrastructure every domain uses: settings, database, queue (and its depth gauge), object
//! storage, mail, secrets, database leases, outbound fetch policy, pagination, time and logging.
//! Nothing here knows about calls, billing or tenants.

pub mod ahead;
pub mod crypto;
pub mod db;
pub mod egress;
pub mod gauge;
pub mod handback;
pub mod heartbeats;
pub mod live_queue;
pub mod locks;
pub mod mailer;
pub mod net;
pub mod pagination;
pub mod pg_statement;
pub mod pools;
pub mod queue;
pub mod rate_limit;
pub mod redis_client;
pub mod reseal;
pub mod scratch;
pub mod security;
pub mod settings;
pub mod storage;
pub mod system_health;
pub mod telemetry;
pub mod time;
