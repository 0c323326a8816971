//! Compression of real replies, to choose the levels (`http::compression`): pulls of 500 records
//! and dump pages of 5,000 from the standard data set (whole rows, as a satellite initialising
//! receives them), in gzip, zstd and brotli at several levels. Prints the bytes per record of
//! each before timing it; criterion's throughput gives the CPU per record.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use satsync::admin::dataset::{self, DatasetSpec};
use satsync::domain::ids::SiteId;
use satsync::http::compression::Encoding;
use satsync::store::Database;
use satsync::sync::{Catalogues, ClientKind, SyncEngine};
use satsync::wire::v2;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PRIMARY: SiteId = SiteId(1);

/// Replies of `sizes` records each, as the first site of a small standard data set pulls them
/// after asking for its initial dump.
fn replies(dir: &std::path::Path, sizes: &[usize]) -> Vec<(usize, Vec<u8>)> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let spec = DatasetSpec {
        sites: 10,
        records: 40_000,
        seed: 1,
    };
    let open = || {
        let (storage, right) = Database::open(dir, 256).unwrap().into_parts();
        SyncEngine::open(storage, right, Catalogues::builtin(), PRIMARY).unwrap()
    };
    let engine = open();
    runtime
        .block_on(dataset::load(
            &engine,
            PRIMARY,
            &spec,
            &indicatif::ProgressBar::hidden(),
        ))
        .unwrap();
    engine.shutdown();
    drop(engine);
    dataset::create_sites(&Database::open(dir, 256).unwrap(), PRIMARY, &spec).unwrap();
    let engine = open();
    let site = dataset::site_id(0);
    runtime
        .block_on(engine.initial_dump(site, false, ClientKind::Current))
        .unwrap();
    let replies = sizes
        .iter()
        .map(|&size| (size, v2::encode_records(&engine.list(site, size).unwrap())))
        .collect();
    engine.shutdown();
    replies
}

fn compression(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let candidates = [
        (Encoding::Gzip, [1, 4, 6, 9]),
        (Encoding::Zstd, [1, 3, 6, 12]),
        (Encoding::Brotli, [1, 4, 6, 9]),
    ];
    for (records, body) in replies(dir.path(), &[500, 5_000]) {
        let mut group = c.benchmark_group(format!("compress_{records}"));
        group.throughput(Throughput::Elements(records as u64));
        eprintln!(
            "{records} records: {} bytes, {:.0} bytes per record uncompressed",
            body.len(),
            body.len() as f64 / records as f64
        );
        for (encoding, levels) in candidates {
            for level in levels {
                let size = encoding.compress_at(&body, level).len();
                eprintln!(
                    "  {}-{level}: {:.1} bytes per record ({:.1}x)",
                    encoding.token(),
                    size as f64 / records as f64,
                    body.len() as f64 / size as f64
                );
                group.bench_function(format!("{}_{level}", encoding.token()), |b| {
                    b.iter(|| encoding.compress_at(&body, level))
                });
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(2));
    targets = compression
}
criterion_main!(benches);
