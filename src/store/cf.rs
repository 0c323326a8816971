//! The column families and all RocksDB tuning, in one place.

use rocksdb::{BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, Env, Options};

/// Database-wide facts: format version, next sequence number, pending log clean-up.
pub const META: &str = "meta";
/// Sites, stores and users.
pub const DIRECTORY: &str = "directory";
/// The change log: one entry per record, its latest state, keyed by sequence number.
pub const LOG: &str = "log";
/// Record id (key form) → the table that holds it and the sequence number of its entry in
/// `log`. Keyed by id alone: ids are unique across tables (open-mSupply keys what it receives by
/// id alone), and the one lookup a push makes per record also tells it which table holds an id.
pub const RECORD_INDEX: &str = "record_index";
/// (site, SyncID) of every applied push, to recognise re-sent pushes.
pub const PUSHED: &str = "pushed";
/// Per-satellite queue state: position, acknowledgements above it, dump cursor.
pub const SITE_QUEUES: &str = "site_queues";
/// (patient, store) pairs from `name_store_join`: which stores see which patients.
pub const PATIENT_JOINS: &str = "patient_joins";

/// (table, parent id, record id) for the references lookups follow (a patient's invoices, an
/// invoice's lines): kept on every push so that no request scans a table.
pub const LOOKUPS: &str = "lookups";

/// Patient sync: each patient identifier → its JPID, and each JPID → its identifiers.
pub const PATIENT_IDS: &str = "patient_ids";
/// Patient sync, every key under its JPID (so one range delete clears a patient): metastamp
/// state per source, job records, demographics, the records stored per (source, domain, uid).
pub const PATIENT_DATA: &str = "patient_data";

/// Every column family, in creation order.
pub const ALL: [&str; 10] = [
    META,
    DIRECTORY,
    LOG,
    RECORD_INDEX,
    PUSHED,
    SITE_QUEUES,
    PATIENT_JOINS,
    LOOKUPS,
    PATIENT_IDS,
    PATIENT_DATA,
];

/// Options for the database and each column family.
pub fn options(block_cache_mib: usize) -> Result<(Options, Vec<ColumnFamilyDescriptor>), rocksdb::Error> {
    let mut db = Options::default();
    // Compactions run niced, like the pull threads (see http::priority): they can wait, a
    // satellite's count or acknowledgement should not. Flushes keep their priority, so that
    // writes never stall behind a full memtable.
    let mut env = Env::new()?;
    env.lower_thread_pool_cpu_priority();
    db.set_env(&env);
    db.create_if_missing(true);
    db.create_missing_column_families(true);
    db.set_max_background_jobs(2);
    db.set_bytes_per_sync(1 << 20);
    db.set_keep_log_file_num(5);
    // Group commit: concurrent synced writes share one fsync of the WAL.
    db.set_enable_pipelined_write(true);
    // All memtables together stay under this (ten families of 64 MiB each would not).
    db.set_db_write_buffer_size(128 << 20);
    let cache = Cache::new_lru_cache(block_cache_mib.max(8) * 1024 * 1024);
    let families = ALL
        .iter()
        .map(|name| {
            let mut cf = Options::default();
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            table.set_cache_index_and_filter_blocks(true);
            table.set_pin_l0_filter_and_index_blocks_in_cache(true);
            // Point lookups dominate (log by sequence, record index, pushed SyncIDs).
            table.set_bloom_filter(10.0, false);
            table.set_block_size(16 * 1024);
            cf.set_block_based_table_factory(&table);
            cf.set_compression_type(DBCompressionType::Lz4);
            if *name == LOG {
                cf.set_write_buffer_size(64 << 20);
            }
            if *name == PUSHED || *name == RECORD_INDEX {
                // A push asks both families about every record, and mostly hears "absent" (a new
                // SyncID, a new record): a bloom filter on the memtable answers that without a
                // search of its skip list.
                cf.set_memtable_prefix_bloom_ratio(0.05);
                cf.set_memtable_whole_key_filtering(true);
            }
            ColumnFamilyDescriptor::new(*name, cf)
        })
        .collect();
    Ok((db, families))
}
