//! Patient sync's side that talks to the sources: for now the HTTP client of the secondary
//! sources (DOD, HDR, VLER), which the primary fetches itself.
//!
//! Knows HTTP as a client only; decodes replies with `wire::patient` and hands back the model's
//! types (`wire::patient::IngestItem`, `patient::SyncError`). Stores nothing.

pub mod secondary;
