//! Record ids are unique across tables (open-mSupply keys what it receives by id alone, and a
//! second table's record under the same id would overwrite the first): a push that gives an id
//! held by one table to another is refused whole, over v2/v3 and over v5, and changes nothing.

use crate::support::data::{batch, item, record};
use crate::support::remote::Remote;
use crate::support::{register_sites, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_held_by_another_table_is_refused_at_push() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 3);
    let server = TestServer::start(dir.path()).await;
    let (a, b) = (server.satellite(&logins[0], "v3"), server.satellite(&logins[1], "v3"));
    let item_id = format!("{:032X}", 0x1_0000_0000u64 + 1);
    assert_eq!(a.push(&batch(&[item(1)])).await.json["error"], "");
    assert_eq!(b.count().await, 1);

    // The item's id, in another case, for a unit: the whole push is refused, its item too.
    let unit = record("U1", "unit", &item_id.to_lowercase(), "", r#"{"units":"box"}"#);
    let reply = a.push(&batch(&[item(2), unit])).await;
    let message = reply.json["error"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("record 2 of the push (unit ") && message.contains("already a item record's"),
        "{message}"
    );
    // One id given to two tables in one push.
    let twice = batch(&[
        record("U2", "unit", "SHARED", "", r#"{"units":"tin"}"#),
        record(
            "I3",
            "item",
            "SHARED",
            "",
            r#"{"ID":"SHARED","code":"S","item_name":"S"}"#,
        ),
    ]);
    let message = a.push(&twice).await.json["error"].as_str().unwrap().to_string();
    assert!(message.starts_with("record 2 of the push (item SHARED)"), "{message}");
    assert_eq!(b.count().await, 1, "nothing of a refused push was applied");

    // The table that holds the id may change its record; another site may not take the id.
    let update = record(
        "ITEM1-again",
        "item",
        &item_id,
        "",
        &format!(r#"{{"ID":"{item_id}","item_name":"Renamed"}}"#),
    );
    assert_eq!(a.push(&batch(&[update])).await.json["error"], "");
    let remote = Remote::new(&server.base_url(), &logins[2]);
    let body = format!(
        r#"{{"queueLength":0,"data":[{{"syncOutId":"1","tableName":"clinician","recordId":"{item_id}","action":"Update","recordData":{{"ID":"{item_id}"}}}}]}}"#
    );
    let refused = remote.call("POST", "queued_records", &body).await;
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert!(
        refused.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already a item record's"),
        "{}",
        refused.raw
    );
    // What was accepted is still there, once; the server says the same after a restart (the ids
    // held are stored, not only known in memory).
    let records = b.drain(100).await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["data"]["item_name"], "Renamed");
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    let a = server.satellite(&logins[0], "v3");
    let unit = record("U3", "unit", &item_id, "", r#"{"units":"box"}"#);
    let message = a.push(&batch(&[unit])).await.json["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("already a item record's"),
        "after a restart: {message}"
    );
    let fresh = record("U4", "unit", "UNIT-NEW", "", r#"{"units":"box"}"#);
    assert_eq!(a.push(&batch(&[fresh])).await.json["error"], "", "a new id is taken");
    server.stop().await;
}
