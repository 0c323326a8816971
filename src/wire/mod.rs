//! The formats on the wire ⇄ domain types. Nothing outside this module knows a JSON shape of the
//! API; record `data` is carried as the raw bytes the satellite sent. Depends on `domain` and
//! `patient`, and reads the sync core's queued records (`sync::Outgoing`); never `store` (but in
//! tests), `api` or `http`.

pub mod admin;
pub mod json;
pub mod patient;
pub mod v1;
pub mod v2;
pub mod v4;
pub mod v5;
mod v5_rows;
pub mod v6;

/// A request body that cannot be used, with the message the client is shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body is not JSON of the expected overall shape (protocol level: 400).
    #[error("{0}")]
    Malformed(String),
    /// One record of a batch is unusable (record level: shown to the satellite's user).
    #[error("{0}")]
    Record(String),
    /// The batch holds more records than the configured limit.
    #[error("{0}")]
    TooMany(String),
}
