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

/// A valid JPID (UUID v4) from any 128 bits.
fn jpid(bits: u128) -> Jpid {
    let hex = format!("{bits:032x}");
    let variant = ["8", "9", "a", "b"][(bits % 4) as usize];
    let text = format!(
        "{}-{}-4{}-{variant}{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..]
    );
    Jpid::parse(&text).unwrap()
}

fn all_patient_data_keys(jpid: &Jpid, at: u64, job: &str, uid: &str) -> Vec<Vec<u8>> {
    let pid = SourcePid::parse("9E7A;3").unwrap();
    vec![
        patient_demographics_key(jpid),
        patient_source_key(jpid, &pid),
        patient_job_key(jpid, at, job),
        patient_record_key(jpid, &pid, "allergy", uid),
    ]
}

proptest! {
    #[test]
    fn patient_id_keys_are_one_per_identifier_whatever_its_case(site in "[a-f0-9]{3,6}", dfn in 0u64..100_000) {
        let lower = PatientId::parse(&format!("{site};{dfn}")).unwrap();
        let upper = PatientId::parse(&format!("{};{:05}", site.to_ascii_uppercase(), dfn)).unwrap();
        prop_assert_eq!(patient_id_key(&lower), patient_id_key(&upper));
        prop_assert_eq!(patient_id_key(&lower)[0], PATIENT_ID_JPID);
    }

    #[test]
    fn a_jpids_identifiers_round_trip_and_list_under_it_only(a: u128, b: u128, dfn: u64) {
        let (one, other) = (jpid(a), jpid(b));
        let ids = [
            PatientId::parse(&format!("9E7A;{dfn}")).unwrap(),
            PatientId::parse("10108V420871").unwrap(),
            PatientId::parse("DOD;0000000003").unwrap(),
            PatientId::parse("HDR;10108V420871").unwrap(),
            PatientId::Jpid(one.clone()),
        ];
        for id in &ids {
            let key = patient_jpid_id_key(&one, id);
            prop_assert_eq!(parse_patient_jpid_id_key(&key), Some(id.clone()));
            prop_assert!(key.starts_with(&patient_jpid_ids_prefix(&one)));
            if one != other {
                prop_assert!(!key.starts_with(&patient_jpid_ids_prefix(&other)));
            }
            // The two kinds share the family and never each other's keys.
            prop_assert_ne!(key[0], patient_id_key(id)[0]);
            prop_assert_eq!(parse_patient_jpid_id_key(&patient_id_key(id)), None);
        }
    }

    #[test]
    fn every_patient_data_key_lies_in_its_jpids_range_only(a: u128, b: u128, at: u64, job in "[a-f0-9-]{1,36}", uid in "urn:va:[a-z]{1,8}:[0-9]{1,5}") {
        let (one, other) = (jpid(a), jpid(b));
        let start = patient_data_prefix(&one);
        let end = prefix_end(&start).unwrap();
        for key in all_patient_data_keys(&one, at, &job, &uid) {
            prop_assert!(start <= key && key < end, "in the range clear deletes");
            if one != other {
                let other_start = patient_data_prefix(&other);
                let other_end = prefix_end(&other_start).unwrap();
                prop_assert!(!(other_start <= key && key < other_end), "outside another patient's range");
            }
        }
    }

    #[test]
    fn job_keys_list_in_write_order_and_round_trip(a: u128, t1: u64, t2: u64, j1 in "[a-f0-9]{8}", j2 in "[a-f0-9]{8}") {
        let id = jpid(a);
        let (k1, k2) = (patient_job_key(&id, t1, &j1), patient_job_key(&id, t2, &j2));
        prop_assert_eq!(parse_patient_job_key(&k1), Some((t1, j1.as_str())));
        prop_assert!(k1.starts_with(&patient_jobs_prefix(&id)));
        if t1 != t2 {
            prop_assert_eq!(t1.cmp(&t2), k1.cmp(&k2));
        } else {
            prop_assert_eq!(j1.cmp(&j2), k1.cmp(&k2));
        }
    }

    #[test]
    fn prefix_end_bounds_exactly_the_keys_with_the_prefix(prefix in proptest::collection::vec(any::<u8>(), 1..6), rest in proptest::collection::vec(any::<u8>(), 0..6), other in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut key = prefix.clone();
        key.extend_from_slice(&rest);
        match prefix_end(&prefix) {
            Some(end) => {
                prop_assert!(prefix <= key && key < end);
                let inside = prefix <= other && other < end;
                prop_assert_eq!(inside, other.starts_with(&prefix));
            }
            None => prop_assert!(prefix.iter().all(|b| *b == u8::MAX)),
        }
    }
}

#[test]
fn patient_data_kinds_do_not_collide() {
    let id = jpid(7);
    let keys = all_patient_data_keys(&id, 1, "job", "urn:va:allergy:9E7A:3:751");
    let prefixes = [
        patient_demographics_key(&id),
        patient_sources_prefix(&id),
        patient_jobs_prefix(&id),
        patient_records_prefix(&id),
    ];
    for (k, key) in keys.iter().enumerate() {
        for (p, prefix) in prefixes.iter().enumerate() {
            assert_eq!(key.starts_with(prefix), k == p, "key {k} under prefix {p}");
        }
    }
    assert_eq!(parse_patient_job_key(&patient_demographics_key(&id)), None);
    assert_eq!(prefix_end(&[1, 2, 0xFF]), Some(vec![1, 3]));
    assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
}
