//! sea-orm entities for Caly's tables. A leaf crate: generated-style models only, no I/O.
//! Domain logic over these rows lives in `caly-core`.

pub mod analytics_rollup;
pub mod api_key;
pub mod audit_event;
pub mod auth_session;
pub mod call;
pub mod caller_prefetch;
pub mod conversation;
pub mod email_code;
pub mod invitation;
pub mod ledger_entry;
pub mod llm_override;
pub mod membership;
pub mod proof_failure;
pub mod raw_event;
pub mod recording;
pub mod refresh_token;
pub mod scheduler_lock;
pub mod shopify_store;
pub mod signing_key;
pub mod stage_run;
pub mod status;
pub mod store_profile;
pub mod task;
pub mod task_event;
pub mod team;
pub mod team_member;
pub mod tenant;
pub mod tenant_rate;
pub mod transcript;
pub mod turn;
pub mod user;
pub mod voice_session;
pub mod worker_heartbeat;
