//! Slowloris: thousands of connections trickling their request headers a byte a second (or
//! sending nothing) while a real satellite syncs. One address gets no more than its cap of
//! connections; many addresses together may take every connection the primary serves, and then
//! the header time-out, counted from a connection's start however many bytes trickle in, is what
//! gives the satellite its turn. Every hostile connection is closed by the server once its time
//! is up, never before.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::support::admin::new_unit;
use crate::support::data::{batch, item, sync_ids};
use crate::support::hostile::{connect_from, hold, loopback, raise_open_file_limit, Held, Manner};
use crate::support::{register_sites, Satellite, SiteLogin, TestServer};

/// Central records the primary holds for the satellite to pull.
const CENTRAL: usize = 30;

/// A server with one satellite site and [`CENTRAL`] central records, configured by `adjust`.
async fn server_with_records(
    dir: &std::path::Path,
    adjust: impl FnOnce(&mut satsync::config::Config),
) -> (TestServer, SiteLogin) {
    let login = register_sites(dir, 1).remove(0);
    let server = TestServer::start_with(dir, adjust).await;
    let lines: Vec<String> = (0..CENTRAL as u64).map(|n| new_unit("SL", n)).collect();
    server.import(&lines.join("\n")).await;
    (server, login)
}

/// A satellite's whole cycle: it pushes, counts, pulls and acknowledges what the primary holds
/// for it, and its queue is then empty.
async fn full_cycle(satellite: &Satellite) {
    let pushed = satellite.push(&batch(&(0..5).map(item).collect::<Vec<_>>())).await;
    assert_eq!(
        (pushed.status, pushed.json["error"].as_str()),
        (200, Some("")),
        "{}",
        pushed.raw
    );
    assert_eq!(
        satellite.count().await,
        CENTRAL as u64,
        "its own push is not queued back"
    );
    let records = satellite.pull_records(500).await;
    assert_eq!(records.len(), CENTRAL);
    let acknowledged = satellite.acknowledge(&sync_ids(&records)).await;
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.raw);
    assert_eq!(satellite.count().await, 0);
}

/// Hostile connections: `count` of `manner` from each address given, each reporting when the
/// server closed it.
struct Attack {
    connected: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Held>>,
}

/// Connections being opened at once. The listener's queue of connections not yet accepted is
/// short (128); a burst of thousands overflows it, and a handshake the kernel then completes
/// with a SYN cookie but drops can leave a silent client believing it is connected to nothing.
/// A slowloris client opens its connections steadily anyway.
const OPENING_AT_ONCE: usize = 32;

impl Attack {
    fn start(server: std::net::SocketAddr, addresses: &[(IpAddr, usize, Manner)]) -> Attack {
        let (connected, closed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
        let mut tasks = Vec::new();
        for &(from, count, manner) in addresses {
            for _ in 0..count {
                let (connected, closed, opening) = (connected.clone(), closed.clone(), opening.clone());
                tasks.push(tokio::spawn(async move {
                    let permit = opening.acquire_owned().await.unwrap();
                    // Before the connection is made, so that the server's clock starts later.
                    let at = Instant::now();
                    let stream = connect_from(from, server).await;
                    drop(permit);
                    connected.fetch_add(1, Ordering::SeqCst);
                    let held = hold(stream, from, manner, at).await;
                    closed.fetch_add(1, Ordering::SeqCst);
                    held
                }));
            }
        }
        Attack {
            connected,
            closed,
            tasks,
        }
    }

    /// Waits until `count` connections were made (a guard turns a hang into a failure).
    async fn wait_connected(&self, count: usize) {
        wait_for("the hostile connections to be made", || {
            self.connected.load(Ordering::SeqCst) >= count
        })
        .await;
    }

    /// Waits for every connection to be closed by the server.
    async fn ended(self) -> Vec<Held> {
        let mut ended = Vec::new();
        for task in self.tasks {
            let held = tokio::time::timeout(Duration::from_secs(180), task)
                .await
                .expect("the server closes every hostile connection")
                .unwrap();
            ended.push(held);
        }
        ended
    }
}

async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "waited too long for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// 1,200 connections trickle from one address (its cap is the default 1,000) and 1,500 from six
/// others, all under the header time-out the primary ships with; the server holds 2,500 of the
/// 2,600 connections it serves. The satellite's whole cycle is answered while they all trickle,
/// the 200 over the cap are closed as they come, and every other one is held its 30 seconds of
/// trickling, then closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tricklers_from_many_addresses_leave_a_satellite_served_and_go_at_the_header_time_out() {
    raise_open_file_limit(6_000);
    let dir = tempfile::tempdir().unwrap();
    let (server, login) = server_with_records(dir.path(), |config| {
        config.server.max_connections = 2_600;
    })
    .await;
    let timeout = Duration::from_secs(server.primary.config.server.header_read_timeout_seconds);
    assert_eq!(
        timeout,
        Duration::from_secs(30),
        "the shipped default is what is tested"
    );
    let one = loopback(2);
    let mut addresses = vec![(one, 1_200, Manner::Trickling)];
    addresses.extend((3..=8).map(|n| (loopback(n), 250, Manner::Trickling)));
    let attack = Attack::start(server.address, &addresses);
    attack.wait_connected(2_700).await;
    // The connections over the one address's cap are closed as soon as they are accepted.
    wait_for("the connections over the cap to be closed", || {
        attack.closed.load(Ordering::SeqCst) >= 200
    })
    .await;

    full_cycle(&server.satellite(&login, "v3")).await;
    assert_eq!(
        attack.closed.load(Ordering::SeqCst),
        200,
        "the satellite was answered while 2,500 connections trickled"
    );

    let ended = attack.ended().await;
    assert_eq!(ended.len(), 2_700);
    let (refused, held): (Vec<Held>, Vec<Held>) = ended.iter().partition(|h| h.held < timeout / 2);
    assert_eq!(refused.len(), 200, "the connections over the cap");
    assert!(refused.iter().all(|h| h.from == one), "only the address over its cap");
    for connection in &held {
        assert!(connection.held >= timeout, "closed before its time: {connection:?}");
        // A byte a second all along, and closed all the same: arriving bytes do not put the
        // time-out off (if they did, a trickler would never be closed).
        assert!(
            connection.bytes_sent + 2 >= timeout.as_secs() as usize,
            "it trickled until it was closed: {connection:?}"
        );
    }
    server.stop().await;
}

/// Four addresses open 400 connections, half trickling, half silent, against a primary serving
/// 300 at most: every connection the primary serves is taken before the satellite comes, and 100
/// more wait ahead of it to be accepted. The satellite is answered once the header time-out
/// closes the first ones; silent connections are closed at the time-out like trickling ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tricklers_taking_every_connection_give_way_to_a_satellite_at_the_header_time_out() {
    raise_open_file_limit(2_000);
    let dir = tempfile::tempdir().unwrap();
    let (server, login) = server_with_records(dir.path(), |config| {
        config.server.max_connections = 300;
        config.server.header_read_timeout_seconds = 3;
    })
    .await;
    let timeout = Duration::from_secs(3);
    let addresses: Vec<_> = (2..=5)
        .map(|n| {
            let manner = if n % 2 == 0 { Manner::Trickling } else { Manner::Silent };
            (loopback(n), 100, manner)
        })
        .collect();
    let attack_began = Instant::now();
    let attack = Attack::start(server.address, &addresses);
    attack.wait_connected(400).await;

    // The satellite connects behind the 400, so the server could accept it only after closing
    // one of the first 300, at their time-out at the earliest.
    tokio::time::timeout(Duration::from_secs(120), full_cycle(&server.satellite(&login, "v3")))
        .await
        .expect("the satellite is answered though hostile connections took every place");
    assert!(
        attack_began.elapsed() >= timeout,
        "the satellite waited for a place: every one was taken"
    );

    let ended = attack.ended().await;
    for manner in [Manner::Trickling, Manner::Silent] {
        let of_manner: Vec<&Held> = ended.iter().filter(|h| h.manner == manner).collect();
        assert_eq!(of_manner.len(), 200, "{manner:?}");
        for connection in of_manner {
            assert!(connection.held >= timeout, "closed before its time: {connection:?}");
        }
    }
    server.stop().await;
}
