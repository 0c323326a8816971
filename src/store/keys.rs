//! Every key satsync writes, built and parsed here and nowhere else.
//!
//! Integers are big-endian so that byte order is numeric order; strings that share a prefix with
//! others are ended by a 0 byte so that a shorter string sorts before its extensions. Ids inside
//! keys are in key form (upper case, see `domain::ids::key_form`).

use crate::domain::ids::{key_form, SiteId};

/// `meta`: the storage format version, checked on open.
pub const META_FORMAT_VERSION: &[u8] = b"format_version";
/// `meta`: the next sequence number to hand out (never reused, even when its entry is gone).
pub const META_NEXT_SEQ: &[u8] = b"next_seq";
/// `meta`: log entries superseded by the last write, deleted by the next one (see ARCHITECTURE.md).
pub const META_GC_PENDING: &[u8] = b"gc_pending";

/// `meta`: present once `lookups` holds an entry for every stored record (databases written
/// before lookups existed are indexed once, when the engine opens them).
pub const META_LOOKUPS_BUILT: &[u8] = b"lookups_built";

/// `meta`: the skip log, one entry per record an operator removed from a satellite's queue:
/// `skipped/`, site, time in microseconds since the epoch, so a site's skips list in order.
pub fn skip_key(site: SiteId, at_micros: u64) -> Vec<u8> {
    let mut key = skip_prefix(site);
    key.extend_from_slice(&at_micros.to_be_bytes());
    key
}

pub fn skip_prefix(site: SiteId) -> Vec<u8> {
    let mut key = b"skipped/".to_vec();
    key.extend_from_slice(&site.0.to_be_bytes());
    key
}

/// `lookups`: (table, the parent id a record refers to, the record's id) → (). A prefix scan on
/// (table, parent) lists the records of that table that refer to the parent.
pub fn lookup_key(table: &str, parent_id: &str, record_id: &str) -> Vec<u8> {
    let mut key = lookup_prefix(table, parent_id);
    key.extend_from_slice(key_form(record_id).as_bytes());
    key
}

pub fn lookup_prefix(table: &str, parent_id: &str) -> Vec<u8> {
    let parent = key_form(parent_id);
    let mut key = Vec::with_capacity(table.len() + parent.len() + 2);
    key.extend_from_slice(table.as_bytes());
    key.push(0);
    key.extend_from_slice(parent.as_bytes());
    key.push(0);
    key
}

/// `log`: sequence number → the latest state of one record.
pub fn log_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub fn parse_log_key(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// `record_index`: (table, record id) → sequence number of the record's log entry.
pub fn record_key(table: &str, record_id: &str) -> Vec<u8> {
    let id = key_form(record_id);
    let mut key = Vec::with_capacity(table.len() + 1 + id.len());
    key.extend_from_slice(table.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn parse_record_key(key: &[u8]) -> Option<(&str, &str)> {
    let split = key.iter().position(|b| *b == 0)?;
    let table = std::str::from_utf8(&key[..split]).ok()?;
    let id = std::str::from_utf8(&key[split + 1..]).ok()?;
    Some((table, id))
}

/// `pushed`: (origin site, the SyncID it gave) → sequence number the push was applied at.
/// SyncIDs are unique per sender, not across senders, hence the site in front.
pub fn pushed_key(site: SiteId, sync_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(4 + sync_id.len());
    key.extend_from_slice(&site.0.to_be_bytes());
    key.extend_from_slice(sync_id.as_bytes());
    key
}

pub fn parse_pushed_key(key: &[u8]) -> Option<(SiteId, &str)> {
    let site = u32::from_be_bytes(key.get(..4)?.try_into().ok()?);
    Some((SiteId(site), std::str::from_utf8(&key[4..]).ok()?))
}

/// `site_queues`: site → that satellite's queue position, acknowledgements and dump state.
pub fn site_queue_key(site: SiteId) -> [u8; 4] {
    site.0.to_be_bytes()
}

pub fn parse_site_queue_key(key: &[u8]) -> Option<SiteId> {
    Some(SiteId(u32::from_be_bytes(key.try_into().ok()?)))
}

/// `directory` entries, one prefix byte per kind.
pub const DIRECTORY_SITE: u8 = b's';
pub const DIRECTORY_STORE: u8 = b't';
pub const DIRECTORY_USER: u8 = b'u';

pub fn site_key(site: SiteId) -> [u8; 5] {
    let mut key = [DIRECTORY_SITE, 0, 0, 0, 0];
    key[1..].copy_from_slice(&site.0.to_be_bytes());
    key
}

pub fn store_key(store_id: &str) -> Vec<u8> {
    let mut key = vec![DIRECTORY_STORE];
    key.extend_from_slice(key_form(store_id).as_bytes());
    key
}

pub fn user_key(name: &str) -> Vec<u8> {
    let mut key = vec![DIRECTORY_USER];
    key.extend_from_slice(name.as_bytes());
    key
}

/// `patient_joins`: (patient name id, store id) → (). A prefix scan on the name id lists the
/// stores a patient is visible to.
pub fn join_key(name_id: &str, store_id: &str) -> Vec<u8> {
    let mut key = join_prefix(name_id);
    key.extend_from_slice(key_form(store_id).as_bytes());
    key
}

pub fn join_prefix(name_id: &str) -> Vec<u8> {
    let mut key = key_form(name_id).into_bytes();
    key.push(0);
    key
}

pub fn parse_join_key(key: &[u8]) -> Option<(&str, &str)> {
    parse_record_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn log_keys_round_trip_and_sort_numerically(a: u64, b: u64) {
            prop_assert_eq!(parse_log_key(&log_key(a)), Some(a));
            prop_assert_eq!(a.cmp(&b), log_key(a).cmp(&log_key(b)));
        }

        #[test]
        fn record_keys_round_trip_in_key_form(table in "[A-Za-z_]{1,20}", id in "[a-fA-F0-9]{1,32}") {
            let key = record_key(&table, &id);
            let upper = id.to_ascii_uppercase();
            prop_assert_eq!(parse_record_key(&key), Some((table.as_str(), upper.as_str())));
            prop_assert_eq!(record_key(&table, &id.to_ascii_lowercase()), key);
        }

        #[test]
        fn record_keys_group_by_table(t1 in "[a-z]{1,8}", t2 in "[a-z]{1,8}", i1 in "[A-F0-9]{1,8}", i2 in "[A-F0-9]{1,8}") {
            // Every key of a table sorts before every key of a table that sorts after it.
            if t1 < t2 {
                prop_assert!(record_key(&t1, &i1) < record_key(&t2, &i2));
            }
            if t1 == t2 {
                prop_assert_eq!(i1.cmp(&i2), record_key(&t1, &i1).cmp(&record_key(&t2, &i2)));
            }
        }

        #[test]
        fn pushed_keys_round_trip_and_group_by_site(s1: u32, s2: u32, id in "[A-Za-z0-9]{0,40}") {
            let key = pushed_key(SiteId(s1), &id);
            prop_assert_eq!(parse_pushed_key(&key), Some((SiteId(s1), id.as_str())));
            if s1 < s2 {
                prop_assert!(pushed_key(SiteId(s1), &id) < pushed_key(SiteId(s2), ""));
            }
        }

        #[test]
        fn site_queue_keys_round_trip_and_sort(a: u32, b: u32) {
            prop_assert_eq!(parse_site_queue_key(&site_queue_key(SiteId(a))), Some(SiteId(a)));
            prop_assert_eq!(a.cmp(&b), site_queue_key(SiteId(a)).cmp(&site_queue_key(SiteId(b))));
            prop_assert_eq!(a.cmp(&b), site_key(SiteId(a)).cmp(&site_key(SiteId(b))));
        }

        #[test]
        fn join_keys_round_trip_and_prefix_by_name(name in "[a-f0-9]{1,32}", store in "[a-f0-9]{1,32}", other in "[a-f0-9]{1,32}") {
            let key = join_key(&name, &store);
            let (n, s) = parse_join_key(&key).unwrap();
            prop_assert_eq!(n, name.to_ascii_uppercase());
            prop_assert_eq!(s, store.to_ascii_uppercase());
            prop_assert!(key.starts_with(&join_prefix(&name)));
            if other != name {
                prop_assert!(!key.starts_with(&join_prefix(&other)));
            }
        }

        #[test]
        fn lookup_keys_list_under_their_own_table_and_parent_only(
            table in "[a-z_]{1,12}", other_table in "[a-z_]{1,12}",
            parent in "[a-f0-9]{1,32}", other in "[a-f0-9]{1,32}", id in "[a-f0-9]{1,32}",
        ) {
            let key = lookup_key(&table, &parent, &id);
            let prefix = lookup_prefix(&table, &parent);
            let upper = id.to_ascii_uppercase();
            prop_assert_eq!(key.strip_prefix(prefix.as_slice()), Some(upper.as_bytes()));
            if other != parent {
                prop_assert!(!key.starts_with(&lookup_prefix(&table, &other)));
            }
            if other_table != table {
                prop_assert!(!key.starts_with(&lookup_prefix(&other_table, &parent)));
            }
        }

        #[test]
        fn skip_keys_list_a_site_in_time_order(s1: u32, s2: u32, t1: u64, t2: u64) {
            prop_assert!(skip_key(SiteId(s1), t1).starts_with(&skip_prefix(SiteId(s1))));
            prop_assert_eq!(t1.cmp(&t2), skip_key(SiteId(s1), t1).cmp(&skip_key(SiteId(s1), t2)));
            if s1 != s2 {
                prop_assert!(!skip_key(SiteId(s1), t1).starts_with(&skip_prefix(SiteId(s2))));
            }
        }
    }

    #[test]
    fn directory_kinds_do_not_collide() {
        assert_eq!(site_key(SiteId(7))[0], DIRECTORY_SITE);
        assert_eq!(store_key("ab")[0], DIRECTORY_STORE);
        assert_eq!(user_key("ab")[0], DIRECTORY_USER);
        assert_eq!(store_key("ab"), store_key("AB"));
    }
}
