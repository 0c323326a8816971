//! The demo data set that `scripts/demo` loads: every demo satellite initialises from it over
//! real HTTP as mSupply Mobile (each batch judged by the app's rules), sees every item it holds
//! stock of, receives the other halves of the transfers between the demo stores, and its
//! patients have a dispensing history through the v4 lookups.

use std::collections::BTreeSet;

use bytes::Bytes;
use http_body_util::Full;
use satsync::admin::demo;
use satsync::sync::ClientKind;
use serde_json::Value;

use crate::support::client::{basic, http_client, send};
use crate::support::{SiteLogin, TestServer};

fn of<'r>(records: &'r [Value], table: &'r str) -> impl Iterator<Item = &'r Value> {
    records.iter().filter(move |r| r["RecordType"] == table)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_satellite_initialises_as_the_app_needs() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sites) = TestServer::demo(dir.path()).await;

    // The mobile sites; the open-mSupply one initialises over v5 (`v5_records`).
    let mobile: Vec<(usize, &demo::DemoSite)> = sites
        .iter()
        .enumerate()
        .filter(|(_, s)| s.client != ClientKind::OpenMsupply)
        .collect();
    assert_eq!(mobile.len(), 2, "the supplier and one customer are mobile sites");
    for (n, site) in mobile {
        let login = SiteLogin::from(site);
        for version in ["v3", "v2"] {
            let satellite = server.satellite(&login, version);
            let queued = satellite.initial_dump(false).await;
            assert_eq!(queued.status, 200, "{}", queued.raw);
            let records = satellite.drain(500).await;
            assert_eq!(records.len() as u64, queued.json["NumRecords"].as_u64().unwrap());
            let report = satellite.judged().unwrap();
            assert_eq!(report.records, records.len(), "every record was judged");
            assert!(report.all_passed(), "{} over {version}: {report}", site.site_name);
            assert!(
                report.missing.is_empty(),
                "{} over {version}: {:?}",
                site.site_name,
                report.missing
            );

            // Every item the store holds stock of is visible to it.
            let stocked: BTreeSet<&str> = of(&records, "item_line")
                .map(|r| r["data"]["item_ID"].as_str().unwrap())
                .collect();
            let visible: BTreeSet<&str> = of(&records, "item_store_join")
                .filter(|r| r["data"]["store_ID"] == site.store_id.as_str() && r["data"]["inactive"] == "false")
                .map(|r| r["data"]["item_ID"].as_str().unwrap())
                .collect();
            assert!(!stocked.is_empty() && stocked.is_subset(&visible), "{}", site.site_name);
            assert!(of(&records, "pref").count() == 1 && of(&records, "store").count() == sites.len());
            assert!(of(&records, "transact").all(|r| r["data"]["store_ID"] == site.store_id.as_str()));

            let requisitions = of(&records, "requisition").count();
            if version == "v2" {
                assert_eq!(requisitions, 0, "the 2017 app is sent no requisitions");
                continue;
            }
            // The supplier receives its customers' orders as its own response requisitions,
            // each customer the supplier's issue as its own supplier invoice.
            let generated: Vec<&Value> = if n == 0 {
                of(&records, "requisition")
                    .filter(|r| r["data"]["type"] == "response")
                    .collect()
            } else {
                of(&records, "transact").filter(|r| r["data"]["type"] == "si").collect()
            };
            let expected = if n == 0 { sites.len() - 1 } else { 1 };
            assert_eq!(generated.len(), expected, "{}", site.site_name);
            for record in generated {
                assert_eq!(record["data"]["store_ID"], site.store_id.as_str());
            }
        }
    }

    // A patient's dispensing history, as a device asks for it (with its hardware id).
    let site = &sites[1];
    let login = SiteLogin::from(site);
    let satellite = server.satellite(&login, "v3");
    satellite.initial_dump(false).await;
    let records = satellite.drain(500).await;
    let patients: Vec<&str> = of(&records, "name")
        .filter(|r| r["data"]["type"] == "patient")
        .map(|r| r["RecordID"].as_str().unwrap())
        .collect();
    assert_eq!(patients.len(), demo::DemoSize::default().patients_per_store);
    let treated = of(&records, "transact")
        .map(|r| r["data"]["name_ID"].as_str().unwrap())
        .find(|name| patients.contains(name))
        .expect("some invoices are to patients");
    let request = http::Request::get(format!("{}/api/v4/patient_history?id={treated}", server.base_url()))
        .header("authorization", basic(&login.name, &login.password))
        .header("msupply-site-uuid", format!("hw-{}", login.name))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let history = send(&http_client(), request).await;
    assert_eq!(history.status, 200, "{}", history.raw);
    let history = history.json.as_array().unwrap().clone();
    assert!(!history.is_empty(), "{history:?}");
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

/// `satsync demo` run as an operator runs it, with the patient API moved to another base path:
/// the address it prints for that API is the one that serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_the_configured_patient_path() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let config = crate::support::write_config(
        &dir.path().join("satsync.toml"),
        &dir.path().join("db"),
        "[patient]\nbase_path = \"/ehmp/sync\"\n",
    );
    /// The demo server, stopped however the test ends.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_satsync"))
            .args(["--config", config.to_str().unwrap(), "demo"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (lines, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut patient_url = None;
    while let Ok(line) = printed.recv_timeout(std::time::Duration::from_secs(120)) {
        if let Some(rest) = line.strip_prefix("The patient sync API is at ") {
            patient_url = rest.split_whitespace().next().map(str::to_string);
            break;
        }
    }
    let patient_url = patient_url.expect("the demo prints where the patient API is");
    assert!(patient_url.ends_with("/ehmp/sync"), "{patient_url}");

    // Served there: an unauthenticated call gets the patient API's own 401 envelope.
    let request = |url: String| http::Request::builder().uri(url).body(Full::new(Bytes::new())).unwrap();
    let client = http_client();
    let reply = send(&client, request(format!("{patient_url}/status?pid=0002;1"))).await;
    assert_eq!(reply.status, 401, "{}", reply.raw);
    assert_eq!(reply.json["status"], 401, "{}", reply.raw);
}
