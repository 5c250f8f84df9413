//! Caly's stages, one module each. A stage names its spec and does one thing; the rules it
//! applies live in their domains (`calls`, `billing`, `integrations`).

pub mod charge;
pub mod ingest;
pub mod reconcile;
pub mod recording_upload;
