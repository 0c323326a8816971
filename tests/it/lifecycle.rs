//! The primary's lifecycle as an orchestrator sees it: liveness and readiness on both listeners,
//! without credentials, readiness lost when the writer stops; SIGTERM in the middle of a storm of
//! pushes ends the process with 0 and loses no push it answered.

use std::sync::{Arc, Mutex};

use crate::support::client::{fetch_text, Satellite};
use crate::support::data::{batch, ids, item};
use crate::support::process::spawn_server;
use crate::support::{register_sites, write_config, TestServer};

#[tokio::test]
async fn liveness_and_readiness_answer_on_both_listeners_and_readiness_follows_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let bases = [server.base_url(), server.admin_url()];
    for base in &bases {
        let (status, _, body) = fetch_text(&format!("{base}/healthz"), None).await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#), "{base}");
        let (status, _, body) = fetch_text(&format!("{base}/readyz"), None).await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ready"}"#), "{base}");
    }
    server.primary.engine.shutdown();
    for base in &bases {
        let (status, _, body) = fetch_text(&format!("{base}/readyz"), None).await;
        assert_eq!(status, 503, "{base}: {body}");
        assert!(body.contains("the writer has stopped"), "{body}");
        let (status, _, _) = fetch_text(&format!("{base}/healthz"), None).await;
        assert_eq!(status, 200, "the process still answers");
    }
    server.stop().await;
}

/// Items numbered from `first`, twenty to a push.
const PER_PUSH: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_a_push_storm_exits_0_and_loses_no_answered_push() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    std::fs::create_dir_all(&data).unwrap();
    let logins = register_sites(&data, 5);
    let config = write_config(&dir.path().join("satsync.toml"), &data, "");
    let server = spawn_server(&config);

    // Four satellites push new items as fast as they are answered, until the connection fails;
    // each notes the items of every push answered success.
    let answered = Arc::new(Mutex::new(Vec::new()));
    let pushers: Vec<_> = logins[..4]
        .iter()
        .enumerate()
        .map(|(s, login)| {
            let satellite = Satellite::new(&server.base, login, "v3");
            let answered = answered.clone();
            tokio::spawn(async move {
                for push in 0.. {
                    let first = s * 1_000_000 + push * PER_PUSH;
                    let items: Vec<String> = (first..first + PER_PUSH).map(item).collect();
                    match satellite.try_push(&batch(&items)).await {
                        Some(reply) if reply.status == 200 && reply.json["error"] == "" => {
                            answered.lock().unwrap().extend(first..first + PER_PUSH);
                        }
                        _ => return push,
                    }
                }
                unreachable!()
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "SIGTERM ends the primary with 0: {status}");
    let mut pushes = 0;
    for pusher in pushers {
        pushes += pusher.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(pushes > 4, "the storm was on when the signal came ({pushes} pushes)");

    // Every item of every answered push is there for the fifth satellite, once.
    let server = spawn_server(&config);
    let reader = Satellite::new(&server.base, &logins[4], "v3").not_mobile();
    let mut received = ids(&reader.drain(5_000).await);
    received.sort();
    received.dedup();
    for n in answered {
        let id = format!("{:032X}", 0x1_0000_0000u64 + n as u64);
        assert!(
            received.binary_search(&id).is_ok(),
            "item {n} was answered success, then lost"
        );
    }
    server.kill_9();
}
