//! Authentication and isolation: credentials, another site's queue, hardware binding.

use crate::support::client::basic;
use crate::support::data::{batch, item};
use crate::support::{register_sites, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_and_other_sites_queues_are_refused_without_effect() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start(dir.path()).await;
    let (a, b) = (server.satellite(&logins[0], "v3"), server.satellite(&logins[1], "v3"));
    a.push(&batch(&[item(1), item(2)])).await;

    for authorization in [
        basic(&logins[1].name, "wrong"),
        basic("nobody", "x"),
        "Basic garbage".into(),
        String::new(),
    ] {
        let intruder = server.satellite(&logins[1], "v3").with_authorization(&authorization);
        let reply = intruder.pull(10).await;
        assert_eq!(
            (reply.status, reply.raw.as_str()),
            (401, r#"{"error":"Invalid username or password"}"#)
        );
        assert_eq!(intruder.site().await.status, 401);
    }
    // The password is the SHA-256 hex, not the plain text.
    let plain = format!(
        "Basic {}",
        base64_of(&format!("{}:{}", logins[1].name, logins[1].password))
    );
    assert_eq!(
        server
            .satellite(&logins[1], "v3")
            .with_authorization(&plain)
            .pull(1)
            .await
            .status,
        401
    );

    // A reads, acknowledges, pushes to or dumps B's queue: refused, B's queue untouched.
    let b_queue = format!("from_site={}&to_site=1", logins[1].id);
    let queued = b.pull_records(10).await;
    let sync_id = queued[0]["SyncID"].as_str().unwrap().to_string();
    for (method, path, body) in [
        ("GET", format!("queued_records?{b_queue}&limit=10"), String::new()),
        ("GET", format!("queued_records/count?{b_queue}"), String::new()),
        (
            "POST",
            format!("acknowledged_records?{b_queue}"),
            format!(r#"{{"SyncRecordIDs":["{sync_id}"]}}"#),
        ),
        ("POST", format!("queued_records?{b_queue}"), batch(&[item(3)])),
        ("GET", format!("initial_dump?{b_queue}&type=full"), String::new()),
        (
            "GET",
            format!("queued_records/count?from_site={}&to_site=7", logins[0].id),
            String::new(),
        ),
        (
            "GET",
            "queued_records/count?from_site=999&to_site=1".to_string(),
            String::new(),
        ),
    ] {
        let reply = a.request(method, &path, &body).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.raw);
        assert!(
            reply.json["error"].as_str().is_some_and(|e| e.contains("from_site")),
            "{}",
            reply.raw
        );
    }
    assert_eq!(b.pull_records(10).await, queued, "B's queue is unchanged");
    assert_eq!(b.count().await, 2);
    server.stop().await;
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardware_binding_is_kept_until_an_operator_resets_it() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 1);
    let server = TestServer::start(dir.path()).await;
    let first = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-1"));
    assert_eq!(first.site().await.status, 200);
    let other = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-2"));
    let refused = other.site().await;
    assert_eq!(refused.status, 200, "mobile reads the message from a 200");
    assert!(refused.json["error"]
        .as_str()
        .unwrap()
        .starts_with("Site registration doesn't match."));
    assert!(other.count_raw().await.contains("Site registration doesn't match."));
    assert_eq!(
        first.site().await.json["SiteID"],
        logins[0].id,
        "the bound machine keeps working"
    );
    server.stop().await;

    // The binding survives a restart, and the operator's reset frees it.
    let server = TestServer::start(dir.path()).await;
    let other = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-2"));
    assert!(other.site().await.json["error"].is_string());
    server.stop().await;
    let storage = satsync::store::Database::open(dir.path(), 16).unwrap();
    satsync::admin::directory::reset_hardware(&storage, crate::support::PRIMARY, &logins[0].name).unwrap();
    drop(storage);
    let server = TestServer::start(dir.path()).await;
    let other = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-2"));
    assert_eq!(other.site().await.json["SiteID"], logins[0].id);
    let first = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-1"));
    assert!(
        first.site().await.json["error"].is_string(),
        "now bound to the new machine"
    );
    server.stop().await;
}

/// A site bound to a tablet refuses a request that carries no hardware id at all, with the same
/// message as another machine's; a site never bound accepts one (the 2017 app never sends it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_site_refuses_a_request_without_a_hardware_id() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start(dir.path()).await;
    let unbound = server.satellite(&logins[1], "v2").with_hardware(None);
    assert_eq!(
        unbound.site().await.json["SiteID"],
        logins[1].id,
        "never bound: accepted"
    );
    assert_eq!(unbound.count().await, 0);

    let tablet = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-1"));
    assert_eq!(tablet.site().await.json["SiteID"], logins[0].id);
    let headerless = server.satellite(&logins[0], "v3").with_hardware(None);
    for reply in [
        headerless.site().await.json,
        serde_json::from_str(&headerless.count_raw().await).unwrap(),
    ] {
        assert!(
            reply["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("Site registration doesn't match.")),
            "{reply}"
        );
    }
    let pushed = headerless.push(&batch(&[item(1)])).await;
    assert!(pushed.json["error"]
        .as_str()
        .unwrap()
        .starts_with("Site registration doesn't match."));
    assert_eq!(unbound.count().await, 0, "the refused push applied nothing");
    assert_eq!(
        tablet.site().await.json["SiteID"],
        logins[0].id,
        "the tablet keeps working"
    );
    server.stop().await;
}
