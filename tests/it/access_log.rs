//! The log as a log processor reads it: with `[log] format = "json"` every line of the primary's
//! standard error is a JSON object, and every request is one access event with its request id
//! (the one sent back as `x-request-id`), the site it presented, the status, the duration and the
//! bytes; no password, hash or Authorization header anywhere in it.

use serde_json::Value;

use crate::support::client::{basic, fetch_text, Satellite};
use crate::support::data::{batch, item};
use crate::support::process::spawn_server_logging_to;
use crate::support::{register_sites, write_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_one_json_access_event_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    std::fs::create_dir_all(&data).unwrap();
    let logins = register_sites(&data, 2);
    let more = "[log]\nformat = \"json\"\naccess = \"info\"\n";
    let config = write_config(&dir.path().join("satsync.toml"), &data, more);
    let log_path = dir.path().join("satsync.log");
    let server = spawn_server_logging_to(&config, std::fs::File::create(&log_path).unwrap());

    let pusher = Satellite::new(&server.base, &logins[0], "v3");
    let items: Vec<String> = (0..3).map(item).collect();
    assert_eq!(pusher.push(&batch(&items)).await.json["error"], "");
    let reader = Satellite::new(&server.base, &logins[1], "v3").not_mobile();
    assert_eq!(reader.drain(10).await.len(), 3);
    let wrong = Satellite::new(&server.base, &logins[1], "v3").with_authorization(&basic(&logins[1].name, "not it"));
    assert_eq!(wrong.site().await.status, 401);
    let (_, headers, _) = fetch_text(&format!("{}/healthz", server.base), None).await;
    let health_id = headers["x-request-id"].to_str().unwrap().to_string();
    assert!(server.terminate().success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    let events: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let access: Vec<&Value> = events.iter().filter(|e| e["target"] == "satsync::access").collect();
    // push; count, pull, acknowledge, count, pull (empty); the refused site call; healthz.
    assert_eq!(access.len(), 8, "{log}");
    let push = access
        .iter()
        .find(|e| e["method"] == "POST" && e["path"] == "/sync/v3/queued_records/")
        .unwrap_or_else(|| panic!("the push: {log}"));
    assert_eq!(push["site"], logins[0].name.as_str());
    assert_eq!(push["status"], 200);
    assert_eq!(push["listener"], "satellites");
    assert_eq!(push["bytes_in"].as_u64(), Some(batch(&items).len() as u64));
    assert!(push["bytes_out"].as_u64().unwrap() > 0);
    assert!(push["duration_ms"].as_f64().unwrap() >= 0.0);
    let refused = access.iter().find(|e| e["status"] == 401).expect("the refused call");
    assert_eq!(refused["site"], logins[1].name.as_str());
    let health = access.iter().find(|e| e["path"] == "/healthz").unwrap();
    assert_eq!(
        health["request_id"],
        health_id.as_str(),
        "the id sent back is the one logged"
    );
    let mut ids: Vec<&str> = access.iter().map(|e| e["request_id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), access.len(), "one id per request");

    for login in &logins {
        let secret = satsync::domain::credentials::client_secret(&login.password);
        for hidden in [
            login.password.as_str(),
            secret.as_str(),
            &basic(&login.name, &login.password)[6..],
        ] {
            assert!(!log.contains(hidden), "a secret is in the log: {hidden}");
        }
    }
    assert!(!log.to_lowercase().contains("authorization"), "{log}");
}
