//! The conformance suite of a storage backend: what the sync core relies on, checked through the
//! traits of [`super::backend`] alone. A backend passes [`check`] or it is not a backend; the
//! RocksDB one is checked at the end of this file.
//!
//! What it holds a backend to: nothing is seen before its commit, everything after it, at once
//! and after a reopen; a commit needs the database's own write right; ids are one id whatever
//! their case and are held by one table; the log scans in sequence order without the entries
//! waiting for deletion; a snapshot does not see later commits; every delete deletes.

use std::path::Path;

use super::backend::{DirectoryWrites, IndexWrites, LogSnapshot, LogWrites, SyncBatch, SyncStorage, WriteRight};
use super::{LogEntry, StoreError};
use crate::domain::credentials::PasswordHash;
use crate::domain::directory::{Operator, Site, Store, User};
use crate::domain::ids::{SiteId, StoreKey};
use crate::domain::record::{SyncRecord, SyncType};
use crate::domain::routing::Audience;

/// Runs every check on fresh databases made by `open` in temporary directories (`open` is also
/// called again on a directory already used, to check what survives a reopen).
pub fn check<S: SyncStorage>(open: impl Fn(&Path) -> (S, WriteRight)) {
    let fresh = || {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (storage, right) = open(dir.path());
        (dir, storage, right)
    };
    let (_dir, storage, _) = fresh();
    an_empty_database_holds_nothing(&storage);
    // Each on a database of its own.
    let checks: [fn(&S, &WriteRight); 6] = [
        nothing_is_seen_before_the_commit_and_all_after,
        ids_are_one_whatever_their_case_and_held_by_one_table,
        the_log_scans_in_order_without_what_waits_for_deletion,
        a_snapshot_does_not_see_later_commits,
        every_delete_deletes,
        the_directory_queues_and_skips_round_trip,
    ];
    for check in checks {
        let (_dir, storage, right) = fresh();
        check(&storage, &right);
    }
    let (_dir, storage, right) = fresh();
    let (_other_dir, _other, other_right) = fresh();
    only_the_database_s_own_right_commits(&storage, &right, &other_right);
    what_was_committed_survives_a_reopen(&open);
}

fn entry(table: &str, id: &str, origin: u32) -> LogEntry {
    LogEntry {
        origin: SiteId(origin),
        audiences: vec![Audience::Store(StoreKey::new("STORE1")), Audience::Central],
        record: SyncRecord {
            table: table.to_string(),
            record_id: id.to_string(),
            sync_type: SyncType::Update,
            store_id: "STORE1".to_string(),
            key_field_id: String::new(),
            merge_id_to_keep: String::new(),
            merge_id_to_delete: String::new(),
            data: format!("{{\"ID\":\"{id}\"}}").into_bytes(),
        },
    }
}

/// One hash for every fixture (a hash is salted: two of one password differ).
fn password() -> PasswordHash {
    static HASH: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
    HASH.get_or_init(|| PasswordHash::from_password("secret")).clone()
}

fn site(id: u32) -> Site {
    Site {
        id: SiteId(id),
        name: format!("site{id}"),
        password: password(),
        hardware_id: Some(format!("hw{id}")),
        stores: vec![format!("S{id}")],
        disabled: id % 2 == 1,
    }
}

fn store(id: u32) -> Store {
    Store {
        id: format!("S{id}"),
        name: format!("Store {id}"),
        code: format!("s{id}"),
        name_id: format!("N{id}"),
        site: SiteId(id),
        supplying_store_id: String::new(),
        supplying_store_name_id: String::new(),
    }
}

fn user(name: &str) -> User {
    User {
        id: format!("U-{name}"),
        name: name.to_string(),
        password: password(),
        stores: vec!["S2".to_string()],
        is_admin: false,
        permissions: vec!["dispense".to_string()],
    }
}

fn operator(name: &str) -> Operator {
    Operator {
        name: name.to_string(),
        password: password(),
        tokens: vec![password()],
    }
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// Writes one of everything the sync core writes, as one batch.
fn write_one_of_each<S: SyncStorage>(storage: &S, right: &WriteRight) {
    let mut batch = storage.batch();
    batch.put_log(5, &entry("transact", "T1", 2));
    batch.put_record_seq("transact", "T1", 5);
    batch.put_log(6, &entry("trans_line", "L1", 2));
    batch.put_record_seq("trans_line", "L1", 6);
    batch.put_pushed(SiteId(2), "SYNC-A", 5);
    batch.put_join("P1", "S2");
    batch.put_lookup("trans_line", "T1", "L1");
    batch.mark_lookups_built(b"fingerprint");
    batch.put_site(&site(2));
    batch.put_store(&store(2));
    batch.put_user(&user("nurse"));
    batch.put_operator(&operator("ops"));
    batch.put_site_queue(SiteId(2), &[1, 2, 3]);
    batch.put_skip(SiteId(2), 1_000, "{\"skipped\":1}");
    batch.put_next_seq(7);
    batch.put_log_position(42);
    batch.put_patient_generation(9);
    batch.put_gc_pending(&[3, 4]);
    storage.commit(right, batch).expect("the commit");
}

/// What [`write_one_of_each`] wrote, read back through every read.
fn assert_one_of_each<S: SyncStorage>(storage: &S) {
    assert_eq!(storage.next_seq().unwrap(), 7);
    assert_eq!(storage.log_position().unwrap(), 42);
    assert_eq!(storage.patient_generation().unwrap(), 9);
    assert_eq!(storage.gc_pending().unwrap(), vec![3, 4]);
    assert_eq!(storage.log_entry(5).unwrap(), Some(entry("transact", "T1", 2)));
    assert_eq!(
        storage.log_entries(&[6, 9, 5]).unwrap(),
        vec![
            Some(entry("trans_line", "L1", 2)),
            None,
            Some(entry("transact", "T1", 2))
        ]
    );
    assert_eq!(
        storage.current("trans_line", "L1").unwrap(),
        Some(entry("trans_line", "L1", 2))
    );
    assert_eq!(storage.record_seq("transact", "T1").unwrap(), Some(5));
    assert_eq!(
        storage
            .record_seqs(&[("trans_line", "L1"), ("transact", "T2")])
            .unwrap(),
        vec![Some(6), None]
    );
    assert_eq!(storage.pushed_seq(SiteId(2), "SYNC-A").unwrap(), Some(5));
    assert_eq!(
        storage.pushed_seq(SiteId(3), "SYNC-A").unwrap(),
        None,
        "SyncIDs are per site"
    );
    assert_eq!(
        storage.pushed_many(SiteId(2), &["SYNC-B", "SYNC-A"]).unwrap(),
        vec![false, true]
    );
    assert_eq!(storage.lookup("trans_line", "T1").unwrap(), vec!["L1".to_string()]);
    assert_eq!(
        storage.lookups_fingerprint().unwrap().as_deref(),
        Some(&b"fingerprint"[..])
    );
    assert_eq!(storage.patient_stores("P1").unwrap(), vec!["S2".to_string()]);
    let directory = storage.load_directory(SiteId(1)).unwrap();
    assert_eq!(directory.site(SiteId(2)), Some(&site(2)));
    assert_eq!(directory.store("S2"), Some(&store(2)));
    assert_eq!(directory.user("nurse"), Some(&user("nurse")));
    assert_eq!(directory.operator("ops"), Some(&operator("ops")));
    assert_eq!(directory.user("ops"), None, "an operator is not a user");
    assert_eq!(directory.operator("nurse"), None, "nor a user an operator");
    assert_eq!(storage.site_queue(SiteId(2)).unwrap(), Some(vec![1, 2, 3]));
    assert_eq!(storage.site_queues().unwrap(), vec![(SiteId(2), vec![1, 2, 3])]);
    assert_eq!(storage.skips(SiteId(2)).unwrap(), vec!["{\"skipped\":1}".to_string()]);
}

fn an_empty_database_holds_nothing<S: SyncStorage>(storage: &S) {
    assert_eq!(storage.next_seq().unwrap(), 1, "an empty log starts at 1");
    assert_eq!(
        storage.log_position().unwrap(),
        0,
        "no group of a replicated log applied"
    );
    assert_eq!(storage.patient_generation().unwrap(), 0, "no patient change applied");
    assert!(storage.gc_pending().unwrap().is_empty());
    assert_eq!(storage.log_entry(1).unwrap(), None);
    let mut seen = 0;
    storage.scan_log(|_, _| seen += 1).unwrap();
    assert_eq!(seen, 0);
    assert_eq!(storage.record_seq("item", "I1").unwrap(), None);
    assert_eq!(storage.record_holders(&["I1"]).unwrap(), vec![None]);
    assert_eq!(storage.pushed_many(SiteId(2), &["X"]).unwrap(), vec![false]);
    assert!(storage.lookup("trans_line", "T1").unwrap().is_empty());
    assert_eq!(storage.lookups_fingerprint().unwrap(), None);
    assert!(storage.patient_stores("P1").unwrap().is_empty());
    assert_eq!(storage.load_directory(SiteId(1)).unwrap().sites().count(), 0);
    assert!(storage.site_queues().unwrap().is_empty());
    assert_eq!(storage.site_queue(SiteId(2)).unwrap(), None);
    assert!(storage.skips(SiteId(2)).unwrap().is_empty());
    assert_eq!(storage.snapshot().log_values(&[1, 2]).unwrap(), vec![None, None]);
}

fn nothing_is_seen_before_the_commit_and_all_after<S: SyncStorage>(storage: &S, right: &WriteRight) {
    let mut batch = storage.batch();
    batch.put_log(5, &entry("transact", "T1", 2));
    batch.put_record_seq("transact", "T1", 5);
    batch.put_next_seq(6);
    assert_eq!(storage.log_entry(5).unwrap(), None, "not before the commit");
    assert_eq!(storage.record_seq("transact", "T1").unwrap(), None);
    assert_eq!(storage.next_seq().unwrap(), 1);
    drop(batch);
    assert_eq!(storage.log_entry(5).unwrap(), None, "a batch dropped writes nothing");
    write_one_of_each(storage, right);
    assert_one_of_each(storage);
}

fn ids_are_one_whatever_their_case_and_held_by_one_table<S: SyncStorage>(storage: &S, right: &WriteRight) {
    let mut batch = storage.batch();
    batch.put_log(1, &entry("item", "abc", 2));
    batch.put_record_seq("item", "abc", 1);
    batch.put_lookup("trans_line", "t1", "l1");
    batch.put_join("p1", "s2");
    storage.commit(right, batch).unwrap();
    assert_eq!(
        storage.record_seq("item", "ABC").unwrap(),
        Some(1),
        "case does not matter"
    );
    assert_eq!(
        storage.record_seq("name", "abc").unwrap(),
        None,
        "another table's record is not it"
    );
    assert_eq!(
        storage.record_holders(&["Abc"]).unwrap(),
        vec![Some(("item".to_string(), 1))]
    );
    assert_eq!(
        storage.lookup("trans_line", "T1").unwrap(),
        vec!["L1".to_string()],
        "key form"
    );
    assert_eq!(
        storage.patient_stores("P1").unwrap(),
        vec!["S2".to_string()],
        "key form"
    );

    // The id moves to the table that writes it last.
    let mut batch = storage.batch();
    batch.put_record_seq("name", "ABC", 2);
    storage.commit(right, batch).unwrap();
    assert_eq!(storage.record_seq("item", "abc").unwrap(), None);
    assert_eq!(storage.record_seq("name", "abc").unwrap(), Some(2));
}

fn the_log_scans_in_order_without_what_waits_for_deletion<S: SyncStorage>(storage: &S, right: &WriteRight) {
    let mut batch = storage.batch();
    for seq in [300u64, 2, 70, 1, 256] {
        batch.put_log(seq, &entry("item", &format!("I{seq}"), 2));
    }
    batch.put_gc_pending(&[70]);
    storage.commit(right, batch).unwrap();
    let mut seen = Vec::new();
    storage
        .scan_log(|seq, entry| {
            assert_eq!(entry.record.record_id, format!("I{seq}"));
            seen.push(seq);
        })
        .unwrap();
    assert_eq!(seen, vec![1, 2, 256, 300], "in sequence order, 70 waiting for deletion");
}

fn a_snapshot_does_not_see_later_commits<S: SyncStorage>(storage: &S, right: &WriteRight) {
    let mut batch = storage.batch();
    for seq in 1..=40u64 {
        batch.put_log(seq, &entry("item", &format!("I{seq}"), 2));
    }
    storage.commit(right, batch).unwrap();
    let snapshot = storage.snapshot();
    let mut batch = storage.batch();
    batch.delete_log(3);
    batch.put_log(41, &entry("item", "I41", 2));
    storage.commit(right, batch).unwrap();
    let decoded = |values: Vec<Option<Vec<u8>>>| -> Vec<Option<String>> {
        values
            .iter()
            .map(|v| {
                v.as_ref()
                    .map(|b| LogEntry::decode(b).expect("decodes").record.record_id)
            })
            .collect()
    };
    // Sparse and dense, in and out of order: the values come back in the order asked.
    assert_eq!(
        decoded(snapshot.log_values(&[41, 3, 7]).unwrap()),
        vec![None, Some("I3".to_string()), Some("I7".to_string())]
    );
    let dense: Vec<u64> = (1..=41).rev().collect();
    let expected: Vec<Option<String>> = dense
        .iter()
        .map(|seq| (*seq <= 40).then(|| format!("I{seq}")))
        .collect();
    assert_eq!(decoded(snapshot.log_values(&dense).unwrap()), expected);
    assert_eq!(storage.log_entry(3).unwrap(), None, "now, 3 is gone");
    assert!(storage.log_entry(41).unwrap().is_some(), "and 41 is there");
}

fn every_delete_deletes<S: SyncStorage>(storage: &S, right: &WriteRight) {
    write_one_of_each(storage, right);
    let mut batch = storage.batch();
    batch.put_lookup("trans_line", "T2", "L2");
    batch.put_lookup("transact", "N1", "T1");
    storage.commit(right, batch).unwrap();
    let mut batch = storage.batch();
    batch.delete_log(5);
    batch.delete_join("P1", "s2");
    batch.delete_lookup("trans_line", "t1", "l1");
    storage.commit(right, batch).unwrap();
    assert_eq!(storage.log_entry(5).unwrap(), None);
    assert!(storage.patient_stores("P1").unwrap().is_empty());
    assert!(storage.lookup("trans_line", "T1").unwrap().is_empty());
    assert_eq!(storage.lookup("trans_line", "T2").unwrap(), vec!["L2".to_string()]);
    let mut batch = storage.batch();
    batch.clear_lookups();
    storage.commit(right, batch).unwrap();
    assert!(storage.lookup("trans_line", "T2").unwrap().is_empty());
    assert!(storage.lookup("transact", "N1").unwrap().is_empty());
    assert_eq!(
        storage.lookups_fingerprint().unwrap().as_deref(),
        Some(&b"fingerprint"[..]),
        "clearing the lookups is not forgetting what they were built for"
    );
    assert!(storage.log_entry(6).unwrap().is_some(), "other entries stay");
}

fn the_directory_queues_and_skips_round_trip<S: SyncStorage>(storage: &S, right: &WriteRight) {
    let mut batch = storage.batch();
    for id in [4, 2, 3] {
        batch.put_site(&site(id));
        batch.put_store(&store(id));
        batch.put_site_queue(SiteId(id), &[id as u8]);
    }
    batch.put_user(&user("nurse"));
    batch.put_user(&user("pharmacist"));
    // Skips list in time order, per site, whatever order they were written in.
    batch.put_skip(SiteId(2), 300, "third");
    batch.put_skip(SiteId(2), 100, "first");
    batch.put_skip(SiteId(3), 200, "other site");
    batch.put_skip(SiteId(2), 200, "second");
    storage.commit(right, batch).unwrap();
    // A site written again replaces the one before.
    let mut rebound = site(3);
    rebound.hardware_id = None;
    let mut batch = storage.batch();
    batch.put_site(&rebound);
    batch.put_site_queue(SiteId(3), &[9, 9]);
    storage.commit(right, batch).unwrap();

    let directory = storage.load_directory(SiteId(1)).unwrap();
    assert_eq!(directory.sites().count(), 3);
    assert_eq!(directory.site(SiteId(3)), Some(&rebound));
    assert_eq!(directory.store("s4"), Some(&store(4)), "stores by id in key form");
    assert_eq!(directory.user("pharmacist"), Some(&user("pharmacist")));
    let mut queues = storage.site_queues().unwrap();
    queues.sort();
    assert_eq!(
        queues,
        vec![(SiteId(2), vec![2]), (SiteId(3), vec![9, 9]), (SiteId(4), vec![4])]
    );
    assert_eq!(storage.skips(SiteId(2)).unwrap(), vec!["first", "second", "third"]);
    assert_eq!(storage.skips(SiteId(3)).unwrap(), vec!["other site"]);

    // Health is written in batches, replaced per site; removing a site takes its directory
    // entry, queue state and health, not its skip log nor its neighbours.
    let mut batch = storage.batch();
    batch.put_site_health(SiteId(2), b"old");
    batch.put_site_health(SiteId(4), b"four");
    storage.commit(right, batch).unwrap();
    let mut batch = storage.batch();
    batch.put_site_health(SiteId(2), b"two");
    storage.commit(right, batch).unwrap();
    let mut healths = storage.site_healths().unwrap();
    healths.sort();
    assert_eq!(
        healths,
        vec![(SiteId(2), b"two".to_vec()), (SiteId(4), b"four".to_vec())]
    );
    let mut batch = storage.batch();
    batch.delete_site(SiteId(2));
    batch.delete_store("s2");
    storage.commit(right, batch).unwrap();
    let directory = storage.load_directory(SiteId(1)).unwrap();
    assert_eq!(directory.site(SiteId(2)), None);
    assert_eq!(directory.store("S2"), None, "a store deleted by its id in any case");
    assert_eq!(directory.site(SiteId(4)), Some(&site(4)));
    assert_eq!(storage.site_queue(SiteId(2)).unwrap(), None);
    assert_eq!(storage.site_healths().unwrap(), vec![(SiteId(4), b"four".to_vec())]);
    assert_eq!(storage.skips(SiteId(2)).unwrap(), vec!["first", "second", "third"]);
}

fn only_the_database_s_own_right_commits<S: SyncStorage>(storage: &S, right: &WriteRight, other: &WriteRight) {
    let mut batch = storage.batch();
    batch.put_log(1, &entry("item", "I1", 2));
    batch.put_next_seq(2);
    assert!(matches!(storage.commit(other, batch), Err(StoreError::NotTheWriter)));
    assert_eq!(storage.log_entry(1).unwrap(), None, "nothing written");
    assert_eq!(storage.next_seq().unwrap(), 1);
    let mut batch = storage.batch();
    batch.put_log(1, &entry("item", "I1", 2));
    storage.commit(right, batch).unwrap();
    assert!(storage.log_entry(1).unwrap().is_some());
}

fn what_was_committed_survives_a_reopen<S: SyncStorage>(open: &impl Fn(&Path) -> (S, WriteRight)) {
    let dir = tempfile::tempdir().unwrap();
    {
        let (storage, right) = open(dir.path());
        write_one_of_each(&storage, &right);
        // Written, never committed: gone with the process.
        let mut batch = storage.batch();
        batch.put_log(99, &entry("item", "I99", 2));
        batch.put_patient_writes(super::PatientWrites::new());
        drop(batch);
    }
    let (storage, _) = open(dir.path());
    assert_one_of_each(&storage);
    assert_eq!(storage.log_entry(99).unwrap(), None);
    assert_eq!(
        sorted(storage.lookup("trans_line", "T1").unwrap()),
        vec!["L1".to_string()]
    );
}

#[test]
fn the_rocksdb_backend_conforms() {
    check(|path| super::Storage::open(path, 8).expect("RocksDB opens"));
}
