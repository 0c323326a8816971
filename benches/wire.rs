//! Hot paths of the wire formats, v1, v2 and v5 side by side: decoding a pushed batch of 500,
//! encoding a pulled batch of 500, decoding an acknowledgement of 500 ids (v1 acknowledges in
//! v2's shape, through the same function). (Push, pull and dump
//! through storage are in `sync.rs` and the load-test harness.)

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use satsync::domain::ids::SiteId;
use satsync::domain::numbering::Numbering;
use satsync::domain::row;
use satsync::store::LogEntry;
use satsync::sync::Outgoing;
use satsync::wire::{v1, v2, v5};

// The allocator the server runs with: glibc's returns large buffers to the OS after each
// iteration and the next one pays for the page faults (an 8x gap between rayon_1 and rayon_2
// that the server does not have).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn push_body(n: usize) -> String {
    let records: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"SyncID":"{i:032X}","RecordType":"trans_line","RecordID":"{:032X}","SyncType":"U","StoreID":"6CFDCD1916B098478422A489625AB9E7","Data":{{"ID":"{:032X}","transaction_ID":"FD4480004DD011E683E8EB63F3681C9A","item_ID":"0A1B2C3D4E5F60718293A4B5C6D7E8F9","quantity":"{i}","cost_price":"1.25","store_ID":"6CFDCD1916B098478422A489625AB9E7","expiry_date":"2016-07-19T00:00:00"}}}}"#,
                i + 1,
                i + 1
            )
        })
        .collect();
    format!("[{}]", records.join(","))
}

fn wire(c: &mut Criterion) {
    let body = push_body(500);
    let mut group = c.benchmark_group("v2");
    group.throughput(Throughput::Elements(500));
    group.bench_function("decode_push_500", |b| {
        b.iter(|| v2::decode_push(body.as_bytes(), 1000).unwrap())
    });

    let outgoing: Vec<Outgoing> = v2::decode_push(body.as_bytes(), 1000)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let entry = LogEntry {
                origin: SiteId(2),
                audiences: vec![],
                record: p.record,
            };
            let sync_id: [u8; 32] = format!("{i:032X}").into_bytes().try_into().unwrap();
            Outgoing::new(sync_id, entry.encode()).unwrap()
        })
        .collect();
    group.bench_function("encode_pull_500", |b| b.iter(|| v2::encode_records(&outgoing)));

    let ids: Vec<String> = outgoing.iter().map(|o| o.sync_id().to_string()).collect();
    let ack = serde_json::json!({ "SyncRecordIDs": ids }).to_string().into_bytes();
    group.bench_function("decode_ack_500", |b| {
        b.iter_batched(
            || ack.clone(),
            |mut body| v2::decode_acknowledgement(&mut body).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // The same body through serde_json, the alternative to simd-json on this path: the two are
    // measured side by side so that the choice rests on the numbers (see BENCHMARKS.md).
    #[derive(serde::Deserialize)]
    struct Acknowledgement<'a> {
        #[serde(rename = "SyncRecordIDs", borrow)]
        ids: Vec<std::borrow::Cow<'a, str>>,
    }
    group.bench_function("decode_ack_500_serde_json", |b| {
        b.iter_batched(
            || ack.clone(),
            |body| {
                let parsed: Acknowledgement<'_> = serde_json::from_slice(&body).unwrap();
                parsed
                    .ids
                    .into_iter()
                    .map(|id| id.into_owned())
                    .collect::<Vec<String>>()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();

    // v5: the same records in open-mSupply's envelope.
    let v5_body = {
        let records: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&body)
            .unwrap()
            .iter()
            .map(|r| {
                serde_json::json!({"syncOutId": r["SyncID"], "tableName": r["RecordType"], "recordId": r["RecordID"],
                    "action": "update", "recordData": r["Data"]})
                .to_string()
            })
            .collect();
        format!(r#"{{"queueLength":0,"data":[{}]}}"#, records.join(","))
    };
    let v5_ack = serde_json::json!({ "syncIDs": ids }).to_string().into_bytes();
    let fields = satsync::domain::fields::FieldCatalogue::builtin();
    let mut group = c.benchmark_group("v5");
    group.throughput(Throughput::Elements(500));
    group.bench_function("decode_push_500", |b| {
        b.iter(|| v5::decode_push(v5_body.as_bytes(), 1000).unwrap())
    });
    group.bench_function("encode_pull_500", |b| {
        b.iter(|| v5::encode_queued(500, &outgoing, &fields))
    });
    group.bench_function("decode_ack_500", |b| {
        b.iter(|| v5::decode_acknowledgement(&v5_ack).unwrap())
    });
    group.finish();

    // v1: the same records numbered.
    let numbering = Numbering::builtin();
    let v1_body = {
        let mut out = b"[".to_vec();
        for (i, pushed) in v2::decode_push(body.as_bytes(), 1000).unwrap().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            v1::encode_push_record(&mut out, &pushed.sync_id, &pushed.record, &numbering).unwrap();
        }
        out.push(b']');
        out
    };
    let mut group = c.benchmark_group("v1");
    group.throughput(Throughput::Elements(500));
    group.bench_function("decode_push_500", |b| {
        b.iter(|| v1::decode_push(&v1_body, 1000, &numbering).unwrap())
    });
    group.bench_function("encode_pull_500", |b| {
        b.iter(|| v1::encode_records(&outgoing, &numbering))
    });
    group.finish();

    // Rows: the pushed trans_lines read into the stored form, then merged into a stored row
    // (an update) or completed (an insert), what a push adds to the decode above.
    let fields = satsync::domain::fields::FieldCatalogue::builtin();
    let table = fields.table("trans_line").map(|t| &**t);
    let pushed: Vec<Vec<u8>> = v2::decode_push(body.as_bytes(), 1000)
        .unwrap()
        .into_iter()
        .map(|p| p.record.data)
        .collect();
    let rules = satsync::domain::values::ValueRules::default();
    let new = |id: &'static str| row::NewRow {
        record_id: id,
        today: "2024-01-01",
    };
    let normal: Vec<Vec<u8>> = pushed
        .iter()
        .map(|d| row::normalize(table, d, rules).unwrap().into_data(d.clone()))
        .collect();
    let stored: Vec<Vec<u8>> = normal
        .iter()
        .map(|n| row::merge(table, new("L"), n, None).unwrap())
        .collect();
    let mut group = c.benchmark_group("rows");
    group.throughput(Throughput::Elements(500));
    group.bench_function("normalize_500", |b| {
        b.iter(|| {
            pushed
                .iter()
                .map(|d| row::normalize(table, d, rules).unwrap().data.map_or(0, |v| v.len()))
                .sum::<usize>()
        })
    });
    group.bench_function("complete_500", |b| {
        b.iter(|| {
            normal
                .iter()
                .map(|n| row::merge(table, new("L"), n, None).unwrap().len())
                .sum::<usize>()
        })
    });
    group.bench_function("merge_500", |b| {
        b.iter(|| {
            normal
                .iter()
                .zip(&stored)
                .map(|(n, s)| row::merge(table, new("L"), n, Some(s)).unwrap().len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, wire);
criterion_main!(benches);
