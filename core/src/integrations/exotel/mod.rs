//! Exotel: webhook payloads and what they say about a call, the Call Details API, and
//! fetching call recordings with the tenant's credentials.

pub mod account;
pub mod details;
mod error;
mod facts;
mod payload;
pub mod recording;

pub use error::ExotelError;
pub use facts::{CallFacts, DurationSource, HookKind, call_state_of};
pub use payload::{BodyEncoding, EventFields, PayloadError, parse_request};
