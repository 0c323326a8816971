//! The sync domain: ids, records, sites and stores, the table catalogue and routing rules.
//!
//! Pure: no I/O, no RocksDB, and no API's JSON shapes (a record's row, the flat object of its
//! fields, is read and written in `row`). Everything here can be unit- and property-tested
//! without a server. Imports nothing else of the crate.

pub mod credentials;
pub mod directory;
pub mod dispensing;
pub mod fields;
pub mod ids;
pub mod numbering;
pub mod permissions;
pub mod record;
pub mod routing;
pub mod row;
pub mod tables;
pub mod values;
pub mod versions;
