//! The admin API, on its own listener: operators only (never a site's or a user's credentials),
//! the sites as they stand, errors in its own shape; operators added with the command line,
//! their password never an argument.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;

use crate::support::client::{basic, http_client, send, Reply};
use crate::support::{register_sites, write_config, TestServer, PRIMARY};

const OPERATOR: &str = "ops";
const PASSWORD: &str = "a long secret";

/// HTTP Basic with a plain password, as an operator's client sends it.
fn plain_basic(name: &str, password: &str) -> String {
    let pair = format!("{name}:{password}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

async fn call(url: &str, method: &str, path: &str, authorization: Option<&str>) -> Reply {
    let mut request = http::Request::builder().method(method).uri(format!("{url}{path}"));
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    send(&http_client(), request.body(Full::new(Bytes::new())).unwrap()).await
}

fn error_code(reply: &Reply) -> &str {
    reply.json["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {}", reply.raw))
}

fn unit(n: u32) -> String {
    format!(
        r#"{{"SyncID":"AD{n:030X}","RecordType":"unit","RecordID":"ADD{n:029X}","SyncType":"U","StoreID":"","Data":{{"ID":"ADD{n:029X}","units":"box"}}}}"#
    )
}

#[tokio::test]
async fn operators_see_the_sites_and_nobody_else_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    {
        let storage = satsync::store::Database::open(dir.path(), 16).unwrap();
        satsync::admin::operators::add_operator(&storage, PRIMARY, OPERATOR, PASSWORD).unwrap();
    }
    let server = TestServer::start(dir.path()).await;
    server.import(&(1..=3).map(unit).collect::<Vec<_>>().join("\n")).await;
    let tablet = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-1"));
    assert_eq!(
        tablet.site().await.json["SiteID"],
        logins[0].id,
        "the site binds its tablet"
    );

    let admin = server.admin_url();
    let operator = plain_basic(OPERATOR, PASSWORD);
    let listed = call(&admin, "GET", "/admin/v1/sites", Some(&operator)).await;
    assert_eq!(listed.status, 200, "{}", listed.raw);
    let sites = listed.json["sites"].as_array().unwrap();
    let names: Vec<&str> = sites.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [logins[0].name.as_str(), logins[1].name.as_str()],
        "by id, not the primary"
    );
    assert_eq!(sites[0]["id"], logins[0].id);
    assert_eq!(sites[0]["stores"], serde_json::json!([logins[0].store_id]));
    assert_eq!(sites[0]["hardware_id"], "tablet-1");
    assert_eq!(sites[1]["hardware_id"], Value::Null);
    assert_eq!(sites[0]["client"], "mobile");
    assert_eq!(sites[0]["initialisation"], "new");
    assert_eq!(
        sites[1]["queued"], 3,
        "the three central records imported after it was added"
    );

    let one = call(
        &admin,
        "GET",
        &format!("/admin/v1/sites/{}/", logins[1].name),
        Some(&operator),
    )
    .await;
    assert_eq!((one.status, &one.json), (200, &sites[1]));

    // Every way in that is not an operator's is refused alike, and says nothing more.
    let site = &logins[0];
    for (authorization, why) in [
        (None, "no credentials"),
        (Some(plain_basic(OPERATOR, "a wrong secret")), "a wrong password"),
        (Some(plain_basic("nobody", PASSWORD)), "an unknown operator"),
        (
            Some(plain_basic(&site.name, &site.password)),
            "a site's name and password",
        ),
        (
            Some(basic(&site.name, &site.password)),
            "a site's credentials as mobile sends them",
        ),
        (
            Some(plain_basic(&format!("user-{}", site.name), "user-pass")),
            "a satellite user's",
        ),
        (Some("Bearer nothing".to_string()), "another scheme"),
    ] {
        for path in ["/admin/v1/sites", "/admin/v1/sites/site2", "/admin/v1/nothing"] {
            let refused = call(&admin, "GET", path, authorization.as_deref()).await;
            assert_eq!(
                (refused.status, error_code(&refused)),
                (401, "unauthorized"),
                "{why} on {path}"
            );
        }
    }

    let unknown = call(&admin, "GET", "/admin/v1/sites/no-such-site", Some(&operator)).await;
    assert_eq!((unknown.status, error_code(&unknown)), (404, "not_found"));
    let nothing = call(&admin, "GET", "/admin/v1/nothing", Some(&operator)).await;
    assert_eq!((nothing.status, error_code(&nothing)), (404, "not_found"));
    let post = call(&admin, "POST", "/admin/v1/sites", Some(&operator)).await;
    assert_eq!((post.status, error_code(&post)), (405, "method_not_allowed"));

    // Each listener serves its own surface only.
    let sync_on_admin = call(&admin, "GET", "/sync/v3/site", Some(&operator)).await;
    assert_eq!(sync_on_admin.status, 404);
    let admin_on_sync = call(&server.base_url(), "GET", "/admin/v1/sites", Some(&operator)).await;
    assert_eq!(admin_on_sync.status, 404);

    // None of it changed a site.
    let again = call(&admin, "GET", "/admin/v1/sites", Some(&operator)).await;
    assert_eq!(again.json, listed.json);
    server.stop().await;
}

/// Runs `satsync operator add --name <name> [more]` on `data_dir`, with `stdin` as its input.
fn operator_add(data_dir: &Path, name: &str, more: &[&str], stdin: &str, env: &[(&str, &str)]) -> (bool, String) {
    let config = write_config(&data_dir.join("operator-cli.toml"), data_dir, "");
    let mut child = Command::new(env!("CARGO_BIN_EXE_satsync"))
        .arg("--config")
        .arg(&config)
        .args(["operator", "add", "--name", name])
        .args(more)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

#[tokio::test]
async fn the_command_line_adds_operators_from_a_pipe_or_the_environment_never_an_argument() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    std::fs::create_dir_all(&data).unwrap();

    let (added, printed) = operator_add(&data, "piped", &[], "a piped secret\nnext line\n", &[]);
    assert!(added, "{printed}");
    assert!(
        !printed.contains("a piped secret"),
        "the password is never printed: {printed}"
    );
    let from_env = [("SATSYNC_TEST_OPERATOR_PASSWORD", "a secret from the environment")];
    let (added, printed) = operator_add(
        &data,
        "scripted",
        &["--password-env", "SATSYNC_TEST_OPERATOR_PASSWORD"],
        "",
        &from_env,
    );
    assert!(added, "{printed}");
    assert!(!printed.contains("a secret from the environment"), "{printed}");

    for (name, more, stdin, why) in [
        ("piped", &[][..], "another secret\n", "a name taken"),
        ("empty", &[][..], "", "no password"),
        ("short", &[][..], "short\n", "a short password"),
        (
            "unset",
            &["--password-env", "SATSYNC_TEST_NO_SUCH_VARIABLE"][..],
            "",
            "an unset variable",
        ),
    ] {
        let (added, printed) = operator_add(&data, name, more, stdin, &[]);
        assert!(!added, "{why} is refused: {printed}");
    }
    let (added, _) = operator_add(&data, "argument", &["--password", PASSWORD], "", &[]);
    assert!(!added, "there is no --password argument");

    let server = TestServer::start(&data).await;
    let admin = server.admin_url();
    for (name, password) in [("piped", "a piped secret"), ("scripted", from_env[0].1)] {
        let reply = call(&admin, "GET", "/admin/v1/sites", Some(&plain_basic(name, password))).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.raw);
    }
    for name in ["empty", "short", "unset", "argument"] {
        let reply = call(&admin, "GET", "/admin/v1/sites", Some(&plain_basic(name, PASSWORD))).await;
        assert_eq!(reply.status, 401, "{name} was not added");
    }
    server.stop().await;
}
