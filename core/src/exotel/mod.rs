//! Exotel: webhook payloads and what they say about a call.

pub mod details;
mod facts;
mod payload;

pub use facts::{CallFacts, DurationSource, HookKind};
pub use payload::{BodyEncoding, EventFields, PayloadError, parse_request};
