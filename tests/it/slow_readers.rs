//! Slow readers hold bounded memory: clients that ask for the whole export (tens of MiB, streamed)
//! and then stop reading hold the primary's memory to a few chunks each, not their export, and
//! none of the threads that read pulls, so a satellite syncs meanwhile. The primary runs as its
//! own process, as operators run it, so that its resident memory can be read and its runtime is
//! the real one (pull threads bounded by `[server] read_threads`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;

use crate::support::admin::{new_unit, plain_basic, OPERATOR, PASSWORD};
use crate::support::client::fetch_text;
use crate::support::data::sync_ids;
use crate::support::process::spawn_server;
use crate::support::{register_sites, satsync_cli, write_config, Satellite, PRIMARY};

/// Records exported: enough that an export is far larger than what a stalled reader may hold.
const RECORDS: u64 = 200_000;
/// Stalled readers at once: many more than the primary's pull threads (2 by default).
const READERS: usize = 12;
/// What one stalled reader may cost the primary at most: its channel of chunks (8 × 64 KiB),
/// hyper's write buffer (about 400 KiB), its thread with its allocator's heap, RocksDB's
/// read-ahead for its iterator; about 6 MiB measured, with room to spare. An export it held
/// whole would be the whole export, several times this.
const PER_READER: u64 = 12 << 20;

/// The primary's resident memory, from /proc.
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    kib << 10
}

/// The primary's threads producing an export (each named by the export).
fn export_threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|name| name.trim() == "satsync-export")
        })
        .count()
}

/// Resident memory once it has stopped moving (three samples within 1 MiB of each other).
async fn settled_resident_bytes(pid: u32) -> u64 {
    let started = Instant::now();
    let mut samples = vec![resident_bytes(pid)];
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        samples.push(resident_bytes(pid));
        let last = &samples[samples.len().saturating_sub(3)..];
        let (low, high) = (last.iter().min().unwrap(), last.iter().max().unwrap());
        if last.len() == 3 && high - low < 1 << 20 {
            return *high;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "memory never settled: {samples:?}"
        );
    }
}

/// An export asked for on its own connection, whose body is left unread: the client's receive
/// buffer is kept small, so the server's side fills soon.
/// Aborting its task closes the connection.
async fn stalled_export(
    admin: SocketAddr,
    authorization: &str,
) -> (http::Response<Incoming>, tokio::task::JoinHandle<()>) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(admin).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = http::Request::get("/admin/v1/export")
        .header("host", "satsync")
        .header("authorization", authorization)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    (response, connection)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_export_readers_hold_a_few_chunks_each_and_no_pull_thread() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    std::fs::create_dir_all(&data).unwrap();
    let login = register_sites(&data, 1).remove(0);
    {
        let storage = satsync::store::Database::open(&data, 16).unwrap();
        satsync::admin::operators::add_operator(&storage, PRIMARY, OPERATOR, PASSWORD).unwrap();
    }
    let file = dir.path().join("units.jsonl");
    let lines: Vec<String> = (0..RECORDS).map(|n| new_unit("SR", n)).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (imported, _, stderr) = satsync_cli(&data, &["import", file.to_str().unwrap()]);
    assert!(imported, "{stderr}");
    // A small block cache, so that what the exports read through it does not blur the measure.
    let config = write_config(&dir.path().join("satsync.toml"), &data, "block_cache_mib = 8\n");
    let server = spawn_server(&config);
    let (pid, admin) = (server.pid(), server.admin.clone().unwrap());
    let authorization = plain_basic(OPERATOR, PASSWORD);

    // One export read whole: what each stalled reader is owed, and the primary warmed up by it.
    let (status, _, whole) = fetch_text(&format!("{admin}/admin/v1/export"), Some(&authorization)).await;
    assert_eq!(status, 200);
    assert!(whole.lines().count() as u64 >= RECORDS);
    let export_bytes = whole.len() as u64;
    assert!(
        export_bytes > 3 * PER_READER,
        "an export ({export_bytes} bytes) dwarfs the bound"
    );
    let before = settled_resident_bytes(pid).await;

    let address: SocketAddr = admin.strip_prefix("http://").unwrap().parse().unwrap();
    let mut stalled = Vec::new();
    for _ in 0..READERS {
        stalled.push(stalled_export(address, &authorization).await);
    }

    // The satellite counts, pulls and acknowledges while every export waits for its reader.
    let satellite = Satellite::new(&server.base, &login, "v3");
    let cycle = async {
        let queued = satellite.count().await;
        let records = satellite.pull_records(500).await;
        assert_eq!(records.len(), 500);
        let acknowledged = satellite.acknowledge(&sync_ids(&records)).await;
        assert_eq!(acknowledged.status, 200, "{}", acknowledged.raw);
        assert_eq!(satellite.count().await, queued - 500);
    };
    tokio::time::timeout(Duration::from_secs(60), cycle)
        .await
        .expect("a pull is answered while exports wait for their readers");

    let after = settled_resident_bytes(pid).await;
    assert_eq!(
        export_threads(pid),
        READERS,
        "each export is held back by its reader, none has finished"
    );
    let grown = after.saturating_sub(before);
    assert!(
        grown < READERS as u64 * PER_READER,
        "{READERS} stalled readers of a {export_bytes}-byte export grew the primary by {grown} bytes"
    );

    // A reader that resumes gets its export whole; readers that go away free their producers.
    let (resuming, _) = stalled.pop().unwrap();
    let resumed = resuming.into_body().collect().await.unwrap().to_bytes();
    assert!(resumed == whole.as_bytes(), "the resumed export is the whole export");
    for (_, connection) in stalled {
        connection.abort();
    }
    let started = Instant::now();
    while export_threads(pid) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "an export kept producing for a reader that went away"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.terminate();
}
