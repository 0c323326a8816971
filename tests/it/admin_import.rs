//! An import through the running primary: 100,000 records as JSON lines streamed to
//! `POST /admin/v1/import`, a hundred times any request body the primary accepts whole, applied batch by batch through the writer
//! while a satellite syncs, its progress in `GET imports`; a bad line stops it with the line named.

use crate::support::admin::{
    call, new_unit, plain_basic, send_json, with_operator_and_units_configured, OPERATOR, PASSWORD,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_import_larger_than_any_body_applies_while_satellites_sync() {
    let dir = tempfile::tempdir().unwrap();
    // Small enough that the import is a hundred times it; a satellite's acknowledgements of 200
    // records still fit.
    let (server, logins) = with_operator_and_units_configured(dir.path(), 1, |config| {
        config.limits.max_body_bytes = 64 * 1024;
        config.admin.import_records_per_second = 0;
    })
    .await;
    let (admin, operator) = (server.admin_url(), plain_basic(OPERATOR, PASSWORD));
    let satellite = server.satellite(&logins[0], "v3").not_mobile();
    assert_eq!(satellite.drain(50).await.len(), 3);

    let lines: Vec<String> = (1..=100_000).map(|n| new_unit("IM", n)).collect();
    let body = lines.join("\n") + "\n";
    assert!(body.len() > 100 * 64 * 1024, "a hundred times the body limit");
    // The satellite keeps syncing until the import has answered.
    let (done, importing) = tokio::sync::watch::channel(false);
    let syncing = {
        let satellite = server.satellite(&logins[0], "v3").not_mobile();
        tokio::spawn(async move {
            let mut received = 0;
            while !*importing.borrow() {
                received += satellite.drain_while_added(200).await.len();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            received
        })
    };
    let imported = send_json(&admin, "POST", "/admin/v1/import", &operator, &body).await;
    assert_eq!(imported.status, 200, "{}", imported.raw);
    assert_eq!(imported.json["applied"], 100_000);
    done.send(true).unwrap();
    let received_meanwhile = syncing.await.unwrap();
    let rest = satellite.drain(200).await.len();
    assert_eq!(
        received_meanwhile + rest,
        100_000,
        "every imported record reaches the satellite once"
    );

    let imports = call(&admin, "GET", "/admin/v1/imports", Some(&operator)).await;
    let first = &imports.json["imports"][0];
    assert_eq!(first["finished"], true, "{}", imports.raw);
    assert_eq!(first["records_applied"], 100_000);
    assert_eq!(first["bytes_read"], body.len());
    assert_eq!(first["operator"], OPERATOR);

    // A malformed line stops the import at its batch, naming where; the batches before it stay.
    let mut bad: Vec<String> = (100_001..=102_500).map(|n| new_unit("IM", n)).collect();
    bad[2_200] = "{not json".to_string();
    let refused = send_json(&admin, "POST", "/admin/v1/import", &operator, &bad.join("\n")).await;
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert!(refused.raw.contains("line 2500"), "{}", refused.raw);
    assert_eq!(
        satellite.drain(200).await.len(),
        2_000,
        "the first batch of 2,000 was applied"
    );
    let imports = call(&admin, "GET", "/admin/v1/imports", Some(&operator)).await;
    let second = &imports.json["imports"][1];
    assert!(
        second["error"].as_str().unwrap().contains("line 2500"),
        "{}",
        imports.raw
    );

    // An import at a pace: 4,000 records at 4,000 a second are applied no sooner than a second
    // after it started (its second batch waits for its due time); a pace that is not a number is
    // refused before anything is applied.
    let paced: Vec<String> = (110_001..=114_000).map(|n| new_unit("IM", n)).collect();
    let started = std::time::Instant::now();
    let path = "/admin/v1/import?records_per_second=4000";
    let imported = send_json(&admin, "POST", path, &operator, &paced.join("\n")).await;
    assert_eq!(
        (imported.status, &imported.json["applied"]),
        (200, &serde_json::json!(4_000))
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "held to its pace"
    );
    assert_eq!(satellite.drain(200).await.len(), 4_000);
    let path = "/admin/v1/import?records_per_second=fast";
    let refused = send_json(&admin, "POST", path, &operator, &paced.join("\n")).await;
    assert_eq!(refused.status, 400, "{}", refused.raw);

    // One line longer than the body limit cannot be a record.
    let long = format!("{}\n", "x".repeat(70 * 1024));
    let refused = send_json(&admin, "POST", "/admin/v1/import", &operator, &long).await;
    assert_eq!(refused.status, 400, "{}", refused.raw);
    let unauthenticated = call(&admin, "POST", "/admin/v1/import", None).await;
    assert_eq!(unauthenticated.status, 401);

    // The export streams what the primary holds, as the command line exports it with the
    // server stopped; it imports again.
    let (status, exported) = get_text(&format!("{admin}/admin/v1/export"), &operator).await;
    assert_eq!(status, 200);
    let (status, units) = get_text(&format!("{admin}/admin/v1/export?table=unit"), &operator).await;
    assert_eq!(status, 200);
    assert_eq!(units.lines().count(), 3 + 100_000 + 2_000 + 4_000);
    let (status, refused) = get_text(&format!("{admin}/admin/v1/export"), "Basic bm9ib2R5Om5vdGhpbmc=").await;
    assert_eq!(status, 401, "{refused}");
    let put = call(&admin, "PUT", "/admin/v1/export", Some(&operator)).await;
    assert_eq!(put.status, 405);
    server.stop().await;
    let (ok, offline, stderr) = crate::support::satsync_cli(dir.path(), &["export"]);
    assert!(ok, "{stderr}");
    assert_eq!(exported, offline, "the same lines as the command line's export");
    let server = crate::support::TestServer::start(dir.path()).await;
    let more = format!("[admin]\nlisten = \"{}\"\n", server.admin_address);
    let config = crate::support::write_config(&dir.path().join("remote.toml"), dir.path(), &more);
    let env = [("SATSYNC_OPERATOR", OPERATOR), ("SATSYNC_OPERATOR_PASSWORD", PASSWORD)];
    let live = tokio::task::spawn_blocking(move || crate::support::run_satsync(&config, &["export"], "", &env))
        .await
        .unwrap();
    assert!(live.0, "{}", live.2);
    assert_eq!(
        live.1, offline,
        "the command line exports the same through the running server"
    );

    // The command line imports through the running server too, with the same output.
    let file = dir.path().join("more.jsonl");
    let more: Vec<String> = (200_001..=203_000).map(|n| new_unit("IM", n)).collect();
    std::fs::write(&file, more.join("\n") + "\n").unwrap();
    let file = file.to_str().unwrap().to_string();
    let config = dir.path().join("remote.toml");
    let live = tokio::task::spawn_blocking(move || crate::support::run_satsync(&config, &["import", &file], "", &env))
        .await
        .unwrap();
    assert!(live.0, "{}", live.2);
    assert_eq!(live.1, "imported 3000 records\n");
    let live_admin = server.admin_url();
    let (_, units) = get_text(&format!("{live_admin}/admin/v1/export?table=unit"), &operator).await;
    assert_eq!(units.lines().count(), 3 + 100_000 + 2_000 + 4_000 + 3_000);
    server.stop().await;

    let again = tempfile::tempdir().unwrap();
    let (server, _) = with_operator_and_units_configured(again.path(), 1, |config| {
        config.admin.import_records_per_second = 0;
    })
    .await;
    let reimported = send_json(&server.admin_url(), "POST", "/admin/v1/import", &operator, &units).await;
    assert_eq!(reimported.status, 200, "{}", reimported.raw);
    assert_eq!(reimported.json["applied"], 109_003, "every exported line imports");
    server.stop().await;
}

/// A GET answered with text (the export), with `authorization`.
async fn get_text(url: &str, authorization: &str) -> (u16, String) {
    let (status, _, text) = crate::support::client::fetch_text(url, Some(authorization)).await;
    (status, text)
}
