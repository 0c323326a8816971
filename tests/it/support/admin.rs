//! The admin API as the tests call it: an operator's credentials, calls with and without a
//! body, and a server with an operator and some central records.

use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;

use super::client::{http_client, send, Reply};
use super::{register_sites, SiteLogin, TestServer, PRIMARY};

pub const OPERATOR: &str = "ops";
pub const PASSWORD: &str = "a long secret";

/// HTTP Basic with a plain password, as an operator's client sends it.
pub fn plain_basic(name: &str, password: &str) -> String {
    let pair = format!("{name}:{password}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

pub async fn call(url: &str, method: &str, path: &str, authorization: Option<&str>) -> Reply {
    let mut request = http::Request::builder().method(method).uri(format!("{url}{path}"));
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    send(&http_client(), request.body(Full::new(Bytes::new())).unwrap()).await
}

pub fn error_code(reply: &Reply) -> &str {
    reply.json["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {}", reply.raw))
}

pub fn unit(n: u32) -> String {
    format!(
        r#"{{"SyncID":"AD{n:030X}","RecordType":"unit","RecordID":"ADD{n:029X}","SyncType":"U","StoreID":"","Data":{{"ID":"ADD{n:029X}","units":"box"}}}}"#
    )
}

/// A new central `unit` record numbered `n`, as a push line: its SyncID and id start with
/// `prefix` (two letters), so that each test's records are its own.
pub fn new_unit(prefix: &str, n: u64) -> String {
    serde_json::json!({
        "SyncID": format!("{prefix}{n:030X}"),
        "RecordType": "unit",
        "RecordID": format!("{prefix}U{n:029X}"),
        "SyncType": "I",
        "StoreID": "",
        "Data": {"ID": format!("{prefix}U{n:029X}"), "units": format!("unit {n}")}
    })
    .to_string()
}

/// A server with `sites` satellite sites, the operator, and three central records imported
/// after the sites were added.
pub async fn with_operator_and_units(dir: &Path, sites: usize) -> (TestServer, Vec<SiteLogin>) {
    with_operator_and_units_configured(dir, sites, |_| {}).await
}

/// [`with_operator_and_units`] with the configuration adjusted.
pub async fn with_operator_and_units_configured(
    dir: &Path,
    sites: usize,
    adjust: impl FnOnce(&mut satsync::config::Config),
) -> (TestServer, Vec<SiteLogin>) {
    let logins = register_sites(dir, sites);
    {
        let storage = satsync::store::Database::open(dir, 16).unwrap();
        satsync::admin::operators::add_operator(&storage, PRIMARY, OPERATOR, PASSWORD).unwrap();
    }
    let server = TestServer::start_with(dir, adjust).await;
    server.import(&(1..=3).map(unit).collect::<Vec<_>>().join("\n")).await;
    (server, logins)
}

pub async fn send_json(url: &str, method: &str, path: &str, authorization: &str, body: &str) -> Reply {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{url}{path}"))
        .header("Authorization", authorization)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    send(&http_client(), request).await
}
