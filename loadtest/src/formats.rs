//! The API versions the harness drives, translated at the client boundary: the scenarios build
//! pushes and read pulls in the v2 shape (v3's format), and this module turns a v2 push into a
//! v1 or v5 one and a v1 or v5 pull reply back into the v2 pulled shape, so that the scenarios,
//! the digests and the integrity checks are the same whatever the API.
//!
//! The v2 push the harness built is read with satsync's v2 decoder, and v1's numbers come from
//! satsync's numbering (the catalogue's facts); the v1 translation itself is the harness's own
//! ([`v1`]), so that an error in satsync's v1 codec shows as a mismatch instead of being mirrored.

mod v1;

use std::borrow::Cow;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context as _};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use satsync::domain::fields::FieldCatalogue;
use satsync::domain::numbering::Numbering;
use satsync::domain::record::SyncType;
use satsync::wire::json::write_string;

/// The API the satellites speak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Api {
    /// `/sync/v3/`: the v2 record format (mSupply Mobile).
    #[default]
    V3,
    /// `/sync/v1/`: numbered tables and fields, every value text (mSupply desktop).
    V1,
    /// `/sync/v5/`: open-mSupply's envelopes; the site comes from the credentials.
    V5,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::V3 => "v3",
            Api::V1 => "v1",
            Api::V5 => "v5",
        }
    }

    /// How each call the report names is made over this API (v5 has no `count` and no `user`:
    /// their rows time the nearest call it has, so that reports of the three APIs compare).
    pub fn calls(self) -> Vec<(&'static str, String)> {
        let p = format!("/sync/{}/", self.name());
        let queue = if self == Api::V5 {
            ""
        } else {
            "&from_site=…&to_site=1"
        };
        let mut calls = vec![
            ("pull", format!("GET {p}queued_records?limit=…{queue}")),
            ("push", format!("POST {p}queued_records")),
            ("acknowledge", format!("POST {p}acknowledged_records")),
        ];
        calls.extend(match self {
            Api::V5 => [
                ("count", format!("GET {p}queued_records?limit=0 (queueLength)")),
                ("initial_dump", format!("POST {p}initialise (always the full dump)")),
                ("user", format!("GET {p}site_status")),
            ],
            _ => [
                ("count", format!("GET {p}queued_records/count")),
                ("initial_dump", format!("GET {p}initial_dump/?type=full")),
                ("user", format!("GET {p}user?store=…")),
            ],
        });
        calls
    }
}

/// The v1 numbering compiled into satsync: the one a primary the harness starts uses (a primary
/// given with `--url` must use it too for a v1 run).
pub fn numbering() -> &'static Numbering {
    static NUMBERING: OnceLock<Numbering> = OnceLock::new();
    NUMBERING.get_or_init(Numbering::builtin)
}

/// The field catalogue compiled into satsync, by which a primary the harness starts serves v5's
/// native values (a primary given with `--url` must use it too for a v5 run).
pub fn fields() -> &'static FieldCatalogue {
    static FIELDS: OnceLock<FieldCatalogue> = OnceLock::new();
    FIELDS.get_or_init(FieldCatalogue::builtin)
}

/// A v2 push body (a JSON array of v2 records, as the scenarios build it) in `api`'s shape.
pub fn push_body(api: Api, v2: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    if api == Api::V3 {
        return Ok(v2);
    }
    let records = satsync::wire::v2::decode_push(&v2, usize::MAX)
        .map_err(|e| anyhow!("the harness built an invalid push: {e}"))?;
    let mut out = Vec::with_capacity(v2.len() + 64);
    match api {
        Api::V3 => unreachable!("returned above"),
        Api::V1 => {
            let mut pushed = Vec::with_capacity(records.len());
            for record in &records {
                let table = numbering()
                    .table_named(&record.record.table)
                    .ok_or_else(|| anyhow!("v1 cannot carry table {}: it has no number", record.record.table))?;
                pushed.push(
                    v1::push_record(table, &record.sync_id, &record.record)
                        .map_err(|e| anyhow!("v1 cannot carry a record the harness pushes: {e}"))?,
                );
            }
            serde_json::to_writer(&mut out, &pushed)?;
        }
        Api::V5 => {
            // The whole change set in one push, so nothing is left to push after it.
            out.extend_from_slice(b"{\"queueLength\":0,\"data\":[");
            for (i, pushed) in records.iter().enumerate() {
                let r = &pushed.record;
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"syncOutId\":");
                write_string(&mut out, &pushed.sync_id);
                out.extend_from_slice(b",\"tableName\":");
                write_string(&mut out, &r.table);
                out.extend_from_slice(b",\"recordId\":");
                write_string(&mut out, &r.record_id);
                // Capitalised, as open-mSupply sends them.
                let action = match r.sync_type {
                    SyncType::Insert => "Insert",
                    SyncType::Update => "Update",
                    SyncType::Delete => "Delete",
                    SyncType::Merge => "Merge",
                };
                out.extend_from_slice(format!(",\"action\":\"{action}\"").as_bytes());
                match r.sync_type {
                    SyncType::Insert | SyncType::Update => {
                        out.extend_from_slice(b",\"recordData\":");
                        out.extend_from_slice(if r.data.is_empty() { b"{}" } else { &r.data });
                    }
                    SyncType::Merge => {
                        out.extend_from_slice(b",\"recordData\":{\"mergeIdToKeep\":");
                        write_string(&mut out, &r.merge_id_to_keep);
                        out.extend_from_slice(b",\"mergeIdToDelete\":");
                        write_string(&mut out, &r.merge_id_to_delete);
                        out.push(b'}');
                    }
                    SyncType::Delete => {}
                }
                out.push(b'}');
            }
            out.extend_from_slice(b"]}");
        }
    }
    Ok(out)
}

/// A record's `data` (its whole row, as the primary keeps it) as it arrives over `api`, for the
/// expected side of a digest. Unchanged over v3; over v5 in native types (numbers as numbers,
/// booleans, plain dates); over v1, which carries only numbered fields, put through the same
/// two steps the primary and the client take (named → numbered text → named).
pub fn as_received<'d>(api: Api, table: &str, data: &'d str) -> Cow<'d, str> {
    match api {
        Api::V3 => return Cow::Borrowed(data),
        Api::V5 => {
            let native = satsync::wire::v5::native_row(fields(), table, data.as_bytes());
            return Cow::Owned(String::from_utf8(native).expect("rows are UTF-8"));
        }
        Api::V1 => {}
    }
    // As the primary does: a table without a number goes out with no fields, and fields
    // without a number are left out (the data set uses none of either: see the tests).
    let Some(numbered) = numbering().table_named(table) else {
        return Cow::Borrowed("{}");
    };
    let Ok((fields, _unnumbered)) = v1::numbered(numbered, data) else {
        return Cow::Borrowed("{}");
    };
    let (numbers, values): (Vec<u32>, Vec<String>) = fields.into_iter().unzip();
    match v1::named(numbered, &numbers, &values) {
        Ok(named) => Cow::Owned(named),
        Err(_) => Cow::Borrowed("{}"),
    }
}

/// A pull reply as served, in the API it was pulled over.
#[derive(Clone)]
pub struct PullReply {
    api: Api,
    body: Bytes,
}

impl PullReply {
    pub fn new(api: Api, body: Bytes) -> PullReply {
        PullReply { api, body }
    }

    /// The bytes as served (what is counted, and saved for the nginx comparison).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The SyncIDs of the reply, in order, found without parsing the records (what a satellite
    /// needs at once to acknowledge them). When the search finds none the reply is parsed
    /// instead (an empty queue, or keys spelt otherwise); either way the digest checks them
    /// against the full parse of [`PullReply::to_v2`].
    pub fn sync_ids(&self) -> anyhow::Result<Vec<&str>> {
        let key: &[u8] = match self.api {
            Api::V3 | Api::V1 => b"\"SyncID\":\"",
            Api::V5 => b"\"syncOutId\":\"",
        };
        let body = &self.body[..];
        let mut ids = Vec::new();
        for at in memchr::memmem::find_iter(body, key) {
            let start = at + key.len();
            let Some(len) = memchr::memchr(b'"', &body[start..]) else {
                bail!("a SyncID is not terminated");
            };
            ids.push(std::str::from_utf8(&body[start..start + len])?);
        }
        if !ids.is_empty() {
            return Ok(ids);
        }
        #[derive(Deserialize)]
        struct Named<'a> {
            #[serde(rename = "SyncID", borrow)]
            id: Cow<'a, str>,
        }
        #[derive(Deserialize)]
        struct V5<'a> {
            #[serde(rename = "syncOutId", borrow)]
            id: Cow<'a, str>,
        }
        #[derive(Deserialize)]
        struct Queued<'a> {
            #[serde(borrow)]
            data: Vec<V5<'a>>,
        }
        let parsed: Vec<Cow<'_, str>> = match self.api {
            Api::V3 | Api::V1 => serde_json::from_slice::<Vec<Named<'_>>>(body)?
                .into_iter()
                .map(|r| r.id)
                .collect(),
            Api::V5 => serde_json::from_slice::<Queued<'_>>(body)?
                .data
                .into_iter()
                .map(|r| r.id)
                .collect(),
        };
        parsed
            .into_iter()
            .map(|id| match id {
                Cow::Borrowed(id) => Ok(id),
                Cow::Owned(_) => Err(anyhow!("a SyncID with escapes")),
            })
            .collect()
    }

    /// The reply in the v2 pulled shape (`[{"SyncID","RecordType","RecordID","SyncType","data"}]`):
    /// v3's as served; v1's with the tables and fields named again; v5's with its record data
    /// byte for byte.
    pub fn to_v2(&self) -> anyhow::Result<Bytes> {
        match self.api {
            Api::V3 => Ok(self.body.clone()),
            Api::V1 => v1_to_v2(&self.body).map(Bytes::from),
            Api::V5 => v5_to_v2(&self.body).map(Bytes::from),
        }
    }
}

/// One record in the v2 pulled shape, with the fields the scenarios read.
fn write_pulled(out: &mut Vec<u8>, sync_id: &str, table: &str, id: &str, sync_type: &str, data: &str) {
    out.extend_from_slice(b"{\"SyncID\":");
    write_string(out, sync_id);
    out.extend_from_slice(b",\"RecordType\":");
    write_string(out, table);
    out.extend_from_slice(b",\"RecordID\":");
    write_string(out, id);
    out.extend_from_slice(b",\"SyncType\":");
    write_string(out, sync_type);
    out.extend_from_slice(b",\"data\":");
    out.extend_from_slice(data.as_bytes());
    out.push(b'}');
}

#[derive(Deserialize)]
struct PulledV1<'a> {
    #[serde(rename = "SyncID", borrow)]
    sync_id: Cow<'a, str>,
    #[serde(rename = "TableNumber")]
    table_number: u32,
    /// Only on a record of a table the numbering lacks (`TableNumber` 0).
    #[serde(rename = "RecordType", borrow, default)]
    record_type: Option<Cow<'a, str>>,
    #[serde(rename = "RecordID", borrow)]
    record_id: Cow<'a, str>,
    #[serde(rename = "SyncType", borrow)]
    sync_type: Cow<'a, str>,
    #[serde(default)]
    fields: Vec<u32>,
    #[serde(borrow, default)]
    values: Vec<Cow<'a, str>>,
}

fn v1_to_v2(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let records: Vec<PulledV1<'_>> = serde_json::from_slice(body).context("a v1 pull reply")?;
    let mut out = Vec::with_capacity(body.len() + body.len() / 2);
    out.push(b'[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let (table, data) = if r.table_number == 0 {
            let name = r.record_type.as_deref().context("TableNumber 0 without a RecordType")?;
            if !r.fields.is_empty() {
                bail!("a record of table {name}, which has no v1 number, came with fields");
            }
            (name, Cow::Borrowed("{}"))
        } else {
            let numbered = numbering()
                .table_numbered(r.table_number)
                .with_context(|| format!("TableNumber {} is not in satsync's built-in numbering", r.table_number))?;
            let values: Vec<String> = r.values.iter().map(|v| v.to_string()).collect();
            let data = v1::named(numbered, &r.fields, &values).map_err(|e| anyhow!("a v1 record: {e}"))?;
            (numbered.name.as_str(), Cow::Owned(data))
        };
        write_pulled(&mut out, &r.sync_id, table, &r.record_id, &r.sync_type, &data);
    }
    out.push(b']');
    Ok(out)
}

#[derive(Deserialize)]
struct QueuedV5<'a> {
    #[serde(borrow)]
    data: Vec<RecordV5<'a>>,
}

#[derive(Deserialize)]
struct RecordV5<'a> {
    #[serde(rename = "syncOutId", borrow)]
    sync_id: Cow<'a, str>,
    #[serde(rename = "tableName", borrow)]
    table: Cow<'a, str>,
    #[serde(rename = "recordId", borrow)]
    record_id: Cow<'a, str>,
    #[serde(borrow)]
    action: Cow<'a, str>,
    /// Absent for deletes; the two ids for merges.
    #[serde(rename = "recordData", borrow, default)]
    record_data: Option<&'a RawValue>,
}

fn v5_to_v2(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let queued: QueuedV5<'_> = serde_json::from_slice(body).context("a v5 queued_records reply")?;
    let mut out = Vec::with_capacity(body.len() + 16 * queued.data.len());
    out.push(b'[');
    for (i, r) in queued.data.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let (sync_type, data) = match r.action.as_ref() {
            "insert" => ("I", r.record_data.map_or("{}", |d| d.get())),
            "update" => ("U", r.record_data.map_or("{}", |d| d.get())),
            // A merge's recordData names the two records, it is not the record's data.
            "delete" => ("D", "{}"),
            "merge" => ("M", "{}"),
            other => bail!("a v5 record with action \"{other}\""),
        };
        write_pulled(&mut out, &r.sync_id, &r.table, &r.record_id, sync_type, data);
    }
    out.push(b']');
    Ok(out)
}

/// A `central_records` page (`{"maxCursor","data":[{"ID": n, …}]}`) in the `queued_records`
/// shape, each record's `ID` as its `syncOutId` (`c<ID>`, so that it is never taken for a queued
/// one), with the last `ID`; None for an empty page (the feed is read to its end: the server
/// never answers an empty page below `maxCursor`).
pub fn central_as_queued(body: &[u8]) -> anyhow::Result<Option<(u64, Vec<u8>)>> {
    #[derive(Deserialize)]
    struct Central<'a> {
        #[serde(borrow, default)]
        data: Vec<CentralRecord<'a>>,
    }
    #[derive(Deserialize)]
    struct CentralRecord<'a> {
        #[serde(rename = "ID")]
        id: u64,
        #[serde(rename = "tableName", borrow)]
        table: Cow<'a, str>,
        #[serde(rename = "recordId", borrow)]
        record_id: Cow<'a, str>,
        #[serde(borrow)]
        action: Cow<'a, str>,
        #[serde(rename = "recordData", borrow, default)]
        record_data: Option<&'a RawValue>,
    }
    let page: Central<'_> = serde_json::from_slice(body).context("a v5 central_records reply")?;
    let Some(last) = page.data.last().map(|r| r.id) else {
        return Ok(None);
    };
    // Written by hand so that each record's data stays byte for byte as served.
    let mut out = Vec::with_capacity(body.len() + 16 * page.data.len());
    out.extend_from_slice(b"{\"queueLength\":0,\"data\":[");
    for (i, r) in page.data.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"syncOutId\":");
        write_string(&mut out, &format!("c{}", r.id));
        for (key, value) in [
            ("tableName", &r.table),
            ("recordId", &r.record_id),
            ("action", &r.action),
        ] {
            out.extend_from_slice(format!(",\"{key}\":").as_bytes());
            write_string(&mut out, value);
        }
        if let Some(raw) = r.record_data {
            out.extend_from_slice(b",\"recordData\":");
            out.extend_from_slice(raw.get().as_bytes());
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(Some((last, out)))
}

/// The `code: message` of a v5 error body (`{"error":{"code","message"}}`).
pub fn v5_error(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        error: Error,
    }
    #[derive(Deserialize)]
    struct Error {
        code: String,
        message: String,
    }
    let body: Body = serde_json::from_slice(body).ok()?;
    Some(format!("{}: {}", body.error.code, body.error.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use satsync::admin::dataset::{generate, DatasetSpec};

    const V2_PUSH: &str = r#"[{"SyncID":"P1","RecordType":"item","RecordID":"A","SyncType":"U","StoreID":"","Data":{"ID":"A","code":"X","item_name":"Injected 7","doses":2,"is_vaccine":true}},
        {"SyncID":"P2","RecordType":"trans_line","RecordID":"B","SyncType":"I","StoreID":"S","Data":{"ID":"B","quantity":"3","store_ID":"S"}},
        {"SyncID":"P3","RecordType":"trans_line","RecordID":"C","SyncType":"D","StoreID":"S"}]"#;

    #[test]
    fn a_v2_push_reaches_the_primary_as_the_same_records_over_v1_and_v5() {
        let sent = satsync::wire::v2::decode_push(V2_PUSH.as_bytes(), 10).unwrap();
        let v5 = push_body(Api::V5, V2_PUSH.as_bytes().to_vec()).unwrap();
        let got = satsync::wire::v5::decode_push(&v5, 10).unwrap();
        assert_eq!(got.queue_length, 0);
        for (sent, got) in sent.iter().zip(&got.records) {
            assert_eq!(
                (
                    &got.sync_id,
                    &got.record.table,
                    &got.record.record_id,
                    got.record.sync_type
                ),
                (
                    &sent.sync_id,
                    &sent.record.table,
                    &sent.record.record_id,
                    sent.record.sync_type
                )
            );
            assert_eq!(got.record.data, sent.record.data, "v5 keeps the data byte for byte");
        }
        let v1 = push_body(Api::V1, V2_PUSH.as_bytes().to_vec()).unwrap();
        let got = satsync::wire::v1::decode_push(&v1, 10, numbering()).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0].record.data,
            br#"{"ID":"A","code":"X","item_name":"Injected 7","doses":"2","is_vaccine":"true"}"#
        );
        assert_eq!(got[1].record.store_id, "S");
        assert_eq!(got[2].record.sync_type, SyncType::Delete);
        assert_eq!(push_body(Api::V3, b"[]".to_vec()).unwrap(), b"[]");
    }

    #[test]
    fn v1_refuses_to_push_a_field_it_cannot_carry() {
        let body = br#"[{"SyncID":"P","RecordType":"item","RecordID":"A","SyncType":"U","StoreID":"","Data":{"ID":"A","v":"1"}}]"#;
        let error = push_body(Api::V1, body.to_vec()).unwrap_err().to_string();
        assert!(error.contains("field v of table item"), "{error}");
    }

    #[test]
    fn v1_replies_come_back_named_with_text_values() {
        let item = numbering().table_named("item").unwrap().number;
        let body = format!(
            r#"[{{"SyncID":"S1","TableNumber":{item},"RecordID":"A","KeyFieldID":1,"SyncType":"U","StoreID":"","mergeIDtokeep":"","mergeIDtodelete":"","fields":[1,3,7],"values":["A","Item \"1\"","2"]}},
               {{"SyncID":"S2","TableNumber":0,"RecordType":"custom","RecordID":"B","KeyFieldID":1,"SyncType":"D","StoreID":"","mergeIDtokeep":"","mergeIDtodelete":"","fields":[],"values":[]}}]"#
        );
        let reply = PullReply::new(Api::V1, Bytes::from(body));
        assert_eq!(reply.sync_ids().unwrap(), ["S1", "S2"]);
        assert_eq!(
            std::str::from_utf8(&reply.to_v2().unwrap()).unwrap(),
            r#"[{"SyncID":"S1","RecordType":"item","RecordID":"A","SyncType":"U","data":{"ID":"A","item_name":"Item \"1\"","doses":"2"}},{"SyncID":"S2","RecordType":"custom","RecordID":"B","SyncType":"D","data":{}}]"#
        );
        let expected = as_received(Api::V1, "item", r#"{"ID":"A","item_name":"Item \"1\"","doses":2}"#);
        assert_eq!(expected, r#"{"ID":"A","item_name":"Item \"1\"","doses":"2"}"#);
        assert_eq!(as_received(Api::V5, "item", r#"{"doses":2}"#), r#"{"doses":2}"#);
    }

    #[test]
    fn v5_replies_come_back_with_their_data_byte_for_byte() {
        let body = br#"{"queueLength":3,"data":[
            {"syncOutId":"A1","tableName":"item","recordId":"X","action":"update","recordData":{"ID":"X", "doses":2}},
            {"syncOutId":"B2","tableName":"item","recordId":"Y","action":"delete"},
            {"syncOutId":"C3","tableName":"name","recordId":"Z","action":"merge","recordData":{"mergeIdToKeep":"K","mergeIdToDelete":"Z"}}]}"#;
        let reply = PullReply::new(Api::V5, Bytes::from_static(body));
        assert_eq!(reply.sync_ids().unwrap(), ["A1", "B2", "C3"]);
        assert_eq!(
            std::str::from_utf8(&reply.to_v2().unwrap()).unwrap(),
            r#"[{"SyncID":"A1","RecordType":"item","RecordID":"X","SyncType":"U","data":{"ID":"X", "doses":2}},{"SyncID":"B2","RecordType":"item","RecordID":"Y","SyncType":"D","data":{}},{"SyncID":"C3","RecordType":"name","RecordID":"Z","SyncType":"M","data":{}}]"#
        );
        let empty = PullReply::new(Api::V5, Bytes::from_static(br#"{"queueLength":0,"data":[]}"#));
        assert!(empty.sync_ids().unwrap().is_empty());
        assert_eq!(&empty.to_v2().unwrap()[..], b"[]");
        assert_eq!(
            v5_error(br#"{"error":{"code":"SITE_AUTH_FAILED","message":"no","data":null}}"#).unwrap(),
            "SITE_AUTH_FAILED: no"
        );
    }

    #[test]
    fn sync_ids_are_found_in_order_whatever_the_key_order() {
        let ours = br#"[{"SyncID":"A1","RecordType":"item","RecordID":"x","SyncType":"U","data":{"SyncID ":"no"}},{"SyncID":"B2","RecordType":"item","RecordID":"y","SyncType":"U","data":{}}]"#;
        assert_eq!(
            PullReply::new(Api::V3, Bytes::from_static(ours)).sync_ids().unwrap(),
            ["A1", "B2"]
        );
        let spaced = br#"[{"RecordType":"item", "SyncID" : "C3","RecordID":"z","SyncType":"D","data":{}}]"#;
        assert_eq!(
            PullReply::new(Api::V3, Bytes::from_static(spaced)).sync_ids().unwrap(),
            ["C3"]
        );
        assert!(PullReply::new(Api::V3, Bytes::from_static(b"[]"))
            .sync_ids()
            .unwrap()
            .is_empty());
    }

    /// The v1 digests compare every field of the standard data set only if v1 can carry them
    /// all: a field without a number would be left out of both sides alike.
    #[test]
    fn the_standard_data_set_uses_numbered_tables_and_fields_only() {
        let spec = DatasetSpec {
            sites: 3,
            records: 3000,
            seed: 1,
        };
        generate(&spec, |g| {
            let table = numbering()
                .table_named(g.table)
                .unwrap_or_else(|| panic!("table {} has no v1 number", g.table));
            let (_, unnumbered) = v1::numbered(table, g.data).unwrap();
            assert!(unnumbered.is_empty(), "{}: {unnumbered:?} have no v1 number", g.table);
        });
    }
}
