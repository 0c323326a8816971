//! satsync: a sync primary for mSupply satellites.
//!
//! # Layout
//! - [`config`]: the one typed configuration (TOML), validated on load.
//! - [`domain`]: ids, records, sites and stores, the table and field catalogues, routing, rows
//!   (a record's flat object of fields, merged and completed). Pure, no I/O.
//! - [`wire`]: the API formats ⇄ domain types; the only code that knows the APIs' JSON shapes.
//! - [`store`]: the only code that knows RocksDB: column families, every key, the narrow
//!   storage interface.
//! - [`patient`]: patient sync: ids, stamp times, metastamps, jobs, completion, views. Pure, no I/O.
//! - [`patient_sync`]: the patient sync service: asks the sources, applies their answers, keeps
//!   the patient column families, wakes waiting loads.
//! - [`sync`]: push, pull, acknowledge, initial dump, shared by every API version; the queue
//!   index and the single writer.
//! - [`http`]: the hyper server: connections, the route table, writing responses.
//! - [`api`]: the request type, authentication, the error → status table, and one thin handler
//!   per endpoint, per API version. Never imports `http`.
//! - [`histogram`]: the metrics' lock-free histograms (requests' and commits' latencies).
//! - [`priority`]: the lowered CPU priority of the threads that serve pulls.
//! - [`primary`]: the running primary (configuration, sync engine, patient sync), opened together.
//! - [`cluster`]: one instance of a cluster over NATS JetStream: the replicated log the writer
//!   appends to, the writer's lease, the tail that applies the log, forwarded changes.
//! - [`admin`]: operator actions (sites, stores, users, import, export, demo data).
//!
//! # Invariants
//! - A success reply means the change is durable (synced WAL).
//! - A satellite's queue is a view over one log: no per-satellite copy of any record.
//! - `count` equals the number of records the list would return.
//! - Rows are whole: every catalogue field in its stored text form, unknown fields as pushed.
//! - Nothing above `store` sees a RocksDB type; nothing below `http` sees an HTTP type.

#![forbid(unsafe_code)]

pub mod admin;
pub mod api;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod histogram;
pub mod http;
pub mod patient;
pub mod patient_sync;
pub mod primary;
pub mod priority;
pub mod store;
pub mod sync;
pub mod wire;
