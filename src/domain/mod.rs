//! The sync domain: ids, records, sites and stores, the table catalogue and routing rules.
//!
//! Pure: no I/O, no JSON shapes, no RocksDB. Everything here can be unit- and property-tested
//! without a server.

pub mod credentials;
pub mod directory;
pub mod ids;
pub mod numbering;
pub mod permissions;
pub mod record;
pub mod routing;
pub mod tables;
pub mod versions;
