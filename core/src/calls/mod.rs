//! Calls: the state machine, how one event's facts merge into a call, where its recordings are
//! kept, text conversations and voice calls with their turns and the tasks they record for staff, and the tenant-scoped queries the API reads them with.

pub mod conversations;
mod live_writes;
pub mod merge;
pub mod phone;
pub mod prefetch;
pub mod proof_failures;
mod queries;
pub mod recordings;
pub mod state;
pub mod task_activity;
pub mod tasks;
pub mod transcript;
pub mod turn_audio;
pub mod turns;
pub mod voice;

pub use queries::{
    CallDetail, CallFilter, OUTCOMES, call_detail, count_outcomes, find_call, find_call_by_sid,
    find_recording, known_intents, list_calls,
};
