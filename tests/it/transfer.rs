//! Export and import: what one primary exports, another imports to the same records, and the
//! command line administers sites, stores and users.

use crate::support::data::{batch, item, record};
use crate::support::{register_sites, satsync_cli, satsync_cli_input, TestServer, PRIMARY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_reproduces_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start(dir.path()).await;
    let a = server.satellite(&logins[0], "v3");
    let mut records: Vec<String> = (0..50).map(item).collect();
    records.push(record("Q1", "item", "SPACED", "", r#"{ "ID":"SPACED" , "n":"1" }"#));
    a.push(&batch(&records)).await;
    a.push(&batch(&[crate::support::data::delete(
        "Q2",
        "item",
        &format!("{:032X}", 0x1_0000_0000u64 + 3),
        "",
    )]))
    .await;
    server.stop().await;

    let storage = satsync::store::Database::open(dir.path(), 16).unwrap();
    let mut exported = Vec::new();
    assert_eq!(
        satsync::admin::transfer::export(&storage, None, &mut exported).unwrap(),
        50
    );
    drop(storage);

    let copy = tempfile::tempdir().unwrap();
    let copy_logins = register_sites(copy.path(), 1);
    let server = TestServer::start(copy.path()).await;
    let applied = satsync::admin::transfer::import(
        &server.primary.engine,
        PRIMARY,
        exported.as_slice(),
        exported.len() as u64,
        false,
    )
    .await
    .unwrap();
    assert_eq!(applied, 50);
    // Importing the same file again changes nothing.
    let again = satsync::admin::transfer::import(
        &server.primary.engine,
        PRIMARY,
        exported.as_slice(),
        exported.len() as u64,
        false,
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
    let b = server.satellite(&copy_logins[0], "v3");
    let reply = b.pull(100).await;
    assert_eq!(reply.json.as_array().unwrap().len(), 50);
    // The whole row as the first primary kept it: a field it does not know byte for byte.
    let spaced = reply
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["RecordID"] == "SPACED")
        .unwrap();
    assert_eq!(
        (&spaced["data"]["n"], &spaced["data"]["doses"]),
        (&serde_json::json!("1"), &serde_json::json!("0"))
    );
    let original = {
        let storage = satsync::store::Database::open(dir.path(), 16).unwrap();
        let mut out = Vec::new();
        satsync::admin::transfer::export(&storage, None, &mut out).unwrap();
        out
    };
    assert_eq!(original, exported, "exporting again gives the same file");
    server.stop().await;
}

#[test]
fn command_line_administers_sites_stores_and_users() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("db");
    let run = |args: &[&str]| satsync_cli(&data_dir, args);
    // Passwords come on standard input, never as arguments.
    let with_password = |args: &[&str]| satsync_cli_input(&data_dir, args, "pw\n");
    assert!(with_password(&["site", "add", "--name", "north"]).0);
    assert!(
        run(&[
            "store",
            "add",
            "--site",
            "north",
            "--name",
            "North store",
            "--id",
            "ABCDEF"
        ])
        .0
    );
    assert!(with_password(&["user", "add", "--name", "nurse", "--store", "ABCDEF"]).0);
    let (ok, _, stderr) = with_password(&["site", "add", "--name", "north"]);
    assert!(!ok && stderr.contains("exists already"), "{stderr}");
    let (ok, _, stderr) = with_password(&["user", "add", "--name", "x", "--store", "NOPE"]);
    assert!(!ok && stderr.contains("no store NOPE"), "{stderr}");
    let (ok, _, stderr) = run(&["site", "add", "--name", "south"]);
    assert!(
        !ok && stderr.contains("no password given"),
        "no password on standard input: {stderr}"
    );
    let (ok, _, stderr) = run(&["site", "add", "--name", "south", "--password", "pw"]);
    assert!(
        !ok && stderr.contains("--password"),
        "a password is never an argument: {stderr}"
    );
    let new_password = satsync_cli_input(&data_dir, &["site", "set-password", "--name", "north"], "new\n");
    assert!(new_password.0, "{}", new_password.2);
    {
        use satsync::domain::credentials::client_secret;
        use satsync::store::DirectoryReads;
        let storage = satsync::store::Database::open(&data_dir, 16).unwrap();
        let directory = storage.load_directory(PRIMARY).unwrap();
        let north = directory.site_named("north").unwrap();
        assert!(
            north.password.verify(&client_secret("new")),
            "the piped password is the site's"
        );
        let nurse = directory.user("nurse").unwrap();
        assert!(nurse.password.verify(&client_secret("pw")), "and the user's");
    }
    assert!(run(&["site", "reset-hardware", "--name", "north"]).0);
    let (ok, listing, _) = run(&["site", "list"]);
    assert!(ok);
    assert!(listing.contains("2\tnorth\tstores: ABCDEF"), "{listing}");
    assert!(listing.contains("client: mobile\n"), "{listing}");
    // A site declared open-mSupply before it first syncs, and declared back.
    assert!(with_password(&["site", "add", "--name", "oms", "--client", "open-msupply"]).0);
    let (_, listing, _) = run(&["site", "list"]);
    assert!(
        listing.contains("\toms\t") && listing.contains("client: open-msupply"),
        "{listing}"
    );
    let (ok, out, _) = run(&["site", "set-client", "--name", "oms", "--client", "mobile-2017"]);
    assert!(ok && out.contains("oms runs mobile-2017"), "{out}");
    let (ok, _, stderr) = run(&["site", "set-client", "--name", "oms", "--client", "desktop9"]);
    assert!(!ok && stderr.contains("invalid value"), "{stderr}");
    let (ok, _, stderr) = run(&["site", "set-client", "--name", "nobody", "--client", "mobile"]);
    assert!(!ok && stderr.contains("no site named nobody"), "{stderr}");
    let (_, listing, _) = run(&["site", "list"]);
    assert!(
        listing.contains("client: mobile-2017") && !listing.contains("open-msupply"),
        "{listing}"
    );
    let lines = dir.path().join("records.jsonl");
    std::fs::write(&lines, format!("{}\n{}\n", item(1), item(2))).unwrap();
    let (ok, out, stderr) = run(&["import", lines.to_str().unwrap()]);
    assert!(ok && out.contains("imported 2 records"), "{out} {stderr}");
    let (ok, exported, _) = run(&["export", "--table", "item"]);
    assert!(ok);
    assert_eq!(exported.lines().count(), 2);
}
