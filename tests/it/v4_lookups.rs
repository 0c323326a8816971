//! The v4 patient lookups at both prefixes: `name_store_join` creates or returns a join and
//! makes the patient reach the store's site; `patient_history` is built from the stored
//! invoices, kept current by every push through the lookups index.

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{json, Value};

use crate::support::client::{basic, http_client, send, Reply};
use crate::support::data::{batch, delete, ids, record};
use crate::support::{register_sites, SiteLogin, TestServer};

const PATIENT: &str = "0000000000000000000000000000P001";

async fn call(server: &TestServer, login: Option<&SiteLogin>, method: &str, path: &str, body: &str) -> Reply {
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", server.base_url()));
    if let Some(login) = login {
        // As the device's own calls do: its site is bound to its hardware id once it has synced.
        request = request
            .header("authorization", basic(&login.name, &login.password))
            .header("msupply-site-uuid", format!("hw-{}", login.name));
    }
    send(
        &http_client(),
        request.body(Full::new(Bytes::from(body.to_string()))).unwrap(),
    )
    .await
}

/// A patient with two confirmed customer invoices at store A, one draft and one supplier
/// invoice that must not show, and the records the history refers to.
fn history_records(store: &str) -> Vec<String> {
    let invoice = |id: &str, kind: &str, status: &str, date: &str| {
        record(
            &format!("S-{id}"),
            "transact",
            id,
            store,
            &format!(
                r#"{{"ID":"{id}","name_ID":"{PATIENT}","type":"{kind}","status":"{status}","confirm_date":"{date}","store_ID":"{store}","clinician_ID":"CL1"}}"#
            ),
        )
    };
    let line = |id: &str, invoice: &str, quantity: &str| {
        record(
            &format!("S-{id}"),
            "trans_line",
            id,
            store,
            &format!(
                r#"{{"ID":"{id}","transaction_ID":"{invoice}","item_line_ID":"IL1","item_name":"Amoxicillin 250mg","quantity":"{quantity}","medicine_administrator_ID":"MA1","store_ID":"{store}"}}"#
            ),
        )
    };
    vec![
        record(
            "S-P",
            "name",
            PATIENT,
            "",
            &format!(r#"{{"ID":"{PATIENT}","name":"Ana Patient","type":"patient"}}"#),
        ),
        record(
            "S-CL",
            "clinician",
            "CL1",
            store,
            r#"{"ID":"CL1","first_name":"Rui","last_name":"Costa","store_ID":""}"#,
        ),
        record(
            "S-MA",
            "medicine_administrator",
            "MA1",
            "",
            r#"{"ID":"MA1","first_name":"Eva","last_name":"Lima"}"#,
        ),
        record(
            "S-IT",
            "item",
            "IT1",
            "",
            r#"{"ID":"IT1","code":"AMX250","item_name":"Amoxicillin","doses":"0","is_vaccine":false}"#,
        ),
        record(
            "S-IL",
            "item_line",
            "IL1",
            store,
            &format!(r#"{{"ID":"IL1","item_ID":"IT1","store_ID":"{store}"}}"#),
        ),
        invoice("T2", "ci", "fn", "2019-02-22"),
        invoice("T1", "ci", "cn", "2018-11-05"),
        invoice("T3", "ci", "nw", "2019-03-01"),
        invoice("T4", "si", "fn", "2019-03-02"),
        line("L1", "T1", "5"),
        line("L2", "T2", "12"),
        line("L3", "T2", "1.5"),
        line("L4", "T3", "7"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_history_from_the_stored_invoices_at_both_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let (a, b) = (&logins[0], &logins[1]);
    let server = TestServer::start(dir.path()).await;
    let pushed = server
        .satellite(a, "v3")
        .push(&batch(&history_records(&a.store_id)))
        .await;
    assert_eq!(pushed.json, json!({"error": ""}), "{}", pushed.raw);

    let expected = json!([
        {"confirm_date":"2018-11-05","store":{"name":format!("store of {}", a.name)},
         "clinician":{"first_name":"Rui","last_name":"Costa"},
         "transLines":[{"ID":"L1","quantity":5,"item_name":"Amoxicillin 250mg",
            "itemLine":{"item":{"code":"AMX250","doses":0,"is_vaccine":false}},
            "medicineAdministrator":{"first_name":"Eva","last_name":"Lima"}}]},
        {"confirm_date":"2019-02-22","store":{"name":format!("store of {}", a.name)},
         "clinician":{"first_name":"Rui","last_name":"Costa"},
         "transLines":[
            {"ID":"L2","quantity":12,"item_name":"Amoxicillin 250mg",
             "itemLine":{"item":{"code":"AMX250","doses":0,"is_vaccine":false}},
             "medicineAdministrator":{"first_name":"Eva","last_name":"Lima"}},
            {"ID":"L3","quantity":1.5,"item_name":"Amoxicillin 250mg",
             "itemLine":{"item":{"code":"AMX250","doses":0,"is_vaccine":false}},
             "medicineAdministrator":{"first_name":"Eva","last_name":"Lima"}}]}
    ]);
    for prefix in ["/api/v4", "/sync/v4"] {
        let reply = call(
            &server,
            Some(b),
            "GET",
            &format!("{prefix}/patient_history?id={PATIENT}"),
            "",
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.raw);
        assert_eq!(reply.json, expected, "{prefix}");
        let lower = call(
            &server,
            Some(b),
            "GET",
            &format!("{prefix}/patient_history/?id={}", PATIENT.to_lowercase()),
            "",
        )
        .await;
        assert_eq!(lower.json, expected, "ids in any case");
    }
    let unknown = call(&server, Some(b), "GET", "/api/v4/patient_history?id=NOBODY", "").await;
    assert_eq!((unknown.status, unknown.json.clone()), (200, json!([])));
    let anonymous = call(
        &server,
        None,
        "GET",
        &format!("/api/v4/patient_history?id={PATIENT}"),
        "",
    )
    .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json["error"], "Invalid username or password");
    let missing = call(&server, Some(b), "GET", "/api/v4/patient_history", "").await;
    assert_eq!(missing.status, 400);

    // Every push keeps the lookups current: an invoice moved to another patient and a deleted
    // line leave the history, and it all survives a restart.
    let moved = record(
        "S-T1b",
        "transact",
        "T1",
        &a.store_id,
        &format!(
            r#"{{"ID":"T1","name_ID":"SOMEONE","type":"ci","status":"cn","confirm_date":"2018-11-05","store_ID":"{}"}}"#,
            a.store_id
        ),
    );
    server
        .satellite(a, "v3")
        .push(&batch(&[moved, delete("S-L3d", "trans_line", "L3", &a.store_id)]))
        .await;
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    let after = call(
        &server,
        Some(b),
        "GET",
        &format!("/api/v4/patient_history?id={PATIENT}"),
        "",
    )
    .await;
    let after = after.json.as_array().unwrap().clone();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["confirm_date"], "2019-02-22");
    let lines: Vec<&Value> = after[0]["transLines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["ID"])
        .collect();
    assert_eq!(lines, [&json!("L2")]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_store_join_creates_once_and_brings_the_patient_to_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let (a, b) = (&logins[0], &logins[1]);
    let server = TestServer::start(dir.path()).await;
    server
        .satellite(a, "v3")
        .push(&batch(&history_records(&a.store_id)[..1]))
        .await;
    let satellite_b = server.satellite(b, "v3");
    assert!(
        satellite_b.drain(100).await.iter().all(|r| r["RecordType"] != "name"),
        "a patient is not central"
    );

    let body = json!({"name_ID": PATIENT, "store_ID": b.store_id}).to_string();
    let created = call(&server, Some(b), "POST", "/api/v4/name_store_join", &body).await;
    assert_eq!(created.status, 200, "{}", created.raw);
    let id = created.json["ID"].as_str().unwrap().to_string();
    assert_eq!(
        created.json,
        json!({"ID": id, "name_ID": PATIENT, "store_ID": b.store_id, "inactive": false})
    );
    let delivered = satellite_b.drain(100).await;
    let mut tables: Vec<&str> = delivered.iter().map(|r| r["RecordType"].as_str().unwrap()).collect();
    tables.sort_unstable();
    assert_eq!(
        tables,
        ["name", "name_store_join"],
        "the join and the patient reach B's site"
    );
    assert!(ids(&delivered).contains(&PATIENT.to_string()));

    let again = call(&server, Some(b), "POST", "/sync/v4/name_store_join/", &body).await;
    assert_eq!(again.json, created.json, "an existing join is returned, not made twice");
    assert_eq!(satellite_b.count().await, 0);

    for (body, fragment) in [
        (json!({"name_ID": PATIENT}), "store_ID is missing"),
        (json!({"store_ID": b.store_id}), "name_ID is missing"),
        (json!({"name_ID": "NOBODY", "store_ID": b.store_id}), "not a known name"),
        (json!({"name_ID": PATIENT, "store_ID": "NOSTORE"}), "not a known store"),
    ] {
        let refused = call(&server, Some(b), "POST", "/api/v4/name_store_join", &body.to_string()).await;
        assert_eq!(refused.status, 400, "{body}");
        assert!(
            refused.json["error"].as_str().unwrap().contains(fragment),
            "{}",
            refused.raw
        );
    }
    let malformed = call(&server, Some(b), "POST", "/api/v4/name_store_join", "{not json").await;
    assert_eq!(malformed.status, 400);
    let anonymous = call(&server, None, "POST", "/api/v4/name_store_join", &body).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(satellite_b.count().await, 0, "refused requests change nothing");
    assert_eq!(server.satellite(a, "v3").count().await, 0);
    server.stop().await;
}
