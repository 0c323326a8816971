//! HTTPS on the satellites' side: a satellite's whole cycle over TLS beside the plain listener,
//! both protocol versions (1.2 and 1.3), a plain HTTP request on the TLS port answered 400 in the
//! API's own shape, and the certificate replaced on SIGHUP in a real process without closing the
//! connections already open.

use std::time::Duration;

use satsync::config::TlsConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::client::{http_client, send, Satellite};
use crate::support::data::{batch, ids, item};
use crate::support::tls::{authority, get_on, one_connection, presented};
use crate::support::{register_sites, TestServer};

fn tls_on_any_port(certificate: &crate::support::tls::ServerCertificate) -> TlsConfig {
    TlsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        certificate: certificate.certificate.clone(),
        key: certificate.key.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_satellite_syncs_over_tls_while_the_plain_listener_serves_the_lan() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let certificate = authority().issue(dir.path(), "server");
    let server = TestServer::start_with(dir.path(), |config| config.tls = Some(tls_on_any_port(&certificate))).await;

    // Over the LAN, in plain HTTP, the other site pushes central data.
    let lan = server.satellite(&logins[1], "v3");
    let items: Vec<String> = (0..120).map(item).collect();
    assert_eq!(lan.push(&batch(&items)).await.json["error"], "");

    // Over the internet, in HTTPS, a mobile satellite's whole cycle (its records judged as the
    // app would).
    let remote = Satellite::new(&server.tls_url(), &logins[0], "v3");
    assert_eq!(remote.site().await.status, 200);
    assert_eq!(remote.initial_dump(false).await.json["NumRecords"], 120);
    let received = remote.drain(50).await;
    assert_eq!(ids(&received).len(), 120);
    assert_eq!(remote.count().await, 0);
    assert_eq!(remote.push(&batch(&[item(5000)])).await.json["error"], "");
    assert_eq!(
        lan.drain(500).await.len(),
        1,
        "the push over TLS reaches the other site"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_1_2_and_1_3_are_both_spoken() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = authority().issue(dir.path(), "server");
    let server = TestServer::start_with(dir.path(), |config| config.tls = Some(tls_on_any_port(&certificate))).await;
    let address = server.tls_address.unwrap();
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let (leaf, agreed) = presented(address, &[version]).await;
        assert_eq!(agreed, version.version);
        assert_eq!(leaf, certificate.der);
    }
    server.stop().await;
}

/// Sends `request` in plain HTTP to `address` and returns the whole reply.
async fn plain_exchange(address: std::net::SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply))
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8(reply).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_on_the_tls_port_is_told_to_use_https() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = authority().issue(dir.path(), "server");
    let server = TestServer::start_with(dir.path(), |config| config.tls = Some(tls_on_any_port(&certificate))).await;
    let address = server.tls_address.unwrap();

    let reply = plain_exchange(address, "GET /sync/v3/site HTTP/1.1\r\nhost: satsync\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    let body: serde_json::Value = serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert!(body["error"].as_str().unwrap().contains("https://"), "{body}");

    // open-mSupply's calls get its own error shape.
    let reply = plain_exchange(address, "GET /sync/v5/site HTTP/1.1\r\nhost: satsync\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    let body: serde_json::Value = serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");

    // The TLS port still serves HTTPS afterwards.
    let health = send(
        &http_client(),
        http::Request::get(format!("{}/healthz", server.tls_url()))
            .body(Default::default())
            .unwrap(),
    )
    .await;
    assert_eq!(health.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_is_presented_after_sighup_and_open_connections_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(&dir.path().join("data"), 1);
    let first = authority().issue(dir.path(), "first");
    let config = crate::support::write_config(
        &dir.path().join("satsync.toml"),
        &dir.path().join("data"),
        &format!(
            "[tls]\nlisten = \"127.0.0.1:0\"\ncertificate = \"{}\"\nkey = \"{}\"\n",
            first.certificate.display(),
            first.key.display()
        ),
    );
    let config_text = std::fs::read_to_string(&config).unwrap();
    let config_text = config_text.replace("[server]\nlisten = \"127.0.0.1:0\"", "[server]\nlisten = \"off\"");
    std::fs::write(&config, config_text).unwrap();
    let server = crate::support::process::spawn_server(&config);
    let base = server.base.clone();
    assert!(base.starts_with("https://"), "TLS only: {base}");
    let address: std::net::SocketAddr = base.trim_start_matches("https://").parse().unwrap();
    assert_eq!(presented(address, rustls::DEFAULT_VERSIONS).await.0, first.der);

    // A satellite syncs, and a connection opened before the reload is kept.
    let satellite = Satellite::new(&base, &logins[0], "v3");
    assert_eq!(satellite.site().await.status, 200);
    let mut open = one_connection(address).await;
    assert_eq!(get_on(&mut open, "/healthz").await, Some(200));

    // The operator renews the certificate in place, then signals.
    let renewed = authority().issue(dir.path(), "renewed");
    std::fs::copy(&renewed.certificate, &first.certificate).unwrap();
    std::fs::copy(&renewed.key, &first.key).unwrap();
    server.signal("HUP");
    let mut seen = None;
    for _ in 0..100 {
        let (leaf, _) = presented(address, rustls::DEFAULT_VERSIONS).await;
        if leaf == renewed.der {
            seen = Some(leaf);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen.is_some(), "new handshakes present the renewed certificate");
    assert_eq!(
        get_on(&mut open, "/healthz").await,
        Some(200),
        "the connection opened before the reload still serves"
    );
    assert_eq!(satellite.count().await, 0);

    // A broken renewal (the key of another certificate) keeps the renewed one in use.
    let other = authority().issue(dir.path(), "other");
    std::fs::copy(&other.key, &first.key).unwrap();
    server.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(presented(address, rustls::DEFAULT_VERSIONS).await.0, renewed.der);
    assert!(server.terminate().success());
}
