//! The admin API, on its own listener: operators only (never a site's or a user's credentials),
//! the sites as they stand, errors in its own shape; operators added with the command line,
//! their password never an argument.

use std::path::Path;

use serde_json::Value;

use crate::support::admin::{call, error_code, plain_basic, send_json, with_operator_and_units, OPERATOR, PASSWORD};
use crate::support::client::basic;
use crate::support::{run_satsync, write_config, SiteLogin, TestServer};

#[tokio::test]
async fn operators_see_the_sites_and_nobody_else_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units(dir.path(), 2).await;
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
    let put = call(&admin, "PUT", "/admin/v1/sites", Some(&operator)).await;
    assert_eq!((put.status, error_code(&put)), (405, "method_not_allowed"));
    let empty_add = call(&admin, "POST", "/admin/v1/sites", Some(&operator)).await;
    assert_eq!((empty_add.status, error_code(&empty_add)), (400, "bad_request"));

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

/// Runs `satsync operator add --name <name> [more]` on `data_dir`, with `stdin` as its input;
/// returns whether it succeeded and all it printed.
fn operator_add(data_dir: &Path, name: &str, more: &[&str], stdin: &str, env: &[(&str, &str)]) -> (bool, String) {
    let config = write_config(&data_dir.join("operator-cli.toml"), data_dir, "");
    let args: Vec<&str> = ["operator", "add", "--name", name]
        .iter()
        .chain(more)
        .copied()
        .collect();
    let (ok, stdout, stderr) = run_satsync(&config, &args, stdin, env);
    (ok, stdout + &stderr)
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

    // While it serves: the command line adds an operator and issues a token through the admin
    // API, as an operator the environment names.
    let more = format!("[admin]\nlisten = \"{}\"\n", server.admin_address);
    let config = write_config(&data.join("live.toml"), &data, &more);
    let env = [
        ("SATSYNC_OPERATOR", "piped"),
        ("SATSYNC_OPERATOR_PASSWORD", "a piped secret"),
    ];
    let run = move |args: Vec<&'static str>, stdin: &'static str| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || run_satsync(&config, &args, stdin, &env))
    };
    let (added, stdout, stderr) = run(vec!["operator", "add", "--name", "live"], "a live secret\n")
        .await
        .unwrap();
    assert!(added, "{stderr}");
    assert_eq!(stdout, "added operator live\n");
    let live = call(
        &admin,
        "GET",
        "/admin/v1/sites",
        Some(&plain_basic("live", "a live secret")),
    )
    .await;
    assert_eq!(live.status, 200, "{}", live.raw);
    let (again, _, stderr) = run(vec!["operator", "add", "--name", "live"], "another secret\n")
        .await
        .unwrap();
    assert!(!again && stderr.contains("already"), "a name taken: {stderr}");
    let (issued, token, stderr) = run(vec!["operator", "token", "--name", "live"], "").await.unwrap();
    assert!(issued, "{stderr}");
    let bearer = format!("Bearer {}", token.trim());
    assert_eq!(call(&admin, "GET", "/admin/v1/sites", Some(&bearer)).await.status, 200);

    // The API itself: operators listed without any secret, bad requests refused.
    let operator = plain_basic("piped", "a piped secret");
    let listed = call(&admin, "GET", "/admin/v1/operators", Some(&operator)).await;
    assert_eq!(
        listed.json["operators"],
        serde_json::json!([
            {"name": "live", "tokens": 1},
            {"name": "piped", "tokens": 0},
            {"name": "scripted", "tokens": 0},
        ])
    );
    assert!(
        !listed.raw.contains("hash") && !listed.raw.contains("salt"),
        "{}",
        listed.raw
    );
    for (body, why) in [
        (r#"{"name":"shorty","password":"short"}"#, "a short password"),
        (r#"{"name":"piped","password":"a long enough one"}"#, "a name taken"),
        (
            r#"{"name":"a:b","password":"a long enough one"}"#,
            "a name Basic cannot carry",
        ),
        (r#"{"name":"x"}"#, "no password"),
        ("{not json", "malformed JSON"),
    ] {
        let refused = send_json(&admin, "POST", "/admin/v1/operators", &operator, body).await;
        assert_eq!(
            (refused.status, error_code(&refused)),
            (400, "bad_request"),
            "{why}: {}",
            refused.raw
        );
    }
    let unknown = call(&admin, "POST", "/admin/v1/operators/nobody/tokens", Some(&operator)).await;
    assert_eq!(unknown.status, 400, "{}", unknown.raw);
    let after = call(&admin, "GET", "/admin/v1/operators", Some(&operator)).await;
    assert_eq!(after.json, listed.json, "nothing refused changed anything");
    server.stop().await;
}

/// An operator finds what heads a satellite's queue, skips the record it cannot integrate (the
/// satellite's next pull goes past it, the skip log names it), frees the binding of a reinstalled
/// tablet and changes the site's password, all on the running server; bad input changes nothing.
#[tokio::test]
async fn an_operator_unblocks_a_satellite_and_rebinds_it_while_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units(dir.path(), 1).await;
    let (admin, operator) = (server.admin_url(), plain_basic(OPERATOR, PASSWORD));
    let site = format!("/admin/v1/sites/{}", logins[0].name);

    let queue = call(&admin, "GET", &format!("{site}/queue?limit=2"), Some(&operator)).await;
    assert_eq!(queue.status, 200, "{}", queue.raw);
    assert_eq!(queue.json["count"], 3);
    let head = queue.json["head"].as_array().unwrap();
    assert_eq!(head.len(), 2);
    assert_eq!(head[0]["table"], "unit");
    let poison = head[0]["sync_id"].as_str().unwrap().to_string();
    let poison_id = head[0]["record_id"].as_str().unwrap().to_string();

    let skip = |body: String| {
        let (admin, operator, path) = (admin.clone(), operator.clone(), format!("{site}/queue/skip"));
        async move { send_json(&admin, "POST", &path, &operator, &body).await }
    };
    for (body, status, why) in [
        ("{".to_string(), 400, "malformed JSON"),
        (format!(r#"{{"sync_id":"{poison}"}}"#), 400, "no reason"),
        (
            format!(r#"{{"sync_id":"{poison}","reason":"  "}}"#),
            400,
            "a blank reason",
        ),
        (
            format!(r#"{{"sync_id":{poison:?},"reason":"x","extra":1}}"#),
            400,
            "an unknown key",
        ),
        (
            r#"{"sync_id":"0123","reason":"x"}"#.to_string(),
            404,
            "a SyncID not queued",
        ),
    ] {
        let refused = skip(body).await;
        assert_eq!(refused.status, status, "{why}: {}", refused.raw);
    }
    let nowhere = send_json(&admin, "POST", "/admin/v1/sites/nowhere/queue/skip", &operator, "{}").await;
    assert_eq!((nowhere.status, error_code(&nowhere)), (404, "not_found"));
    let bad_limit = call(&admin, "GET", &format!("{site}/queue?limit=many"), Some(&operator)).await;
    assert_eq!((bad_limit.status, error_code(&bad_limit)), (400, "bad_request"));
    let still = call(&admin, "GET", &format!("{site}/queue?limit=2"), Some(&operator)).await;
    assert_eq!(still.json, queue.json, "refused skips changed nothing");

    let skipped = skip(format!(r#"{{"sync_id":"{poison}","reason":"breaks the batch"}}"#)).await;
    assert_eq!(skipped.status, 200, "{}", skipped.raw);
    assert_eq!(skipped.json["skipped"]["record_id"], poison_id.as_str());
    let satellite = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-1"));
    let pulled = satellite.drain(10).await;
    let pulled_ids: Vec<&str> = pulled.iter().map(|r| r["RecordID"].as_str().unwrap()).collect();
    assert_eq!(pulled_ids.len(), 2, "{pulled_ids:?}");
    assert!(
        !pulled_ids.contains(&poison_id.as_str()),
        "the satellite goes past the skipped record"
    );
    let skips = call(&admin, "GET", &format!("{site}/skips"), Some(&operator)).await;
    let entries = skips.json["skips"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["record_id"], poison_id.as_str());
    assert_eq!(entries[0]["reason"], format!("breaks the batch (operator {OPERATOR})"));

    // A reinstalled tablet: refused until the operator frees the binding.
    let reinstalled = server.satellite(&logins[0], "v3").with_hardware(Some("tablet-2"));
    assert!(reinstalled.site().await.json["error"].is_string());
    let reset = call(&admin, "POST", &format!("{site}/reset-hardware"), Some(&operator)).await;
    assert_eq!(
        (reset.status, &reset.json["hardware_id"]),
        (200, &Value::Null),
        "{}",
        reset.raw
    );
    assert_eq!(reinstalled.site().await.json["SiteID"], logins[0].id);
    let get_reset = call(&admin, "GET", &format!("{site}/reset-hardware"), Some(&operator)).await;
    assert_eq!(get_reset.status, 405);

    // A new password: the old one no longer logs in; a bad request changes nothing.
    for body in ["{}", r#"{"password":""}"#, "not json"] {
        let refused = send_json(&admin, "PUT", &format!("{site}/password"), &operator, body).await;
        assert_eq!((refused.status, error_code(&refused)), (400, "bad_request"), "{body}");
    }
    assert_eq!(
        reinstalled.site().await.json["SiteID"],
        logins[0].id,
        "the old password still works"
    );
    let changed = send_json(
        &admin,
        "PUT",
        &format!("{site}/password"),
        &operator,
        r#"{"password":"a new site password"}"#,
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.raw);
    assert!(
        !changed.raw.contains("a new site password"),
        "the password is never echoed"
    );
    assert!(
        reinstalled.site().await.json["error"].is_string(),
        "the old password is refused"
    );
    assert_eq!(renewed_site(&server, &logins[0]).await, logins[0].id);
    server.stop().await;

    // All of it was durable: after a restart, the skip, the binding and the password hold.
    let server = TestServer::start(dir.path()).await;
    let admin = server.admin_url();
    let skips = call(&admin, "GET", &format!("{site}/skips"), Some(&operator)).await;
    assert_eq!(skips.json["skips"].as_array().unwrap().len(), 1);
    let shown = call(&admin, "GET", &site, Some(&operator)).await;
    assert_eq!(shown.json["hardware_id"], "tablet-2");
    assert_eq!(renewed_site(&server, &logins[0]).await, logins[0].id);
    server.stop().await;
}

/// The site id a satellite with the site's new password and the reinstalled tablet is answered.
async fn renewed_site(server: &TestServer, login: &SiteLogin) -> Value {
    let mut renewed = login.clone();
    renewed.password = "a new site password".to_string();
    let satellite = server.satellite(&renewed, "v3").with_hardware(Some("tablet-2"));
    satellite.site().await.json["SiteID"].clone()
}

/// Runs the command line against `server`'s database, as an operator would on its machine:
/// the database is held, so the command goes through the admin API the configuration names.
fn cli_on(
    server_dir: &Path,
    admin: std::net::SocketAddr,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> (bool, String, String) {
    let more = format!("[admin]\nlisten = \"{admin}\"\n");
    let config = write_config(&server_dir.join("operator-remote.toml"), server_dir, &more);
    run_satsync(&config, args, stdin, env)
}

/// With the server running, the command line's queue and site commands go through the admin
/// API and print what they print with the server stopped; without an operator, or with a wrong
/// password, they are refused and change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_works_through_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units(dir.path(), 2).await;
    let site = logins[0].name.as_str();
    let (admin, data) = (server.admin_address, dir.path().to_path_buf());
    let operator = [("SATSYNC_OPERATOR", OPERATOR), ("SATSYNC_OPERATOR_PASSWORD", PASSWORD)];
    // Off the test's runtime: the server it runs answers the command meanwhile.
    let run = |args: &[&str], env: Vec<(&'static str, &'static str)>, stdin: &'static str| {
        let (data, args) = (data.clone(), args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli_on(&data, admin, &args, &env, stdin)
        })
    };

    let (ok, _, stderr) = run(&["site", "list"], vec![], "").await.unwrap();
    assert!(
        !ok && stderr.contains("SATSYNC_OPERATOR"),
        "no operator named: {stderr}"
    );
    let wrong = vec![
        ("SATSYNC_OPERATOR", OPERATOR),
        ("SATSYNC_OPERATOR_PASSWORD", "a wrong one!"),
    ];
    let (ok, _, stderr) = run(&["site", "list"], wrong, "").await.unwrap();
    assert!(!ok && stderr.contains("Invalid username or password"), "{stderr}");
    let (ok, token, stderr) = run(&["operator", "token", "--name", OPERATOR], operator.to_vec(), "")
        .await
        .unwrap();
    assert!(ok && token.starts_with(&format!("{OPERATOR}.")), "{stderr}");

    let (ok, listed_live, stderr) = run(&["site", "list"], operator.to_vec(), "").await.unwrap();
    assert!(ok, "{stderr}");
    assert!(
        listed_live.contains(&format!("{}\t{site}\tstores: {}", logins[0].id, logins[0].store_id)),
        "{listed_live}"
    );
    let (ok, shown, stderr) = run(
        &["queue", "show", "--site", "site2", "--limit", "2"],
        operator.to_vec(),
        "",
    )
    .await
    .unwrap();
    assert!(ok, "{stderr}");
    assert!(
        shown.starts_with("3 records queued for site2; the first 2:\n"),
        "{shown}"
    );
    let poison = shown.lines().nth(2).unwrap().split('\t').next().unwrap().to_string();
    let skip = [
        "queue",
        "skip",
        "--site",
        "site2",
        "--sync-id",
        &poison,
        "--reason",
        "breaks the batch",
    ];
    let (ok, skipped, stderr) = run(&skip, operator.to_vec(), "").await.unwrap();
    assert!(ok && skipped.starts_with("skipped unit "), "{skipped} {stderr}");
    let (ok, log_live, _) = run(&["queue", "skipped", "--site", "site2"], operator.to_vec(), "")
        .await
        .unwrap();
    assert!(ok && log_live.contains("breaks the batch"), "{log_live}");
    let (ok, out, stderr) = run(&["site", "reset-hardware", "--name", "site2"], operator.to_vec(), "")
        .await
        .unwrap();
    assert!(ok && out == "hardware binding of site2 reset\n", "{out} {stderr}");
    let (ok, out, stderr) = run(
        &["site", "set-password", "--name", "site2"],
        operator.to_vec(),
        "a new one\n",
    )
    .await
    .unwrap();
    assert!(ok && out == "password of site2 changed\n", "{out} {stderr}");
    let mut renewed = logins[0].clone();
    renewed.password = "a new one".to_string();
    assert_eq!(
        server.satellite(&renewed, "v3").site().await.json["SiteID"],
        logins[0].id
    );
    // As the server leaves it (the satellite just bound its tablet again).
    let (ok, listed_live, _) = run(&["site", "list"], operator.to_vec(), "").await.unwrap();
    assert!(ok && listed_live.contains("\thardware: hw-site2\t"), "{listed_live}");
    server.stop().await;

    // The same commands with the server stopped print the same.
    let (ok, listed_offline, _) = run(&["site", "list"], vec![], "").await.unwrap();
    assert!(ok);
    assert_eq!(listed_offline, listed_live);
    let (ok, log_offline, _) = run(&["queue", "skipped", "--site", "site2"], vec![], "").await.unwrap();
    assert!(ok);
    assert_eq!(log_offline, log_live);
}

/// A bearer token, issued by the command line and shown once, opens the admin API for its
/// operator; altered, or under another name, or used as a password, it opens nothing.
#[tokio::test]
async fn a_bearer_token_opens_the_admin_api_for_its_operator_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    std::fs::create_dir_all(&data).unwrap();
    let (added, printed) = operator_add(&data, OPERATOR, &[], &format!("{PASSWORD}\n"), &[]);
    assert!(added, "{printed}");
    let config = write_config(&data.join("token-cli.toml"), &data, "");
    let (ok, token, stderr) = run_satsync(&config, &["operator", "token", "--name", OPERATOR], "", &[]);
    assert!(ok, "{stderr}");
    let token = token.trim().to_string();
    let (ok, _, _) = run_satsync(&config, &["operator", "token", "--name", "nobody"], "", &[]);
    assert!(!ok, "no token for an operator that does not exist");

    let server = TestServer::start(&data).await;
    let admin = server.admin_url();
    let bearer = |token: &str| format!("Bearer {token}");
    let reply = call(&admin, "GET", "/admin/v1/sites", Some(&bearer(&token))).await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    let (_, secret) = token.rsplit_once('.').unwrap();
    let mut altered = token.clone();
    altered.pop();
    altered.push(if token.ends_with('0') { '1' } else { '0' });
    for (authorization, why) in [
        (bearer(&altered), "an altered token"),
        (bearer(&format!("other.{secret}")), "its secret under another name"),
        (bearer(secret), "its secret alone"),
        (plain_basic(OPERATOR, secret), "its secret as the password"),
        (bearer(""), "an empty token"),
    ] {
        let refused = call(&admin, "GET", "/admin/v1/sites", Some(&authorization)).await;
        assert_eq!(refused.status, 401, "{why}");
    }
    server.stop().await;
}
