//! Integration tests: the real server on an ephemeral port, RocksDB in a temporary directory,
//! real HTTP. One scenario per file.

mod support;

mod access_log;
mod admin_api;
mod admin_directory;
mod admin_import;
mod bad_input;
mod cluster;
mod cluster_faults;
mod compression;
mod config_files;
mod connection_cap;
mod crash_durability;
mod dashboard;
mod demo_data;
mod dump_progress;
mod dump_without_copies;
mod isolation;
mod lifecycle;
mod login_slowdown;
mod metrics;
mod mobile_cycle;
mod nats_cluster;
mod online_backup;
mod operator_skip;
mod packaging;
mod patient_schemas;
mod patient_sync;
mod queue_model;
mod queue_semantics;
mod routing;
mod secondary_sources;
mod site_health;
mod slow_readers;
mod slowloris;
mod tls;
mod transfer;
mod transfers;
mod unique_ids;
mod v1_cycle;
mod v4_lookups;
mod v5_cycle;
mod v5_records;
mod v5_transfers;
