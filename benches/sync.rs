//! The sync core through a real RocksDB: push of a 500-record batch (durable; items, and lines of
//! one invoice), pull of 500,
//! acknowledgement of 500 ids, and dump encoding with rayon at 1 and 2 threads.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use satsync::admin::directory::{add_site, add_store, NewStore};
use satsync::domain::ids::SiteId;
use satsync::store::Database;
use satsync::sync::{Catalogues, ClientKind, SyncEngine};
use satsync::wire::v2;

// The allocator the server runs with: glibc's returns large buffers to the OS after each
// iteration and the next one pays for the page faults (an 8x gap between rayon_1 and rayon_2
// that the server does not have).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PRIMARY: SiteId = SiteId(1);

fn items(from: usize, count: usize) -> Vec<u8> {
    // Whole rows, as the satellites that keep them push them (every field of the catalogue).
    let records: Vec<String> = (from..from + count)
        .map(|n| {
            format!(
                r#"{{"SyncID":"{n:032X}","RecordType":"item","RecordID":"{n:032X}","SyncType":"U","StoreID":"","Data":{{"ID":"{n:032X}","code":"I{n}","item_name":"Item {n}","type_of":"general","default_pack_size":"1","outer_pack_size":"0","doses":"0","is_vaccine":"false","description":"","strength":"","catalogue_code":"","unit_ID":"0A1B2C3D4E5F60718293A4B5C6D7E8F9","category_ID":"","department_ID":"","cross_ref_item_ID":"","restricted_location_type_ID":"","VEN_category":"","universalcodes_code":"","volume_per_pack":"0","buy_price":"1.50"}}}}"#
            )
        })
        .collect();
    format!("[{}]", records.join(",")).into_bytes()
}

/// A push body of `count` records numbered from `from`.
type Records = fn(usize, usize) -> Vec<u8>;

/// `count` lines of one invoice (new records: the writer completes them and indexes each under
/// its invoice), as a satellite pushes a long invoice.
fn lines_of_one_invoice(from: usize, count: usize) -> Vec<u8> {
    let records: Vec<String> = (from..from + count)
        .map(|n| {
            format!(
                r#"{{"SyncID":"{n:032X}","RecordType":"trans_line","RecordID":"{n:032X}","SyncType":"U","StoreID":"AAAA","Data":{{"ID":"{n:032X}","transaction_ID":"{from:032X}","item_ID":"0A1B2C3D4E5F60718293A4B5C6D7E8F9","store_ID":"AAAA","quantity":"1","line_number":"{n}"}}}}"#
            )
        })
        .collect();
    format!("[{}]", records.join(",")).into_bytes()
}

/// An engine over a fresh database with two sites and `records` central records pushed by the
/// first; the second site is the reader.
fn engine(dir: &std::path::Path, records: usize, runtime: &tokio::runtime::Runtime) -> (SyncEngine, SiteId, SiteId) {
    let storage = Database::open(dir, 256).unwrap();
    let writer = add_site(&storage, PRIMARY, "writer", "pw", None).unwrap().id;
    let reader = add_site(&storage, PRIMARY, "reader", "pw", None).unwrap().id;
    let new = NewStore {
        id: Some("AAAA"),
        name: "reader store",
        code: "",
        name_id: None,
        site: "reader",
        supplying_store_id: "",
    };
    add_store(&storage, PRIMARY, new).unwrap();
    let (storage, right) = storage.into_parts();
    let engine = SyncEngine::open(storage, right, Catalogues::builtin(), PRIMARY).unwrap();
    for start in (0..records).step_by(1000) {
        let batch = v2::decode_push(&items(start, 1000.min(records - start)), usize::MAX).unwrap();
        runtime.block_on(engine.push(writer, batch)).unwrap();
    }
    (engine, writer, reader)
}

fn sync(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (engine, writer, reader) = engine(dir.path(), 100_000, &runtime);
    let mut group = c.benchmark_group("sync");
    group.throughput(Throughput::Elements(500));

    // What a push adds before the writer: each row read into the stored form (serially here).
    let catalogues = Catalogues::builtin();
    let table = catalogues.fields.table("item").map(|t| &**t);
    let rows: Vec<Vec<u8>> = v2::decode_push(&items(0, 500), usize::MAX)
        .unwrap()
        .into_iter()
        .map(|p| p.record.data)
        .collect();
    group.bench_function("normalize_500_items", |b| {
        b.iter(|| {
            rows.iter()
                .filter(|data| {
                    satsync::domain::row::normalize(table, data, catalogues.values)
                        .unwrap()
                        .whole
                })
                .count()
        })
    });

    let mut next = 1_000_000;
    let pushes: [(&str, Records); 2] = [
        ("push_500_durable", items),
        ("push_500_lines_of_one_invoice", lines_of_one_invoice),
    ];
    for (name, records) in pushes {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    next += 500;
                    v2::decode_push(&records(next, 500), usize::MAX).unwrap()
                },
                |batch| runtime.block_on(engine.push(writer, batch)).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }

    runtime
        .block_on(engine.initial_dump(reader, false, ClientKind::Current))
        .unwrap();
    group.bench_function("pull_500_dump_part", |b| {
        b.iter(|| v2::encode_records(&engine.list(reader, 500).unwrap()))
    });
    group.bench_function("count_during_dump", |b| b.iter(|| engine.count(reader)));

    group.bench_function("acknowledge_500", |b| {
        b.iter_batched(
            || {
                runtime
                    .block_on(engine.initial_dump(reader, false, ClientKind::Current))
                    .unwrap();
                engine
                    .list(reader, 500)
                    .unwrap()
                    .into_iter()
                    .map(|o| o.sync_id().to_string())
                    .collect::<Vec<String>>()
            },
            |ids| {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                runtime.block_on(engine.acknowledge(reader, &ids)).unwrap()
            },
            BatchSize::SmallInput,
        )
    });

    let records = engine.list(reader, 5_000).unwrap();
    group.throughput(Throughput::Elements(records.len() as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        group.bench_function(format!("encode_dump_5000_rayon_{threads}"), |b| {
            b.iter(|| pool.install(|| v2::encode_records(&records)))
        });
    }
    group.finish();
    engine.shutdown();
}

criterion_group!(benches, sync);
criterion_main!(benches);
