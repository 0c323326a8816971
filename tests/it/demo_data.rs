//! The demo data set that `scripts/demo` loads: a demo satellite initialises from it over real
//! HTTP, and its patients have a dispensing history through the v4 lookups.

use bytes::Bytes;
use http_body_util::Full;
use satsync::admin::demo;

use crate::support::client::{basic, http_client, send};
use crate::support::{SiteLogin, TestServer, PRIMARY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_satellite_initialises_and_its_patients_have_history() {
    let dir = tempfile::tempdir().unwrap();
    let storage = satsync::store::Storage::open(dir.path(), 16).unwrap();
    let sites = demo::create_sites(&storage, PRIMARY).unwrap();
    drop(storage);
    let server = TestServer::start(dir.path()).await;
    let lines = demo::records(42, &sites, &demo::DemoSize::default()).join("\n");
    let applied = satsync::admin::transfer::import(
        &server.primary.engine,
        PRIMARY,
        lines.as_bytes(),
        lines.len() as u64,
        false,
    )
    .await
    .unwrap();
    assert_eq!(applied as usize, lines.lines().count());

    let site = &sites[0];
    let login = SiteLogin {
        id: site.site_id.0,
        name: site.site_name.clone(),
        password: site.site_password.clone(),
        store_id: site.store_id.clone(),
        store_name_id: site.store_name_id.clone(),
    };
    let satellite = server.satellite(&login, "v3");
    let queued = satellite.initial_dump(true).await;
    assert_eq!(queued.status, 200, "{}", queued.raw);
    let records = satellite.drain(500).await;
    assert_eq!(records.len() as u64, queued.json["NumRecords"].as_u64().unwrap());
    fn of<'r>(records: &'r [serde_json::Value], table: &'r str) -> impl Iterator<Item = &'r serde_json::Value> {
        records.iter().filter(move |r| r["RecordType"] == table)
    }
    let of_table = |table: &'static str| of(&records, table);
    let patients: Vec<&str> = of_table("name")
        .filter(|r| r["data"]["type"] == "patient")
        .map(|r| r["RecordID"].as_str().unwrap())
        .collect();
    assert_eq!(patients.len(), demo::DemoSize::default().patients_per_store);
    assert!(of_table("clinician").count() == 1 && of_table("trans_line").count() > 0);
    // Only this store's patients and invoices came: none of another demo store's.
    assert!(of_table("transact").all(|r| r["StoreID"] == site.store_id.as_str()));

    let treated = of_table("transact")
        .map(|r| r["data"]["name_ID"].as_str().unwrap())
        .find(|name| patients.contains(name))
        .expect("some invoices are to patients");
    let request = http::Request::get(format!("{}/api/v4/patient_history?id={treated}", server.base_url()))
        .header("authorization", basic(&login.name, &login.password))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let history = send(&http_client(), request).await;
    assert_eq!(history.status, 200, "{}", history.raw);
    let history = history.json.as_array().unwrap().clone();
    assert!(!history.is_empty());
    let first = &history[0];
    assert_eq!(first["clinician"]["first_name"], "Dr Amina");
    assert_eq!(first["store"]["name"], site.store_name.as_str());
    let line = &first["transLines"][0];
    assert!(line["item_name"].as_str().unwrap().starts_with("Demo item"), "{line}");
    assert!(
        line["itemLine"]["item"]["code"].as_str().unwrap().starts_with("IT"),
        "{line}"
    );
    assert!(line["quantity"].is_number(), "{line}");
    assert_eq!(line["medicineAdministrator"]["first_name"], "Nurse Joao");
    server.stop().await;
}
