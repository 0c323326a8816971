//! What open-mSupply's translators make of what satsync serves over v5: every demo site
//! initialised as an open-mSupply remote (site, initialise, the central feed, the queue), every
//! record judged by the v5 validator, and nothing the site needs missing.

use satsync::sync::ClientKind;
use serde_json::Value;

use crate::support::remote::{failures, Remote};
use crate::support::{SiteLogin, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_site_initialises_over_v5_as_open_msupply_needs() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sites) = TestServer::demo(dir.path()).await;
    for site in &sites {
        let mut remote = Remote::new(&server.base_url(), &SiteLogin::from(site));
        let info = remote.call("GET", "site", "").await;
        assert_eq!(info.json["siteId"], site.site_id.0, "{}", info.raw);
        let queued = remote.initialise().await;
        let verdicts = remote.sync(500).await;
        let name = &site.site_name;
        assert!(queued > 0 && !verdicts.is_empty(), "{name}: nothing received");
        assert!(remote.page_defects.is_empty(), "{name}: {:#?}", remote.page_defects);
        assert_eq!(failures(&verdicts), "", "{name}: {}", remote.report());
        assert_eq!(remote.missing_prerequisites(), Vec::<String>::new(), "{name}");
        // Every table the demo holds for the site was judged: no table slipped through.
        let tables: std::collections::BTreeSet<&str> =
            remote.received.iter().filter_map(|r| r["tableName"].as_str()).collect();
        for table in [
            "store",
            "name",
            "item",
            "item_line",
            "transact",
            "trans_line",
            "currency",
        ] {
            assert!(tables.contains(table), "{name}: no {table} received ({tables:?})");
        }
        let own_store = remote
            .received
            .iter()
            .find(|r| r["tableName"] == "store" && r["recordId"] == site.store_id.as_str())
            .map(|r| r["recordData"]["sync_id_remote_site"].clone());
        assert_eq!(
            own_store,
            Some(Value::from(site.site_id.0)),
            "{name}: its store is active"
        );
        if site.client == ClientKind::OpenMsupply {
            // Declared open-mSupply before its first sync: what the district store issued to it
            // came as the district's own invoice, with its lines, and no half was generated.
            let of = |table: &'static str| remote.received.iter().filter(move |r| r["tableName"] == table);
            let issued: Vec<&Value> = of("transact")
                .filter(|r| {
                    let data = &r["recordData"];
                    data["type"] == "ci"
                        && data["store_ID"] == sites[0].store_id.as_str()
                        && data["name_ID"] == site.store_name_id.as_str()
                })
                .collect();
            assert!(!issued.is_empty(), "{name}: the district's issue to it arrived");
            for invoice in &issued {
                assert!(
                    of("trans_line").any(|l| l["recordData"]["transaction_ID"] == invoice["recordId"]),
                    "{name}: the issue's lines arrived"
                );
            }
            assert!(
                !of("transact")
                    .any(|r| r["recordData"]["type"] == "si" && r["recordData"]["store_ID"] == site.store_id.as_str()),
                "{name}: no supplier invoice was generated for it"
            );
        }
    }
    assert!(
        sites.iter().any(|s| s.client == ClientKind::OpenMsupply),
        "one demo site is open-mSupply"
    );
    server.stop().await;
}
