//! Connections per address, capped: one host holding its limit of connections open (idle, as a
//! slowloris client holds them) gets any further one closed at once, while a satellite from
//! another address syncs; a connection closed gives its place back.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::client::Satellite;
use crate::support::hostile::connect_from;
use crate::support::{register_sites, TestServer};

/// Whether a `GET /healthz` on a new connection from `local` is answered.
async fn answered_from(local: &str, server: std::net::SocketAddr) -> bool {
    let mut stream = connect_from(local.parse().unwrap(), server).await;
    let asked = stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: satsync\r\nconnection: close\r\n\r\n")
        .await;
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    asked.is_ok() && matches!(read, Ok(Ok(_))) && reply.starts_with(b"HTTP/1.1 200")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_holding_its_limit_gets_no_more_connections_while_others_sync() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 1);
    let server = TestServer::start_with(dir.path(), |config| {
        config.server.max_connections_per_address = 3;
    })
    .await;
    let address = server.address;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from("127.0.0.2".parse().unwrap(), address).await);
    }
    assert!(
        !answered_from("127.0.0.2", address).await,
        "a fourth connection is closed"
    );

    let satellite = Satellite::new(&server.base_url(), &logins[0], "v3");
    assert_eq!(satellite.site().await.status, 200, "another address is served");
    assert_eq!(satellite.count().await, 0);

    drop(held.pop());
    let mut freed = false;
    for _ in 0..50 {
        if answered_from("127.0.0.2", address).await {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "a closed connection gives its place back");
    server.stop().await;
}
