//! Bad input gets a clear JSON error in the API's format and changes nothing: against one
//! process, and (`cluster_…`) against two instances on a NATS cluster, each request of a
//! satellite going to the instance after the one before.

use crate::support::data::{batch, item, record};
use crate::support::deployment::{both_ways, Deployment, Kind};

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn bad_requests_are_refused_and_change_nothing, cluster_bad_requests_are_refused_and_change_nothing = refused_and_unchanged
}

async fn refused_and_unchanged(kind: Kind) {
    let (deployment, logins) = Deployment::start_with(
        kind,
        |config| config.limits.max_body_bytes = 64 * 1024,
        |registrar| async move { registrar.register_sites(2).await },
    )
    .await;
    let (a, b) = (
        deployment.satellite(&logins[0], "v3"),
        deployment.satellite(&logins[1], "v3"),
    );
    let q = format!("from_site={}&to_site=1", logins[0].id);

    let protocol_errors = [
        ("POST", format!("queued_records?{q}"), "[{\"SyncID\":".to_string(), 400),
        (
            "POST",
            format!("queued_records?{q}"),
            "{\"SyncID\":\"x\"}".to_string(),
            400,
        ),
        ("POST", format!("queued_records?{q}"), "not json".to_string(), 400),
        (
            "POST",
            format!("queued_records?{q}"),
            format!("[{}]", vec![item(1); 1000].join(",")),
            413,
        ),
        ("GET", format!("queued_records?{q}&limit=ten"), String::new(), 400),
        ("GET", format!("queued_records?{q}&limit=-1"), String::new(), 400),
        (
            "GET",
            "queued_records?to_site=1&limit=1".to_string(),
            String::new(),
            400,
        ),
        (
            "GET",
            "queued_records?from_site=x&to_site=1".to_string(),
            String::new(),
            400,
        ),
        (
            "POST",
            format!("acknowledged_records?{q}"),
            "{\"SyncRecordIDs\":[1,2]}".to_string(),
            400,
        ),
        ("POST", format!("acknowledged_records?{q}"), "{oops".to_string(), 400),
        ("GET", "no_such_endpoint".to_string(), String::new(), 404),
        ("DELETE", format!("queued_records?{q}"), String::new(), 405),
    ];
    for (method, path, body, status) in protocol_errors {
        let reply = a.request(method, &path, &body).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.raw);
        assert!(
            reply.json["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{method} {path}: {}",
            reply.raw
        );
    }

    // Record-level problems: 200 with a message naming the record, and nothing of the batch applied.
    let valid = item(5);
    let record_errors = [
        record("X1", "item", "A1", "", "{}").replace("\"U\"", "\"Z\""),
        r#"{"SyncID":"X2","RecordType":"item","SyncType":"U","Data":{}}"#.to_string(),
        r#"{"SyncID":"X3","RecordType":"item","RecordID":"A3","SyncType":"U","Data":"text"}"#.to_string(),
        r#"{"SyncID":"X4","RecordType":"item","RecordID":17,"SyncType":"U","Data":{}}"#.to_string(),
        r#"{"RecordType":"item","RecordID":"A5","SyncType":"U","Data":{}}"#.to_string(),
        r#"{"SyncID":"X6","RecordType":"item","RecordID":"A6","SyncType":"M"}"#.to_string(),
        // Values that are not their field's type (the field catalogue's).
        record(
            "X7",
            "item",
            "A7",
            "",
            r#"{"ID":"A7","code":"C","item_name":"N","doses":"lots"}"#,
        ),
        record("X8", "transact", "A8", "", r#"{"ID":"A8","entry_date":"05/01/2024"}"#),
        record("X9", "item", "A9", "", r#"{"ID":"A9","is_vaccine":"perhaps"}"#),
    ];
    for bad in record_errors {
        let reply = a
            .request(
                "POST",
                &format!("queued_records?{q}"),
                &batch(&[valid.clone(), bad.clone()]),
            )
            .await;
        assert_eq!(reply.status, 200, "{bad}: {}", reply.raw);
        let message = reply.json["error"].as_str().unwrap();
        assert!(message.starts_with("record 2 of the push"), "{bad}: {message}");
        if bad.contains("\"X7\"") {
            assert!(message.contains("field doses: \"lots\" is not a number"), "{message}");
        }
    }
    assert_eq!(b.count().await, 0, "nothing of any refused batch was applied");
    assert_eq!(
        a.push(&batch(&[valid])).await.json["error"],
        "",
        "the valid record alone is fine"
    );
    assert_eq!(b.count().await, 1);
    deployment.stop().await;
}
