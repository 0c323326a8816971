//! v1, numbered tables and fields: a v1 push is stored in the named form (a v2 or v5 satellite
//! pulls it as if it had been pushed in v2), a v2 push is pulled in v1 through the numbering,
//! bad numbers apply nothing, and the historic shared sync user works only when enabled.

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use satsync::domain::credentials::PasswordHash;
use satsync::domain::numbering::Numbering;
use serde_json::{json, Value};

use crate::support::client::{basic, http_client, send, Reply};
use crate::support::data::{batch, record};
use crate::support::{register_sites, SiteLogin, TestServer};

/// A record in the v1 push shape.
fn numbered(sync_id: &str, table: u32, id: &str, store: &str, fields: &[u32], values: &[&str]) -> String {
    json!({"SyncID": sync_id, "TableNumber": table, "RecordID": id, "KeyFieldID": 1, "SyncType": "U",
        "StoreID": store, "fields": fields, "values": values})
    .to_string()
}

/// The numbers of `table` and of its `fields` in the shipped numbering.
fn numbers(table: &str, fields: &[&str]) -> (u32, Vec<u32>) {
    let numbering = Numbering::builtin();
    let numbered = numbering.table_named(table).unwrap();
    let fields = fields.iter().map(|f| numbered.field_number(f).unwrap()).collect();
    (numbered.number, fields)
}

async fn v5_pull(server: &TestServer, login: &SiteLogin) -> Value {
    let request = http::Request::get(format!("{}/sync/v5/queued_records?limit=50", server.base_url()))
        .header("authorization", basic(&login.name, &login.password))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = send(&http_client(), request).await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    reply.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_cross_between_v1_v2_and_v5_with_their_data_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 3);
    let (desktop, mobile, remote) = (&logins[0], &logins[1], &logins[2]);
    let server = TestServer::start(dir.path()).await;
    let v1 = server.satellite(desktop, "v1");

    // v1 → v2 and v5: the values become a named object in the order sent.
    let (item, fields) = numbers("item", &["ID", "item_name", "code", "default_pack_size"]);
    let values = ["AB12", "Amoxicillin 250mg", "AMX250", "100"];
    let pushed = v1
        .push(&batch(&[numbered("V1-1", item, "AB12", "", &fields, &values)]))
        .await;
    assert_eq!(
        (pushed.status, pushed.json.clone()),
        (200, json!({"error": ""})),
        "{}",
        pushed.raw
    );
    let expected = r#"{"ID":"AB12","item_name":"Amoxicillin 250mg","code":"AMX250","default_pack_size":"100"}"#;
    let in_v2 = server.satellite(mobile, "v2").pull(10).await;
    assert_eq!(in_v2.json.as_array().unwrap().len(), 1, "{}", in_v2.raw);
    assert_eq!(in_v2.json[0]["RecordType"], "item");
    assert_eq!(in_v2.json[0]["KeyFieldID"], 1);
    assert!(in_v2.raw.contains(&format!(r#""data":{expected}"#)), "{}", in_v2.raw);
    let in_v5 = v5_pull(&server, remote).await;
    assert_eq!(
        in_v5["data"][0]["recordData"],
        serde_json::from_str::<Value>(expected).unwrap()
    );
    assert_eq!(v1.count().await, 0, "never back to its origin");

    // v2 → v1 (and v5): typed values go out as their text, in the stored order.
    let typed = r#"{"ID":"CD34","code":"PCM","item_name":"Paracetamol \"500\"","doses":2,"is_vaccine":false}"#;
    let mobile_push = server
        .satellite(mobile, "v3")
        .push(&batch(&[record("V2-1", "item", "CD34", "", typed)]))
        .await;
    assert_eq!(mobile_push.json["error"], "", "{}", mobile_push.raw);
    let in_v1 = v1.pull_records(10).await;
    assert_eq!(in_v1.len(), 1);
    let (_, typed_fields) = numbers("item", &["ID", "code", "item_name", "doses", "is_vaccine"]);
    assert_eq!(in_v1[0]["TableNumber"], item);
    assert_eq!(in_v1[0]["RecordID"], "CD34");
    assert_eq!(in_v1[0]["fields"], json!(typed_fields));
    assert_eq!(
        in_v1[0]["values"],
        json!(["CD34", "PCM", "Paracetamol \"500\"", "2", "false"])
    );
    let in_v5 = v5_pull(&server, remote).await;
    assert_eq!(
        in_v5["data"][1]["recordData"],
        serde_json::from_str::<Value>(typed).unwrap()
    );

    // What a v1 satellite pulled, pushed back as it is (forwarded), is the same record in v2.
    let sync_id = in_v1[0]["SyncID"].as_str().unwrap().to_string();
    assert_eq!(v1.acknowledge(&[sync_id]).await.json["NumRecords"], 0);
    let mut forwarded = in_v1[0].clone();
    forwarded["SyncID"] = json!("V1-FWD");
    let resent = v1.push(&format!("[{forwarded}]")).await;
    assert_eq!(resent.json["error"], "", "{}", resent.raw);
    let again = server.satellite(mobile, "v2").pull(10).await;
    let forwarded_data =
        r#"{"ID":"CD34","code":"PCM","item_name":"Paracetamol \"500\"","doses":"2","is_vaccine":"false"}"#;
    assert!(again.raw.contains(forwarded_data), "{}", again.raw);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_numbers_are_named_and_nothing_of_the_push_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start(dir.path()).await;
    let v1 = server.satellite(&logins[0], "v1");
    let other = server.satellite(&logins[1], "v1");
    let (item, fields) = numbers("item", &["ID", "code"]);
    let good = numbered("OK-1", item, "EF56", "", &fields, &["EF56", "X"]);

    let unknown_table = v1
        .push(&batch(&[
            good.clone(),
            numbered("BAD-1", 999, "EF57", "", &[1], &["EF57"]),
        ]))
        .await;
    assert_eq!(unknown_table.status, 200, "record problems are shown to the user");
    let message = unknown_table.json["error"].as_str().unwrap();
    assert!(
        message.contains("record 2") && message.contains("TableNumber 999"),
        "{message}"
    );

    let unknown_field = v1
        .push(&batch(&[
            good.clone(),
            numbered("BAD-2", item, "EF58", "", &[1, 777], &["EF58", "?"]),
        ]))
        .await;
    let message = unknown_field.json["error"].as_str().unwrap();
    assert!(
        message.contains("field number 777") && message.contains("table item"),
        "{message}"
    );

    let mismatched = v1
        .push(&batch(&[numbered("BAD-3", item, "EF59", "", &[1, 2], &["EF59"])]))
        .await;
    assert!(mismatched.json["error"]
        .as_str()
        .unwrap()
        .contains("2 field numbers but 1 values"));

    let malformed = v1.push(r#"[{"SyncID":"x","TableNumber":"#).await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.json["error"].as_str().unwrap().contains("JSON array"));
    assert_eq!(other.count().await, 0, "nothing of a refused push is applied");

    let accepted = v1.push(&batch(&[good])).await;
    assert_eq!(accepted.json["error"], "", "{}", accepted.raw);
    assert_eq!(other.count().await, 1);
    server.stop().await;
}

fn plain_basic(name: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
    )
}

async fn shared_count(server: &TestServer, version: &str, authorization: &str, from_site: u32) -> Reply {
    let request = http::Request::get(format!(
        "{}/sync/{version}/queued_records/count?from_site={from_site}&to_site=1",
        server.base_url()
    ))
    .header("authorization", authorization)
    .body(Full::new(Bytes::new()))
    .unwrap();
    send(&http_client(), request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_v1_user_acts_for_the_named_site_only_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let (a, b) = (&logins[0], &logins[1]);
    let shared = plain_basic("sync", "shared secret");

    // Off by default: the shared user is just a wrong name.
    let server = TestServer::start(dir.path()).await;
    assert_eq!(shared_count(&server, "v1", &shared, a.id).await.status, 401);
    server.stop().await;

    let server = TestServer::start_with(dir.path(), |config| {
        config.v1.shared_user = Some("sync".into());
        config.v1.shared_password_hash = Some(PasswordHash::from_password("shared secret"));
    })
    .await;
    server
        .satellite(b, "v2")
        .push(&batch(&[record("S-1", "item", "GH78", "", r#"{"ID":"GH78"}"#)]))
        .await;
    let counted = shared_count(&server, "v1", &shared, a.id).await;
    assert_eq!(
        (counted.status, counted.json.clone()),
        (200, json!({"NumRecords": 1})),
        "{}",
        counted.raw
    );
    let hashed = plain_basic("sync", &satsync::domain::credentials::client_secret("shared secret"));
    assert_eq!(shared_count(&server, "v1", &hashed, a.id).await.status, 200);
    let site = http::Request::get(format!("{}/sync/v1/site?site_name={}", server.base_url(), a.name))
        .header("authorization", &shared)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let site = send(&http_client(), site).await;
    assert_eq!(
        (site.status, site.json["SiteID"].clone()),
        (200, json!(a.id)),
        "{}",
        site.raw
    );

    // Refused alike: wrong password, an unknown site, the primary itself, and any other version.
    let wrong = plain_basic("sync", "guess");
    for (version, authorization, from_site) in [
        ("v1", wrong.as_str(), a.id),
        ("v1", shared.as_str(), 99),
        ("v1", shared.as_str(), 1),
        ("v2", shared.as_str(), a.id),
        ("v3", shared.as_str(), a.id),
    ] {
        let refused = shared_count(&server, version, authorization, from_site).await;
        assert_eq!(refused.status, 401, "{version} {from_site}: {}", refused.raw);
        assert_eq!(refused.json, json!({"error": "Invalid username or password"}));
    }
    // The site's own credentials still work on v1.
    assert_eq!(server.satellite(a, "v1").count().await, 1);
    server.stop().await;
}
