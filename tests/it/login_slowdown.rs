//! Password guessing, slowed down without locking the real satellite out: an address that keeps
//! failing is refused with 429 and Retry-After before any password is checked; a site whose
//! password keeps failing from anywhere has each further failure answered late; its real
//! satellite, from another address with the right password, is answered at once.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::support::client::{basic, send, HttpClient, Reply, Satellite};
use crate::support::{register_sites, TestServer};

const HOLD: Duration = Duration::from_millis(400);

/// A client whose connections come from `address` (any of 127.0.0.0/8 reaches the server).
fn client_from(address: &str) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_local_address(Some(address.parse().unwrap()));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(crate::support::tls::authority().client_config(rustls::DEFAULT_VERSIONS))
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// `GET site` as `name` with `password`, and how long the answer took.
async fn login(client: &HttpClient, base: &str, name: &str, password: &str) -> (Reply, Duration, Option<String>) {
    let request = http::Request::builder()
        .uri(format!("{base}/sync/v3/site"))
        .header("authorization", basic(name, password))
        .header("msupply-site-uuid", format!("hw-{name}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let started = Instant::now();
    // `send` does not keep headers: ask once more for Retry-After when refused.
    let reply = send(client, request).await;
    let elapsed = started.elapsed();
    let retry_after = if reply.status == 429 {
        let request = http::Request::builder()
            .uri(format!("{base}/sync/v3/site"))
            .header("authorization", basic(name, password))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = client.request(request).await.unwrap();
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string())
    } else {
        None
    };
    (reply, elapsed, retry_after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_is_refused_by_address_and_slowed_by_name_while_the_real_satellite_syncs() {
    // Counts are per minute: start early in one, so that the test stays within it.
    let second = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() % 60;
    if second > 45 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 1);
    let server = TestServer::start_with(dir.path(), |config| {
        config.limits.failed_logins_per_address_per_minute = 5;
        config.limits.failed_logins_per_name_per_minute = 3;
        config.limits.failed_login_delay_ms = HOLD.as_millis() as u64;
    })
    .await;
    let (base, site) = (server.base_url(), &logins[0]);
    let attacker = client_from("127.0.0.2");

    for attempt in 1..=5 {
        let (reply, took, _) = login(&attacker, &base, &site.name, "a guess").await;
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.raw);
        if attempt > 3 {
            assert!(took >= HOLD, "attempt {attempt} is held: {took:?}");
        }
    }
    // The address has failed five times: refused before any check, even with the password.
    for password in ["a guess", site.password.as_str()] {
        let (reply, _, retry_after) = login(&attacker, &base, &site.name, password).await;
        assert_eq!(reply.status, 429, "{}", reply.raw);
        assert!(
            reply.json["error"].as_str().unwrap().contains("too many failed logins"),
            "{}",
            reply.raw
        );
        let seconds: u64 = retry_after.expect("Retry-After").parse().unwrap();
        assert!((1..=60).contains(&seconds), "{seconds}");
    }

    // The real satellite, from its own address with the right password, syncs.
    let satellite = Satellite::new(&base, site, "v3");
    let answered = satellite.site().await;
    assert_eq!(
        (answered.status, &answered.json["SiteID"]),
        (200, &serde_json::json!(site.id)),
        "{}",
        answered.raw
    );
    assert_eq!(satellite.count().await, 0);
    // A wrong password for that site from anywhere is still held: the name is over its limit.
    let (reply, took, _) = login(&client_from("127.0.0.3"), &base, &site.name, "another guess").await;
    assert_eq!(reply.status, 401);
    assert!(took >= HOLD, "{took:?}");
    server.stop().await;
}
