//! v5 as an open-mSupply remote site uses it: site → initialise → pull and acknowledge until the
//! queue is empty → site says completed; records pushed in v2 arrive with their data unchanged;
//! errors in v5's shape.

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{json, Value};

use crate::support::client::{basic, http_client, send, Reply};
use crate::support::data::{batch, delete, item, record, transact};
use crate::support::{register_sites, SiteLogin, TestServer};

async fn v5(server: &TestServer, login: &SiteLogin, password: &str, method: &str, path: &str, body: &str) -> Reply {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{}/sync/v5/{path}", server.base_url()))
        .header("authorization", basic(&login.name, password))
        .header("msupply-site-uuid", format!("omsupply-{}", login.name))
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    send(&http_client(), request).await
}

/// The site's own store data comes through its queue, central data through `central_records`
/// only: nothing reaches it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_msupply_site_initialises_and_drains_over_v5() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let (a, b) = (&logins[0], &logins[1]);
    let server = TestServer::start(dir.path()).await;
    let native = r#"{"ID":"N1","invoice_num":5,"hold":true,"comment":null,"store_ID":"STORE_B","type":"si","status":"nw","name_ID":"CUSTOMER1"}"#
        .replace("STORE_B", &b.store_id);
    let mut records: Vec<String> = (0..30).map(item).collect();
    records.extend((0..12).map(|n| transact(n, &b.store_id).1));
    records.push(record("V5-N1", "transact", "N1", &b.store_id, &native));
    server.satellite(a, "v3").push(&batch(&records)).await;
    let pw = b.password.as_str();

    let site = v5(&server, b, pw, "GET", "site", "").await;
    assert_eq!(site.status, 200, "{}", site.raw);
    assert_eq!(site.json["siteId"], b.id);
    assert_eq!(site.json["initialisationStatus"], "new");
    assert_eq!(site.json["mSupplyCentralSiteId"], 1);

    let started = v5(&server, b, pw, "POST", "initialise", "{}").await;
    assert_eq!(started.status, 200, "{}", started.raw);
    let queued = started.json["queueLength"].as_u64().unwrap();
    assert_eq!(
        queued, 13,
        "the store's invoices, not the central items: {}",
        started.raw
    );
    assert_eq!(
        v5(&server, b, pw, "GET", "site", "").await.json["initialisationStatus"],
        "started"
    );
    let status = v5(&server, b, pw, "GET", "site_status", "").await;
    assert_eq!(status.json, json!({"code": "idle", "message": "", "data": null}));

    let (central, _) = read_central(&server, b, 0).await;
    assert_eq!(central.len(), 30, "the items");
    let mut received: Vec<Value> = Vec::new();
    loop {
        let page = v5(&server, b, pw, "GET", "queued_records?limit=7", "").await;
        assert_eq!(page.status, 200, "{}", page.raw);
        let data = page.json["data"].as_array().unwrap().clone();
        assert_eq!(
            page.json["queueLength"].as_u64().unwrap(),
            queued - received.len() as u64
        );
        if data.is_empty() {
            break;
        }
        assert!(data.len() <= 7);
        let ids: Vec<&str> = data.iter().map(|r| r["syncOutId"].as_str().unwrap()).collect();
        let acked = v5(
            &server,
            b,
            pw,
            "POST",
            "acknowledged_records",
            &json!({"syncIDs": ids}).to_string(),
        )
        .await;
        assert_eq!(acked.status, 200, "{}", acked.raw);
        received.extend(data);
    }
    assert_eq!(received.len() as u64, queued);
    assert!(
        received.iter().all(|r| r["tableName"] == "transact"),
        "no central record is queued as well"
    );
    let n1 = received.iter().find(|r| r["recordId"] == "N1").unwrap();
    assert_eq!(
        (n1["tableName"].clone(), n1["action"].clone()),
        (json!("transact"), json!("update"))
    );
    // The whole row in native types: what was pushed (a null as the catalogue's empty value),
    // and the catalogue's defaults beside it.
    let row = n1["recordData"].as_object().unwrap();
    for (key, value) in serde_json::from_str::<Value>(&native).unwrap().as_object().unwrap() {
        let want = if value.is_null() { &json!("") } else { value };
        assert_eq!(row.get(key), Some(want), "{key} in {}", n1["recordData"]);
    }
    assert_eq!((&row["currency_rate"], &row["mode"]), (&json!(1), &json!("store")));
    assert_eq!(
        v5(&server, b, pw, "GET", "site", "").await.json["initialisationStatus"],
        "completed"
    );

    // A later delete arrives as one, without recordData: a store's through the queue, an item's
    // through the central feed only.
    server
        .satellite(a, "v3")
        .push(&batch(&[
            delete("V5-D1", "transact", "N1", &b.store_id),
            delete("V5-D2", "item", &format!("{:032X}", 0x1_0000_0000u64 + 3), ""),
        ]))
        .await;
    let page = v5(&server, b, pw, "GET", "queued_records", "").await;
    assert_eq!(page.json["queueLength"], 1, "{}", page.raw);
    let gone = &page.json["data"][0];
    assert_eq!(
        (gone["recordId"].clone(), gone["action"].clone()),
        (json!("N1"), json!("delete"))
    );
    assert!(gone.get("recordData").is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_errors_have_v5_shape_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 1);
    let b = &logins[0];
    let server = TestServer::start(dir.path()).await;
    let wrong = v5(&server, b, "wrong", "POST", "initialise", "{}").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json["error"]["code"], "site_incorrect_password");
    assert!(wrong.json["error"]["message"].is_string());

    assert_eq!(v5(&server, b, &b.password, "GET", "site", "").await.status, 200);
    let other_machine = http::Request::get(format!("{}/sync/v5/site", server.base_url()))
        .header("authorization", basic(&b.name, &b.password))
        .header("msupply-site-uuid", "another-machine")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let refused = send(&http_client(), other_machine).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json["error"]["code"], "site_incorrect_hardware_id");

    let pw = b.password.as_str();
    let bad_ack = v5(
        &server,
        b,
        pw,
        "POST",
        "acknowledged_records",
        r#"{"SyncRecordIDs":[]}"#,
    )
    .await;
    assert_eq!(
        (bad_ack.status, bad_ack.json["error"]["code"].clone()),
        (400, json!("bad_request"))
    );
    let bad_limit = v5(&server, b, pw, "GET", "queued_records?limit=all", "").await;
    assert_eq!(bad_limit.status, 400);
    let unknown = v5(&server, b, pw, "GET", "queued_records/count", "").await;
    assert_eq!(
        (unknown.status, unknown.json["error"]["code"].clone()),
        (404, json!("not_found"))
    );
    assert_eq!(
        v5(&server, b, pw, "GET", "site", "").await.json["initialisationStatus"],
        "new"
    );
    server.stop().await;
}

/// A central record pushed over v5 with native JSON types reaches a v3 satellite byte for byte
/// (a retry changes nothing); a batch with a bad record applies nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v5_push_reaches_v3_satellites_in_their_forms_and_a_bad_one_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 3);
    let (a, b, c) = (&logins[0], &logins[1], &logins[2]);
    let server = TestServer::start(dir.path()).await;
    let pw = a.password.as_str();
    let refused = v5(
        &server,
        a,
        pw,
        "POST",
        "queued_records",
        r#"{"queueLength":2,"data":[
            {"syncOutId":"1","tableName":"item","recordId":"G1","action":"insert","recordData":{"ID":"G1"}},
            {"syncOutId":"2","tableName":"item","recordId":"G2","action":"Upsert","recordData":{"ID":"G2"}}]}"#,
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert_eq!(refused.json["error"]["code"], "bad_request");
    assert!(refused.json["error"]["message"].as_str().unwrap().contains("record 2"));
    let satellite_b = server.satellite(b, "v3");
    assert_eq!(satellite_b.count().await, 0, "nothing of a refused push is applied");

    let data = r#"{"ID":"G1","code":"G1","doses":2,"is_vaccine":true,"price":1.25}"#;
    let body = format!(
        r#"{{"queueLength":0,"data":[{{"syncOutId":"1385","tableName":"item","recordId":"G1","action":"INSERT","recordData":{data}}}]}}"#
    );
    let pushed = v5(&server, a, pw, "POST", "queued_records", &body).await;
    assert_eq!(pushed.status, 200, "{}", pushed.raw);
    assert_eq!(pushed.json, json!({"integrationStarted": true}));
    let again = v5(&server, a, pw, "POST", "queued_records", &body).await;
    assert_eq!(again.status, 200, "a retried push is recognised");

    let pulled = satellite_b.pull(10).await;
    let records = pulled.json.as_array().unwrap();
    assert_eq!(records.len(), 1, "{}", pulled.raw);
    assert_eq!(
        (records[0]["RecordType"].clone(), records[0]["SyncType"].clone()),
        (json!("item"), json!("I"))
    );
    // A v3 satellite reads the legacy text forms; a field the catalogue does not know comes as
    // pushed.
    let row = &records[0]["data"];
    for (key, value) in [("ID", "G1"), ("code", "G1"), ("doses", "2"), ("is_vaccine", "true")] {
        assert_eq!(row[key], value, "{key} in {row}");
    }
    assert!(pulled.raw.contains(r#""price":1.25"#), "{}", pulled.raw);
    assert_eq!(
        v5(&server, a, pw, "GET", "queued_records", "").await.json["queueLength"],
        0,
        "central data is never queued for an open-mSupply site"
    );
    let (own_feed, own_max) = read_central(&server, a, 0).await;
    assert!(own_feed.is_empty(), "its own push is not echoed back: {own_feed:?}");
    assert_eq!(own_max, 0, "and the feed does not promise it");
    let (feed, max) = read_central(&server, c, 0).await;
    assert_eq!(feed.len(), 1, "another open-mSupply site reads it");
    assert_eq!(
        (&feed[0]["recordId"], max),
        (&json!("G1"), feed[0]["ID"].as_u64().unwrap())
    );
    server.stop().await;
}

/// The central feed: every central record once, in cursor order, pages of `limit`; later
/// changes come after the last cursor read, deletes included; store records never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_records_is_a_cursor_feed_of_central_data_only() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let (a, b) = (&logins[0], &logins[1]);
    let server = TestServer::start(dir.path()).await;
    let mut records: Vec<String> = (0..25).map(item).collect();
    records.push(transact(1, &a.store_id).1);
    server.satellite(a, "v3").push(&batch(&records)).await;
    let pw = b.password.as_str();
    let (first, max) = read_central(&server, b, 0).await;
    assert_eq!(first.len(), 25, "the items, not the store's invoice");
    assert!(first
        .iter()
        .all(|r| r["tableName"] == "item" && r["action"] == "update"));
    assert_eq!(first.last().unwrap()["ID"].as_u64().unwrap(), max);

    let changed = item(3);
    let gone = format!("{:032X}", 0x1_0000_0000u64 + 4);
    server
        .satellite(a, "v3")
        .push(&batch(&[
            changed.replace("ITEM3", "ITEM3b"),
            delete("GONE4", "item", &gone, ""),
        ]))
        .await;
    let (later, _) = read_central(&server, b, max).await;
    let actions: Vec<(&str, &str)> = later
        .iter()
        .map(|r| (r["recordId"].as_str().unwrap(), r["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            (format!("{:032X}", 0x1_0000_0003u64).as_str(), "update"),
            (gone.as_str(), "delete")
        ]
    );
    let bad = v5(&server, b, pw, "GET", "central_records?cursor=-1", "").await;
    assert_eq!(
        (bad.status, bad.json["error"]["code"].clone()),
        (400, json!("bad_request"))
    );
    server.stop().await;
}

/// Reads `central_records` from `from` until a page comes back empty; returns what it read and
/// the highest `maxCursor` seen.
async fn read_central(server: &TestServer, login: &SiteLogin, from: u64) -> (Vec<Value>, u64) {
    let (mut cursor, mut seen, mut max) = (from, Vec::new(), 0);
    loop {
        let path = format!("central_records?cursor={cursor}&limit=10");
        let page = v5(server, login, &login.password, "GET", &path, "").await;
        assert_eq!(page.status, 200, "{}", page.raw);
        max = page.json["maxCursor"].as_u64().unwrap().max(max);
        let data = page.json["data"].as_array().unwrap().clone();
        if data.is_empty() {
            return (seen, max);
        }
        assert!(data.len() <= 10);
        for record in data {
            let id = record["ID"].as_u64().unwrap();
            assert!(id > cursor, "cursors ascend");
            cursor = id;
            seen.push(record);
        }
    }
}

/// A site whose sync API version or app version the configuration does not accept gets 409
/// `api_version_incompatible` before anything else; one that sends no version is let through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incompatible_versions_get_409_api_version_incompatible() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 1);
    let b = &logins[0];
    let server = TestServer::start_with(dir.path(), |config| {
        config.v5.min_sync_version = 3;
        config.v5.max_sync_version = 6;
        config.v5.min_app_version = Some("2.3.0".into());
    })
    .await;
    let client = http_client();
    let site = |version: Option<&str>, app_version: Option<&str>, password: &str| {
        let mut request = http::Request::get(format!("{}/sync/v5/site", server.base_url()))
            .header("authorization", basic(&b.name, password));
        if let Some(version) = version {
            request = request.header("version", version);
        }
        if let Some(app_version) = app_version {
            request = request.header("app-version", app_version);
        }
        send(&client, request.body(Full::new(Bytes::new())).unwrap())
    };
    for (version, app_version) in [
        (Some("2"), Some("2.4.0")),
        (Some("7"), None),
        (Some("five"), None),
        (Some("5"), Some("2.2.9")),
        (None, Some("not-a-version")),
    ] {
        let refused = site(version, app_version, &b.password).await;
        assert_eq!(refused.status, 409, "{version:?} {app_version:?}: {}", refused.raw);
        assert_eq!(refused.json["error"]["code"], "api_version_incompatible");
        assert!(refused.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("this primary"));
    }
    for (version, app_version) in [
        (Some("5"), Some("2.3.0")),
        (Some("6"), Some("2.10.1-RC2")),
        (None, None),
    ] {
        let accepted = site(version, app_version, &b.password).await;
        assert_eq!(accepted.status, 200, "{version:?} {app_version:?}: {}", accepted.raw);
    }
    assert_eq!(site(Some("5"), None, "wrong").await.status, 401);
    server.stop().await;
}

/// A v6 call as an open-mSupply remote makes it: a POST whose body carries the site's v5
/// credentials (the password's SHA-256, as v5 sends it) and hardware id.
async fn v6(url: &str, endpoint: &str, login: &SiteLogin, password: &str, site_uuid: &str, extra: &str) -> Reply {
    let password = satsync::domain::credentials::client_secret(password);
    let body = format!(
        r#"{{{extra}"sync_v5_settings":{{"serverUrl":"{url}","username":"{}","passwordSha256":"{password}","siteUuid":"{site_uuid}","appVersion":"2.6.0","appName":"Open mSupply Desktop","syncVersion":"5"}}}}"#,
        login.name
    );
    let request = http::Request::post(format!("{url}/central/sync/{endpoint}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    send(&http_client(), request).await
}

/// `site` names a v6 central (the address the remote reached, or the configured one) and that
/// central answers the remote's push, site_status and pull as the site, refusing what v5 refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_v6_central_that_site_names_answers_the_remote() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 1);
    let b = &logins[0];
    let server = TestServer::start(dir.path()).await;
    let pw = b.password.as_str();
    let site = v5(&server, b, pw, "GET", "site", "").await;
    assert_eq!(site.json["isOmSupplyCentralServer"], false);
    let central = site.json["omSupplyCentralServerUrl"].as_str().unwrap().to_string();
    assert_eq!(central, server.base_url().trim_end_matches('/'));
    let hardware = format!("omsupply-{}", b.name);

    let records = r#""batch":{"records":[{"id":"1"},{"id":"2"}],"end_cursor":2,"total_records":2},"#;
    let pushed = v6(&central, "push", b, pw, &hardware, records).await;
    assert_eq!(
        (pushed.status, pushed.json.clone()),
        (200, json!({"data": {"records_pushed": 2}}))
    );
    let status = v6(&central, "site_status", b, pw, &hardware, "").await;
    assert_eq!(status.json, json!({"data": {"is_integrating": false}}));
    let pull = v6(
        &central,
        "pull",
        b,
        pw,
        &hardware,
        r#""cursor":0,"batch_size":500,"is_initialised":true,"#,
    )
    .await;
    assert_eq!(
        (pull.status, pull.json.clone()),
        (
            200,
            json!({"data": {"end_cursor": 0, "total_records": 0, "records": [], "is_last_batch": true}})
        )
    );

    let wrong = v6(&central, "pull", b, "wrong", &hardware, "").await;
    assert_eq!(
        (wrong.status, wrong.json["error"]["code"].clone()),
        (401, json!("site_incorrect_password"))
    );
    let elsewhere = v6(&central, "pull", b, pw, "another-machine", "").await;
    assert_eq!(
        (elsewhere.status, elsewhere.json["error"]["code"].clone()),
        (401, json!("site_incorrect_hardware_id"))
    );
    let malformed = http::Request::post(format!("{central}/central/sync/pull"))
        .body(Full::new(Bytes::from("{}")))
        .unwrap();
    let malformed = send(&http_client(), malformed).await;
    assert_eq!(
        (malformed.status, malformed.json["error"]["code"].clone()),
        (400, json!("bad_request"))
    );
    let get = http::Request::get(format!("{central}/central/sync/pull"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(&http_client(), get).await.status, 405);
    server.stop().await;

    let configured = TestServer::start_with(dir.path(), |config| {
        config.v5.central_url = Some("https://sync.example.org/".into());
    })
    .await;
    let site = v5(&configured, b, pw, "GET", "site", "").await;
    assert_eq!(site.json["omSupplyCentralServerUrl"], "https://sync.example.org");
}

/// A store's record names the site that hosts it as the directory has it, whatever was pushed:
/// open-mSupply treats a store as its own only when `sync_id_remote_site` is its `siteId`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_record_names_its_hosting_site_as_the_directory_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let (a, b) = (&logins[0], &logins[1]);
    let server = TestServer::start(dir.path()).await;
    let stores = [
        record(
            "ST-B",
            "store",
            &b.store_id,
            "",
            &format!(
                r#"{{"ID":"{}","name":"B","code":"B","name_ID":"NB","sync_id_remote_site":"999"}}"#,
                b.store_id
            ),
        ),
        record(
            "ST-X",
            "store",
            "NOT-IN-DIRECTORY",
            "",
            r#"{"ID":"NOT-IN-DIRECTORY","name":"X","code":"X","name_ID":"NX","sync_id_remote_site":"77"}"#,
        ),
    ];
    let pushed = server.satellite(a, "v3").push(&batch(&stores)).await;
    assert_eq!(pushed.json["error"], "", "{}", pushed.raw);
    let site_id = v5(&server, b, &b.password, "GET", "site", "").await.json["siteId"].clone();
    let (central, _) = read_central(&server, b, 0).await;
    let site_of = |id: &str| {
        central
            .iter()
            .find(|r| r["recordId"] == id)
            .map(|r| r["recordData"]["sync_id_remote_site"].clone())
    };
    assert_eq!(
        site_of(&b.store_id),
        Some(site_id),
        "its own store is active on the site"
    );
    assert_eq!(
        site_of("NOT-IN-DIRECTORY"),
        Some(json!(77)),
        "an unknown store keeps its value"
    );
    server.stop().await;
}
