//! Operator actions on a primary's database: sites, stores, users and operators, bulk import and export,
//! unblocking a satellite's queue, and the demo data set. Those that take a `Database` open it
//! directly, so the server must not be running on it (RocksDB allows one process at a time and
//! says so if it is); those that take the `SyncEngine` (the queue's) serve the command line and
//! the admin API of a running server alike. Depends on `sync`, `store`,
//! `wire` and `domain`; never on `api` or `http`.

pub mod backup;
pub mod dataset;
pub mod demo;
pub mod directory;
pub mod monitor;
pub mod operators;
pub mod queue;
pub mod transfer;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] crate::store::StoreError),
    /// The sync engine failed while applying records.
    #[error(transparent)]
    Sync(#[from] crate::sync::SyncError),
    /// The operator asked for something that cannot be done; the message says why.
    #[error("{0}")]
    Invalid(String),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, AdminError>;
