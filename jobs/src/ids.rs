//! Row ids that cross crate boundaries, as newtypes so a tenant id is never passed where a call
//! id belongs. They serialise as bare numbers.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

row_id!(
    /// A tenant (`tenants.id`).
    TenantId,
    /// A call (`calls.id`).
    CallId,
    /// A stage run (`stage_runs.id`); the only thing a queued job carries.
    StageRunId,
);
