//! v1, numbered tables and fields: a v1 push is stored in the named form (a v2 or v5 satellite
//! pulls it as if it had been pushed in v2), a v2 push is pulled in v1 through the numbering, each
//! version gets the whole row in its own value forms and a partial update keeps what it leaves out,
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

/// The central records an open-mSupply site reads (items are central), from the start.
async fn v5_pull(server: &TestServer, login: &SiteLogin) -> Value {
    let request = http::Request::get(format!(
        "{}/sync/v5/central_records?cursor=0&limit=50",
        server.base_url()
    ))
    .header("authorization", basic(&login.name, &login.password))
    .body(Full::new(Bytes::new()))
    .unwrap();
    let reply = send(&http_client(), request).await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    reply.json
}

/// A v1 record's values by field name (through the shipped numbering).
fn named(record: &Value) -> serde_json::Map<String, Value> {
    let numbering = Numbering::builtin();
    let table = numbering
        .table_numbered(record["TableNumber"].as_u64().unwrap() as u32)
        .unwrap();
    let fields = record["fields"].as_array().unwrap();
    let values = record["values"].as_array().unwrap();
    assert_eq!(fields.len(), values.len());
    fields
        .iter()
        .zip(values)
        .map(|(f, v)| {
            (
                table.field_name(f.as_u64().unwrap() as u32).unwrap().to_string(),
                v.clone(),
            )
        })
        .collect()
}

/// Asserts that `data` holds each of `expected`'s fields with its value.
fn holds(data: &Value, expected: Value, what: &str) {
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(data.get(key), Some(value), "{what}: {key} in {data}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_cross_between_v1_v2_and_v5_as_whole_rows_in_each_formats_values() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 3);
    let (desktop, mobile, remote) = (&logins[0], &logins[1], &logins[2]);
    let server = TestServer::start(dir.path()).await;
    let v1 = server.satellite(desktop, "v1");

    // v1 → v2 and v5: the whole row, completed with the catalogue's defaults; text in v2,
    // native types in v5.
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
    let in_v2 = server.satellite(mobile, "v2").pull_records(10).await;
    assert_eq!(in_v2.len(), 1);
    assert_eq!(
        (&in_v2[0]["RecordType"], &in_v2[0]["KeyFieldID"]),
        (&json!("item"), &json!(1))
    );
    let row = json!({"ID": "AB12", "item_name": "Amoxicillin 250mg", "code": "AMX250", "default_pack_size": "100",
        "doses": "0", "is_vaccine": "false", "type_of": "general", "unit_ID": ""});
    holds(&in_v2[0]["data"], row, "v1 → v2");
    let in_v5 = v5_pull(&server, remote).await;
    holds(
        &in_v5["data"][0]["recordData"],
        json!({"ID": "AB12", "default_pack_size": 100, "doses": 0, "is_vaccine": false, "item_name": "Amoxicillin 250mg"}),
        "v1 → v5",
    );
    assert_eq!(v1.count().await, 0, "never back to its origin");

    // v3 with JSON types → v1 (text, every numbered field) and v5 (native again).
    let typed = r#"{"ID":"CD34","code":"PCM","item_name":"Paracetamol \"500\"","doses":2,"is_vaccine":false}"#;
    let mobile_v3 = server.satellite(mobile, "v3");
    let mobile_push = mobile_v3
        .push(&batch(&[record("V2-1", "item", "CD34", "", typed)]))
        .await;
    assert_eq!(mobile_push.json["error"], "", "{}", mobile_push.raw);
    let in_v1 = v1.pull_records(10).await;
    assert_eq!(in_v1.len(), 1);
    assert_eq!(
        (&in_v1[0]["TableNumber"], &in_v1[0]["RecordID"]),
        (&json!(item), &json!("CD34"))
    );
    let as_v1 = Value::Object(named(&in_v1[0]));
    holds(
        &as_v1,
        json!({"ID": "CD34", "code": "PCM", "item_name": "Paracetamol \"500\"", "doses": "2", "is_vaccine": "false",
            "default_pack_size": "1"}),
        "v3 → v1",
    );
    let numbered_fields = Numbering::builtin()
        .table_named("item")
        .unwrap()
        .field_number("buy_price");
    assert!(
        numbered_fields.is_some() && as_v1.get("buy_price").is_some(),
        "every numbered field goes out"
    );
    let in_v5 = v5_pull(&server, remote).await;
    holds(
        &in_v5["data"][1]["recordData"],
        json!({"ID": "CD34", "doses": 2, "is_vaccine": false, "item_name": "Paracetamol \"500\""}),
        "v3 → v5",
    );

    // What a v1 satellite pulled, pushed back as it is (forwarded), is the same record in v2.
    let sync_id = in_v1[0]["SyncID"].as_str().unwrap().to_string();
    assert_eq!(v1.acknowledge(&[sync_id]).await.json["NumRecords"], 0);
    let mut forwarded = in_v1[0].clone();
    forwarded["SyncID"] = json!("V1-FWD");
    let resent = v1.push(&format!("[{forwarded}]")).await;
    assert_eq!(resent.json["error"], "", "{}", resent.raw);
    let mobile_v2 = server.satellite(mobile, "v2");
    let again = mobile_v2.drain(10).await;
    assert_eq!(again.len(), 2, "AB12 not yet acknowledged, then CD34 again");
    holds(
        &again[1]["data"],
        json!({"ID": "CD34", "doses": "2", "is_vaccine": "false", "code": "PCM"}),
        "forwarded",
    );

    // A partial update over v2 changes the fields it carries; the others keep their value, as
    // v1, v2 and v5 all read back.
    let partial = record(
        "V2-2",
        "item",
        "CD34",
        "",
        r#"{"ID":"CD34","item_name":"Paracetamol 500mg"}"#,
    );
    assert_eq!(mobile_v3.push(&batch(&[partial])).await.json["error"], "");
    let in_v1 = v1.pull_records(10).await;
    holds(
        &Value::Object(named(&in_v1[0])),
        json!({"item_name": "Paracetamol 500mg", "code": "PCM", "doses": "2"}),
        "partial update in v1",
    );
    let in_v5 = v5_pull(&server, remote).await;
    let latest = in_v5["data"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|r| r["recordId"] == "CD34")
        .unwrap();
    holds(
        &latest["recordData"],
        json!({"item_name": "Paracetamol 500mg", "code": "PCM", "doses": 2}),
        "partial update in v5",
    );
    let other = server.satellite(remote, "v3");
    other.initial_dump(true).await;
    let dumped = other.drain(100).await;
    let row = dumped.iter().find(|r| r["RecordID"] == "CD34").unwrap();
    holds(
        &row["data"],
        json!({"item_name": "Paracetamol 500mg", "code": "PCM", "doses": "2", "is_vaccine": "false"}),
        "partial update in v2, after a re-initialisation",
    );
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
