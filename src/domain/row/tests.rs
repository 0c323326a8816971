use super::*;
use crate::domain::fields::FieldCatalogue;

const TABLES: &str = r#"
[tables.item_line]
fields = [
  { name = "ID", type = "id" },
  { name = "store_ID", type = "id" },
  { name = "quantity", type = "num" },
  { name = "pack_size", type = "num", default = "1" },
  { name = "donor_id", type = "id" },
  { name = "donor_ID", type = "id", pushed_as = ["donor_id"] },
  { name = "expiry_date", type = "date" },
  { name = "hold", type = "bool" },
  { name = "created", type = "date", default = "today" },
]

[tables.unit]
fields = [
  { name = "ID", type = "id" },
  { name = "units", type = "text" },
  { name = "order_number", type = "int" },
]
"#;

fn catalogue() -> FieldCatalogue {
    FieldCatalogue::parse(TABLES).unwrap()
}

fn push(pushed: &str, stored: Option<&str>) -> String {
    let catalogue = catalogue();
    let table = catalogue.table("item_line").map(|t| &**t);
    let normal = normalize(table, pushed.as_bytes(), ValueRules::default())
        .unwrap()
        .into_data(pushed.as_bytes().to_vec());
    let new = NewRow {
        record_id: "L1",
        today: "2024-05-06",
    };
    let row = merge(table, new, &normal, stored.map(str::as_bytes)).unwrap();
    let text = String::from_utf8(row).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).expect("a row is JSON");
    text
}

#[test]
fn an_insert_is_completed_with_defaults_in_catalogue_order() {
    let row = push(r#"{"quantity": 10, "store_ID": "S1", "batch": "A1"}"#, None);
    assert_eq!(
        row,
        r#"{"ID":"L1","store_ID":"S1","quantity":"10","pack_size":"1","donor_id":"","donor_ID":"","expiry_date":"0000-00-00T00:00:00","hold":"false","created":"2024-05-06T00:00:00","batch":"A1"}"#
    );
}

#[test]
fn an_update_changes_only_what_it_carries() {
    let first = push(
        r#"{"ID":"L1","quantity":"10","hold":true,"note":"kept","batch":"A1"}"#,
        None,
    );
    let second = push(r#"{"quantity":"7","batch":"A2","extra":1}"#, Some(&first));
    assert_eq!(
        second,
        r#"{"ID":"L1","store_ID":"","quantity":"7","pack_size":"1","donor_id":"","donor_ID":"","expiry_date":"0000-00-00T00:00:00","hold":"true","created":"2024-05-06T00:00:00","note":"kept","batch":"A2","extra":1}"#
    );
    // Merging the whole row again changes nothing.
    assert_eq!(push(&second, Some(&second)), second);
}

#[test]
fn another_name_of_a_field_writes_it_unless_its_own_name_is_there() {
    let row = push(r#"{"donor_id":"D1"}"#, None);
    assert!(row.contains(r#""donor_id":"D1","donor_ID":"D1""#), "{row}");
    let row = push(r#"{"donor_ID":"D2","donor_id":"D1"}"#, None);
    assert!(row.contains(r#""donor_id":"D1","donor_ID":"D2""#), "{row}");
}

#[test]
fn a_push_already_in_the_stored_form_is_kept_as_it_is() {
    let catalogue = catalogue();
    let table = catalogue.table("item_line").map(|t| &**t);
    let stored = br#"{"ID":"L1","quantity":"10","hold":"true","batch":"A1"}"#;
    assert_eq!(normalize(table, stored, ValueRules::default()).unwrap().data, None);
    for changed in [
        &br#"{"ID":"L1","quantity":10}"#[..],
        br#"{"donor_id":"D"}"#,
        br#"{"x":1,"x":2}"#,
    ] {
        assert!(normalize(table, changed, ValueRules::default()).unwrap().data.is_some());
    }
}

#[test]
fn a_whole_row_is_known_as_one_and_merges_into_nothing_as_it_is() {
    let catalogue = catalogue();
    let table = catalogue.table("unit").map(|t| &**t);
    let new = NewRow {
        record_id: "U1",
        today: "2024-05-06",
    };
    let whole = r#"{"ID":"U1","units":"tab","order_number":"2","note":"kept"}"#;
    let normal = normalize(table, whole.as_bytes(), ValueRules::default()).unwrap();
    assert_eq!(normal.data, None, "kept as pushed");
    assert!(normal.whole);
    assert_eq!(merge(table, new, whole.as_bytes(), None).unwrap(), whole.as_bytes());
    // A converted value: rewritten, in order, still whole.
    let converted = r#"{"note":"kept","order_number":2,"ID":"U1","units":"tab"}"#;
    let normal = normalize(table, converted.as_bytes(), ValueRules::default()).unwrap();
    assert!(normal.whole);
    assert_eq!(normal.data.as_deref(), Some(whole.as_bytes()));
    for not_whole in [
        r#"{"ID":"U1","units":"tab"}"#,
        r#"{"ID":"U1","note":"kept","units":"tab","order_number":"2"}"#,
        r#"{"units":"tab","ID":"U1","order_number":"2"}"#,
    ] {
        let normal = normalize(table, not_whole.as_bytes(), ValueRules::default()).unwrap();
        assert!(!normal.whole, "{not_whole}");
    }
}

#[test]
fn a_value_that_is_not_its_type_names_the_field() {
    let catalogue = catalogue();
    let table = catalogue.table("item_line").map(|t| &**t);
    let error = normalize(table, br#"{"quantity":"lots"}"#, ValueRules::default()).unwrap_err();
    assert_eq!(error.to_string(), r#"field quantity: "lots" is not a number"#);
    assert_eq!(
        normalize(table, b"[1]", ValueRules::default()),
        Err(RowError::NotAnObject)
    );
    assert_eq!(
        normalize(table, br#"{"a":1,}"#, ValueRules::default()),
        Err(RowError::NotAnObject)
    );
}

#[test]
fn a_table_the_catalogue_does_not_know_is_merged_as_pushed() {
    let first = br#"{"a": 1, "b": {"c": [1, "}"]}}"#;
    assert_eq!(
        normalize(None, first, ValueRules::default()).map(|n| n.data),
        Ok(None),
        "kept as pushed"
    );
    let new = NewRow {
        record_id: "X",
        today: "2024-05-06",
    };
    let row = merge(None, new, first, None).unwrap();
    assert_eq!(row, br#"{"a":1,"b":{"c": [1, "}"]}}"#);
    let later = merge(None, new, br#"{"b":null,"d":"e"}"#, Some(&row)).unwrap();
    assert_eq!(later, br#"{"a":1,"b":null,"d":"e"}"#);
}

#[test]
fn members_read_every_kind_of_value_and_refuse_broken_objects() {
    let members: Vec<(String, TokenKind)> =
        Members::new(br#" { "s" : "a\"b" , "n":-1.5e3,"t":true,"f":false,"z":null,"o":{"x":"{"},"a":[[]] } "#)
            .map(|m| {
                let (key, token) = m.unwrap();
                (String::from_utf8(key.to_vec()).unwrap(), token.kind)
            })
            .collect();
    let kinds: Vec<TokenKind> = members.iter().map(|(_, k)| *k).collect();
    assert_eq!(
        kinds,
        [
            TokenKind::String,
            TokenKind::Number,
            TokenKind::True,
            TokenKind::False,
            TokenKind::Null,
            TokenKind::Object,
            TokenKind::Array
        ]
    );
    assert_eq!(members[0].0, "\"s\"");
    for broken in [
        &b"{"[..],
        b"{\"a\"}",
        b"{\"a\":tru}",
        b"{\"a\":1 \"b\":2}",
        b"[]",
        b"{\"a\":\"open}",
    ] {
        assert!(
            Members::new(broken).any(|m| m.is_err()),
            "{}",
            String::from_utf8_lossy(broken)
        );
    }
    assert_eq!(Members::new(b"{}").count(), 0);
}

#[test]
fn a_text_row_escapes_its_values_and_reads_back() {
    let row = text_row(&[("comment", "a \"quoted\" note"), ("status", "nw")]);
    assert_eq!(row, br#"{"comment":"a \"quoted\" note","status":"nw"}"#.to_vec());
    assert_eq!(Members::new(&row).count(), 2);
}

#[test]
fn picks_only_named_fields_with_their_text() {
    let data = br#"{"ID":"a","store_ID":"S1","n":12,"nested":{"store_ID":"no"},"flag":true,"nul":null}"#;
    let got = string_fields(data, &["store_ID", "n", "flag", "nul", "missing"]);
    let values: Vec<Option<&str>> = got.iter().map(|(_, v)| v.as_deref()).collect();
    assert_eq!(values, vec![Some("S1"), Some("12"), Some("true"), None, None]);
}

#[test]
fn non_objects_give_nothing() {
    assert_eq!(string_fields(b"[1,2]", &["a"]), vec![("a".to_string(), None)]);
    assert_eq!(string_fields(b"", &["a"]), vec![("a".to_string(), None)]);
}

proptest::proptest! {
    /// Whatever order a push lists its fields in, the row is the same.
    #[test]
    fn rows_do_not_depend_on_the_order_pushed(rotate in 0usize..4, quantity in 0u32..1000) {
        let mut fields = [
            format!(r#""quantity":"{quantity}""#),
            r#""store_ID":"S1""#.to_string(),
            r#""hold":"true""#.to_string(),
            r#""x":"y""#.to_string(),
        ];
        let forward = push(&format!("{{{}}}", fields.join(",")), None);
        fields.rotate_left(rotate);
        let rotated = push(&format!("{{{}}}", fields.join(",")), None);
        proptest::prop_assert_eq!(forward, rotated);
    }

    /// A string value is read to its end whatever its length and escapes (the short ones by the
    /// byte loop, the rest by memchr, an escape near the switch from one to the other).
    #[test]
    fn strings_end_where_they_end(text in "[a\\\\\"é ]{0,40}", key in "[k\\\"]{1,20}") {
        let value = serde_json::to_string(&text).unwrap();
        let key_json = serde_json::to_string(&key).unwrap();
        let row = format!("{{{key_json}:{value},\"next\":1}}");
        let members: Vec<(&[u8], Token<'_>)> = Members::new(row.as_bytes()).map(Result::unwrap).collect();
        proptest::prop_assert_eq!(members.len(), 2);
        proptest::prop_assert_eq!(members[0].0, key_json.as_bytes());
        proptest::prop_assert_eq!(members[0].1.raw, value.as_bytes());
        proptest::prop_assert_eq!(unescape(members[0].1.raw).unwrap(), text);
    }
}

#[test]
fn text_fields_reads_every_field_in_order_as_string_fields_reads_one() {
    let data = br#"{"b":"x\"y","a":5,"c":null,"d":true,"e":{"k":1}}"#;
    let all = text_fields(data);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["b", "a", "c", "d", "e"]);
    for (name, value) in &all {
        assert_eq!(string_fields(data, &[name]).pop().unwrap().1, *value, "{name}");
    }
    assert_eq!(all[0].1.as_deref(), Some("x\"y"));
    assert!(text_fields(b"[1]").is_empty());
}
