//! Sites, stores and users administered while the primary serves: a clinic added, given a store
//! and a user, synced, disabled and enabled, then removed, all through the admin API and its
//! writer; bad requests change nothing; everything holds after a restart. The command line does
//! the same through the running server and prints what it prints with the server stopped.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::admin::{call, error_code, plain_basic, send_json, with_operator_and_units, OPERATOR, PASSWORD};
use crate::support::{run_satsync, write_config, SiteLogin, TestServer};

const CLINIC_PASSWORD: &str = "clinic password";

#[tokio::test]
async fn a_clinic_is_added_synced_disabled_and_removed_while_the_primary_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units(dir.path(), 1).await;
    let (admin, operator) = (server.admin_url(), plain_basic(OPERATOR, PASSWORD));
    let post = |path: &str, body: Value| {
        let (admin, operator, path) = (admin.clone(), operator.clone(), path.to_string());
        async move { send_json(&admin, "POST", &path, &operator, &body.to_string()).await }
    };

    // Refused, and nothing written: a taken name, no password, malformed, an unknown client.
    for (body, why) in [
        (json!({"name": logins[0].name, "password": "x"}), "a name taken"),
        (json!({"name": "clinic", "password": ""}), "an empty password"),
        (json!({"name": "clinic"}), "no password"),
        (
            json!({"name": "clinic", "password": "x", "client": "fax"}),
            "an unknown client",
        ),
        (json!({"name": "", "password": "x"}), "no name"),
        (json!({"name": "a:b", "password": "x"}), "a ':' in the name"),
    ] {
        let refused = post("/admin/v1/sites", body).await;
        assert_eq!(
            (refused.status, error_code(&refused)),
            (400, "bad_request"),
            "{why}: {}",
            refused.raw
        );
    }
    let malformed = send_json(&admin, "POST", "/admin/v1/sites", &operator, "{").await;
    assert_eq!(malformed.status, 400);
    let sites = call(&admin, "GET", "/admin/v1/sites", Some(&operator)).await;
    assert_eq!(sites.json["sites"].as_array().unwrap().len(), 1, "nothing was added");

    let added = post(
        "/admin/v1/sites",
        json!({"name": "clinic", "password": CLINIC_PASSWORD}),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.raw);
    assert!(!added.raw.contains(CLINIC_PASSWORD), "the password is never echoed");
    let clinic_id = added.json["id"].as_u64().unwrap() as u32;
    assert!(clinic_id > logins[0].id);
    assert_eq!(added.json["initialisation"], "new");
    let client_path = "/admin/v1/sites/clinic/client";
    let bad = send_json(&admin, "PUT", client_path, &operator, r#"{"client":"fax"}"#).await;
    assert_eq!(bad.status, 400, "{}", bad.raw);
    let declared = send_json(&admin, "PUT", client_path, &operator, r#"{"client":"mobile-2017"}"#).await;
    assert_eq!(declared.json["client"], "mobile-2017", "{}", declared.raw);
    let declared = send_json(&admin, "PUT", client_path, &operator, r#"{"client":"mobile"}"#).await;
    assert_eq!(declared.json["client"], "mobile");

    let store = post(
        "/admin/v1/stores",
        json!({"site": "clinic", "name": "Clinic store", "code": "CLS"}),
    )
    .await;
    assert_eq!(store.status, 200, "{}", store.raw);
    let store_id = store.json["id"].as_str().unwrap().to_string();
    assert_eq!(store.json["site"], clinic_id);
    let nowhere = post("/admin/v1/stores", json!({"site": "nowhere", "name": "x"})).await;
    assert_eq!(nowhere.status, 400, "{}", nowhere.raw);
    let taken = post(
        "/admin/v1/stores",
        json!({"site": "clinic", "name": "again", "id": store_id}),
    )
    .await;
    assert_eq!(taken.status, 400, "a store id is one store's: {}", taken.raw);

    let put_user = |body: Value| {
        let (admin, operator) = (admin.clone(), operator.clone());
        async move { send_json(&admin, "PUT", "/admin/v1/users/nurse", &operator, &body.to_string()).await }
    };
    for (body, why) in [
        (
            json!({"password": "pw", "stores": ["no-such-store"]}),
            "an unknown store",
        ),
        (
            json!({"password": "pw", "permissions": ["fly"]}),
            "an unknown permission",
        ),
        (json!({"password": ""}), "an empty password"),
    ] {
        let refused = put_user(body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.raw);
    }
    let user =
        put_user(json!({"password": "nurse pw", "stores": [store_id], "permissions": ["read-patient-record"]})).await;
    assert_eq!(user.status, 200, "{}", user.raw);
    assert_eq!(user.json["stores"], json!([store_id]));
    let users = call(&admin, "GET", "/admin/v1/users", Some(&operator)).await;
    assert!(
        users.json["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["name"] == "nurse"),
        "{}",
        users.raw
    );
    assert!(!users.raw.contains("password"), "no hash is shown: {}", users.raw);

    // The new clinic syncs at once: it logs in, initialises and receives the central records.
    let clinic = SiteLogin {
        id: clinic_id,
        name: "clinic".into(),
        password: CLINIC_PASSWORD.into(),
        store_id: store_id.clone(),
        store_name_id: store.json["name_id"].as_str().unwrap().to_string(),
    };
    let tablet = server.satellite(&clinic, "v3").not_mobile();
    assert_eq!(tablet.site().await.json["SiteID"], clinic_id);
    assert_eq!(tablet.initial_dump(false).await.status, 200);
    let units: Vec<Value> = tablet
        .drain(50)
        .await
        .into_iter()
        .filter(|r| r["RecordType"] == "unit")
        .collect();
    assert_eq!(units.len(), 3, "the central records reach the new site");

    // Disabled: refused with a message its user reads (200 on mobile's API, 403 on v5's), its
    // queue still filling; enabled: back.
    let disabled = post("/admin/v1/sites/clinic/disable", json!({})).await;
    assert_eq!(
        (disabled.status, &disabled.json["disabled"]),
        (200, &json!(true)),
        "{}",
        disabled.raw
    );
    let refused = tablet.site().await;
    assert_eq!(refused.status, 200);
    assert!(
        refused.json["error"].as_str().unwrap().contains("disabled"),
        "{}",
        refused.raw
    );
    let v5 = server.satellite(&clinic, "v5").not_mobile().site().await;
    assert_eq!(v5.status, 403, "{}", v5.raw);
    let wrong = server
        .satellite(
            &SiteLogin {
                password: "wrong".into(),
                ..clinic.clone()
            },
            "v3",
        )
        .site()
        .await;
    assert!(
        !wrong.raw.contains("disabled"),
        "a wrong password learns nothing of the site's state"
    );
    server.import(&crate::support::admin::unit(9)).await;
    let enabled = post("/admin/v1/sites/clinic/enable", json!({})).await;
    assert_eq!(enabled.json["disabled"], false);
    assert_eq!(tablet.count().await, 1, "what came while it was disabled waits for it");
    server.stop().await;

    // Durable: after a restart the site, its store and its user are there.
    let server = TestServer::start(dir.path()).await;
    let admin = server.admin_url();
    let shown = call(&admin, "GET", "/admin/v1/sites/clinic", Some(&operator)).await;
    assert_eq!((shown.status, &shown.json["stores"]), (200, &json!([store_id])));
    let tablet = server.satellite(&clinic, "v3").not_mobile();
    assert_eq!(tablet.count().await, 1);

    // Removed: it no longer logs in, its store is gone, its neighbour syncs on.
    let gone = send_json(&admin, "DELETE", "/admin/v1/sites/clinic", &operator, "").await;
    assert_eq!(gone.status, 200, "{}", gone.raw);
    assert_eq!(tablet.site().await.status, 401);
    let missing = call(&admin, "GET", "/admin/v1/sites/clinic", Some(&operator)).await;
    assert_eq!((missing.status, error_code(&missing)), (404, "not_found"));
    let again = send_json(&admin, "DELETE", "/admin/v1/sites/clinic", &operator, "").await;
    assert_eq!(again.status, 404);
    let stores = call(&admin, "GET", "/admin/v1/stores", Some(&operator)).await;
    assert!(!stores.raw.contains(&store_id), "{}", stores.raw);
    let neighbour = server.satellite(&logins[0], "v3");
    assert_eq!(neighbour.site().await.json["SiteID"], logins[0].id);
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    let missing = call(&server.admin_url(), "GET", "/admin/v1/sites/clinic", Some(&operator)).await;
    assert_eq!(missing.status, 404, "the removal was durable");
    server.stop().await;
}

/// Runs the command line with `config`, off the test's runtime (whose server answers it).
async fn cli(config: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> (bool, String, String) {
    let config = config.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_satsync(&config, &args, &stdin, &env)
    })
    .await
    .unwrap()
}

/// A configuration for the command line that reaches `server`'s admin API.
fn config_for(server: &TestServer, dir: &Path) -> PathBuf {
    let more = format!("[admin]\nlisten = \"{}\"\n", server.admin_address);
    write_config(&dir.join("remote.toml"), dir, &more)
}

const LIVE: [(&str, &str); 2] = [("SATSYNC_OPERATOR", OPERATOR), ("SATSYNC_OPERATOR_PASSWORD", PASSWORD)];

/// `site add`, `show`, `disable`, `enable` and `remove`, `store add` and `user add` through the
/// running server print what they print with it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_administers_sites_stores_and_users_live_as_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_operator_and_units(dir.path(), 1).await;
    let config = config_for(&server, dir.path());

    let (ok, out, err) = cli(
        &config,
        &["site", "add", "--name", "live", "--client", "open-msupply"],
        &LIVE,
        "pw\n",
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.starts_with("added site ") && out.ends_with(" (live)\n"), "{out}");
    let store = ["store", "add", "--site", "live", "--name", "Live store", "--id", "AB12"];
    let (ok, out, err) = cli(&config, &store, &LIVE, "").await;
    assert!(
        ok && out.starts_with("added store AB12 (Live store) to site "),
        "{out} {err}"
    );
    let (ok, out, err) = cli(
        &config,
        &["user", "add", "--name", "lu", "--store", "AB12"],
        &LIVE,
        "user pw\n",
    )
    .await;
    assert!(ok && out.starts_with("added user lu ("), "{out} {err}");
    let (ok, out, err) = cli(
        &config,
        &["site", "set-client", "--name", "live", "--client", "mobile"],
        &LIVE,
        "",
    )
    .await;
    assert!(ok && out == "live runs mobile\n", "{out} {err}");
    let (ok, out, _) = cli(
        &config,
        &["site", "set-client", "--name", "live", "--client", "open-msupply"],
        &LIVE,
        "",
    )
    .await;
    assert!(ok && out == "live runs open-msupply\n", "{out}");
    let (ok, out, _) = cli(&config, &["site", "disable", "--name", "live"], &LIVE, "").await;
    assert!(ok && out.starts_with("live disabled"), "{out}");
    let (ok, shown_live, err) = cli(&config, &["site", "show", "--name", "live"], &LIVE, "").await;
    assert!(ok, "{err}");
    assert!(
        shown_live.contains("\tlive\tstores: AB12\thardware: -\tclient: open-msupply\tdisabled"),
        "{shown_live}"
    );
    let (ok, listed_live, _) = cli(&config, &["site", "list"], &LIVE, "").await;
    assert!(ok && listed_live.contains(shown_live.trim_end()), "{listed_live}");
    server.stop().await;

    let (ok, shown_offline, _) = cli(&config, &["site", "show", "--name", "live"], &[], "").await;
    assert!(ok);
    assert_eq!(shown_offline, shown_live, "the same with the server stopped");
    let (ok, listed_offline, _) = cli(&config, &["site", "list"], &[], "").await;
    assert!(ok);
    assert_eq!(listed_offline, listed_live);
    let (ok, out, _) = cli(&config, &["site", "enable", "--name", "live"], &[], "").await;
    assert!(ok && out == "live enabled\n", "{out}");

    let server = TestServer::start(dir.path()).await;
    let config = config_for(&server, dir.path());
    let (ok, out, err) = cli(&config, &["site", "remove", "--name", "live"], &LIVE, "").await;
    assert!(ok && out.starts_with("removed site live"), "{out} {err}");
    let (ok, _, err) = cli(&config, &["site", "show", "--name", "live"], &LIVE, "").await;
    assert!(!ok && err.contains("site live"), "{err}");
    server.stop().await;
}
