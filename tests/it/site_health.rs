//! Every site's health as the primary keeps it, and the satellites it flags by itself: one that
//! is given the same record again and again without acknowledging it (stuck on a record it
//! cannot integrate), freed by one skip; one failing to log in. Health is written in batches
//! and survives a restart.

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{json, Value};

use crate::support::admin::{call, plain_basic, send_json, with_operator_and_units_configured, OPERATOR, PASSWORD};
use crate::support::client::{basic, http_client, send};
use crate::support::{SiteLogin, TestServer};

fn configure(config: &mut satsync::config::Config) {
    config.admin.stuck_after_deliveries = 3;
    config.admin.failed_logins_per_hour = 3;
    config.admin.health_flush_seconds = 1;
}

/// A `site` call as the current app makes it, reporting its version.
async fn site_call_with_version(server: &TestServer, login: &SiteLogin, version: &str) -> Value {
    let request = http::Request::builder()
        .uri(format!("{}/sync/v3/site", server.base_url()))
        .header("authorization", basic(&login.name, &login.password))
        .header("msupply-site-uuid", format!("hw-{}", login.name))
        .header("msupply-version", version)
        .body(Full::new(Bytes::new()))
        .unwrap();
    send(&http_client(), request).await.json
}

/// A site's health as the operator reads it.
async fn health_of(admin: &str, login: &SiteLogin) -> Value {
    let operator = plain_basic(OPERATOR, PASSWORD);
    let path = format!("/admin/v1/sites/{}/health", login.name);
    call(admin, "GET", &path, Some(&operator)).await.json
}

#[tokio::test]
async fn a_stuck_satellite_is_flagged_with_its_record_and_one_skip_frees_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units_configured(dir.path(), 2, configure).await;
    let (admin, operator) = (server.admin_url(), plain_basic(OPERATOR, PASSWORD));
    let health_path = format!("/admin/v1/sites/{}/health", logins[0].name);
    let health = || {
        let (admin, operator, path) = (admin.clone(), operator.clone(), health_path.clone());
        async move { call(&admin, "GET", &path, Some(&operator)).await.json }
    };
    let fresh = health().await;
    assert_eq!(fresh["last_request_at"], Value::Null, "never seen: {fresh}");
    assert_eq!(fresh["queued"], 3);
    assert_eq!(fresh["flags"], json!([]));

    assert_eq!(
        site_call_with_version(&server, &logins[0], "2.5.0-RC3").await["SiteID"],
        logins[0].id
    );
    let tablet = server.satellite(&logins[0], "v3").not_mobile();
    let first = tablet.pull_records(2).await;
    let poison_id = first[0]["RecordID"].as_str().unwrap().to_string();
    let seen = health().await;
    assert_eq!(seen["api"], "v3");
    assert_eq!(seen["address"], "127.0.0.1");
    assert_eq!(seen["app_version"], "2.5.0-RC3");
    assert!(seen["last_request_at"].as_u64().is_some() && seen["last_pull_at"].as_u64().is_some());
    assert_eq!(seen["head"]["record_id"], poison_id.as_str());
    assert_eq!(seen["head_deliveries"], 1);
    assert_eq!(seen["flags"], json!([]), "once is not stuck");

    // The app fails its batch on the first record: it pulls again, never acknowledging.
    tablet.pull_records(2).await;
    tablet.pull_records(2).await;
    let stuck = health().await;
    assert_eq!(stuck["head_deliveries"], 3);
    let flags = stuck["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{stuck}");
    assert_eq!(flags[0]["kind"], "stuck");
    assert_eq!(flags[0]["record"]["record_id"], poison_id.as_str());
    assert_eq!(flags[0]["record"]["table"], "unit");
    let sync_id = flags[0]["record"]["sync_id"].as_str().unwrap().to_string();
    let flagged = call(&admin, "GET", "/admin/v1/flagged", Some(&operator)).await.json;
    let flagged = flagged["flagged"].as_array().unwrap();
    assert_eq!(flagged.len(), 1, "only the stuck site: {flagged:?}");
    assert_eq!(flagged[0]["name"], logins[0].name.as_str());
    let listed = call(&admin, "GET", "/admin/v1/sites", Some(&operator)).await.json;
    assert_eq!(listed["sites"][0]["flags"], json!(["stuck"]));
    assert_eq!(listed["sites"][1]["flags"], json!([]));

    // One action: skip the record the flag names, with a reason. The satellite goes on.
    let body = json!({"sync_id": sync_id, "reason": "cannot integrate"}).to_string();
    let path = format!("/admin/v1/sites/{}/queue/skip", logins[0].name);
    let skipped = send_json(&admin, "POST", &path, &operator, &body).await;
    assert_eq!(skipped.status, 200, "{}", skipped.raw);
    let rest = tablet.drain(10).await;
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|r| r["RecordID"] != poison_id.as_str()));
    let freed = health().await;
    assert_eq!(freed["flags"], json!([]), "{freed}");
    assert!(freed["last_ack_at"].as_u64().is_some());
    assert_eq!(freed["queued"], 0);

    // A reinstalled tablet keeps trying: flagged as failing to log in, the site's own satellite
    // unaffected.
    let reinstalled = server.satellite(&logins[1], "v3").with_hardware(Some("another tablet"));
    server.satellite(&logins[1], "v3").site().await;
    for _ in 0..3 {
        assert!(reinstalled.site().await.json["error"].is_string());
    }
    let other = health_of(&admin, &logins[1]).await;
    assert_eq!(other["failed_logins"], 3);
    assert_eq!(other["flags"][0]["kind"], "failing-logins", "{other}");
    assert_eq!(
        server.satellite(&logins[1], "v3").site().await.json["SiteID"],
        logins[1].id,
        "the real satellite still syncs"
    );

    // Written in batches (every second here): after a restart it is all there.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let before = health().await;
    server.stop().await;
    let server = TestServer::start_with(dir.path(), configure).await;
    let after = call(&server.admin_url(), "GET", &health_path, Some(&operator))
        .await
        .json;
    for field in [
        "last_request_at",
        "address",
        "api",
        "app_version",
        "last_pull_at",
        "last_ack_at",
    ] {
        assert_eq!(after[field], before[field], "{field}");
    }
    let other = health_of(&server.admin_url(), &logins[1]).await;
    assert_eq!(other["failed_logins"], 3);
    server.stop().await;
}
