//! Caly's stages, one module each (per call, per tenant or for the platform). A stage names its spec and does one thing; the rules it
//! applies live in their domains (`calls`, `billing`, `integrations`).

pub mod agent_reply;
pub mod charge;
pub mod ingest;
pub mod prefetch_caller;
pub mod reconcile;
pub mod recording_upload;
pub mod speak;
pub mod transcribe;
pub mod turn_transcribe;
pub mod vacuum_queue;
