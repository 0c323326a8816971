//! The satsync load-test harness: plays satellites against a running primary, over HTTP only,
//! the way mSupply Mobile does (Basic auth with the SHA-256 hex of the password, the hardware-id
//! header, keep-alive connections).
//!
//! `baseline` is the first scenario: every site pushes batches of central records at once, then
//! every site drains its queue (count → pull → acknowledge), and the run reports records pushed
//! and records delivered per second, after checking that each site received exactly the records
//! the other sites pushed.

use std::collections::HashSet;
use std::time::Instant;

use anyhow::{bail, Context};
use base64::Engine;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};

#[derive(Parser)]
#[command(about = "Load-test harness for satsync")]
struct Args {
    /// The primary's base URL.
    #[arg(long, default_value = "http://127.0.0.1:2048")]
    url: String,
    /// Sites as name:password:id (repeat for each).
    #[arg(long = "site", required = true)]
    sites: Vec<String>,
    /// Records each site pushes.
    #[arg(long, default_value_t = 20_000)]
    records: usize,
    /// Records per push and per pull.
    #[arg(long, default_value_t = 500)]
    batch: usize,
}

struct Site {
    name: String,
    id: u32,
    authorization: String,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

async fn call(
    client: &HttpClient,
    site: &Site,
    method: &str,
    url: String,
    body: String,
) -> anyhow::Result<serde_json::Value> {
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", &site.authorization)
        .header("msupply-site-uuid", format!("loadtest-{}", site.name))
        .body(Full::new(Bytes::from(body)))?;
    let response = client.request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!("{status}: {}", String::from_utf8_lossy(&bytes));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes)?;
    if let Some(error) = value.get("error").and_then(|e| e.as_str()).filter(|e| !e.is_empty()) {
        bail!("primary says: {error}");
    }
    Ok(value)
}

fn record_id(site: u32, n: usize) -> String {
    format!("{site:08X}{n:024X}")
}

async fn push_all(client: HttpClient, url: String, site: Site, records: usize, batch: usize) -> anyhow::Result<usize> {
    let queue = format!("{url}/sync/v3/queued_records?from_site={}&to_site=1", site.id);
    for start in (0..records).step_by(batch) {
        let items: Vec<String> = (start..(start + batch).min(records))
            .map(|n| {
                let id = record_id(site.id, n);
                format!(r#"{{"SyncID":"{id}","RecordType":"item","RecordID":"{id}","SyncType":"I","StoreID":"","Data":{{"ID":"{id}","code":"L{n}","item_name":"Load item {n}","default_pack_size":"1","price":"1.50"}}}}"#)
            })
            .collect();
        call(&client, &site, "POST", queue.clone(), format!("[{}]", items.join(","))).await?;
    }
    Ok(records)
}

async fn drain(client: HttpClient, url: String, site: Site, batch: usize) -> anyhow::Result<HashSet<String>> {
    let q = format!("from_site={}&to_site=1", site.id);
    let mut received = HashSet::new();
    loop {
        let count = call(
            &client,
            &site,
            "GET",
            format!("{url}/sync/v3/queued_records/count?{q}"),
            String::new(),
        )
        .await?;
        let records = call(
            &client,
            &site,
            "GET",
            format!("{url}/sync/v3/queued_records?{q}&limit={batch}"),
            String::new(),
        )
        .await?;
        let records = records.as_array().context("a pull answers an array")?;
        let expected = count["NumRecords"].as_u64().context("count answers NumRecords")?;
        if records.len() as u64 != expected.min(batch as u64) {
            bail!(
                "site {}: count said {expected} but the pull returned {}",
                site.name,
                records.len()
            );
        }
        if records.is_empty() {
            return Ok(received);
        }
        let ids: Vec<&str> = records.iter().filter_map(|r| r["SyncID"].as_str()).collect();
        for record in records {
            let id = record["RecordID"]
                .as_str()
                .context("records carry RecordID")?
                .to_string();
            if !received.insert(id.clone()) {
                bail!("site {}: record {id} delivered twice", site.name);
            }
        }
        let body = serde_json::json!({ "SyncRecordIDs": ids }).to_string();
        call(
            &client,
            &site,
            "POST",
            format!("{url}/sync/v3/acknowledged_records?{q}"),
            body,
        )
        .await?;
    }
}

fn parse_site(text: &str) -> anyhow::Result<Site> {
    let mut parts = text.splitn(3, ':');
    let (Some(name), Some(password), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("a site is name:password:id, not {text}");
    };
    let secret = hex::encode(Sha256::digest(password.as_bytes()));
    let authorization = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{secret}"))
    );
    Ok(Site {
        name: name.to_string(),
        id: id.parse()?,
        authorization,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let sites: Vec<Site> = args
        .sites
        .iter()
        .map(|s| parse_site(s))
        .collect::<anyhow::Result<_>>()?;
    let ids: Vec<u32> = sites.iter().map(|s| s.id).collect();

    let started = Instant::now();
    let mut pushes = Vec::new();
    for text in &args.sites {
        pushes.push(tokio::spawn(push_all(
            client.clone(),
            args.url.clone(),
            parse_site(text)?,
            args.records,
            args.batch,
        )));
    }
    let mut pushed = 0;
    for push in pushes {
        pushed += push.await??;
    }
    let push_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut drains = Vec::new();
    for text in &args.sites {
        drains.push(tokio::spawn(drain(
            client.clone(),
            args.url.clone(),
            parse_site(text)?,
            args.batch,
        )));
    }
    let mut delivered = 0;
    for (site_id, drained) in ids.iter().zip(drains) {
        let received = drained.await??;
        // Every record pushed by the other sites, none of its own.
        let expected: HashSet<String> = ids
            .iter()
            .filter(|other| *other != site_id)
            .flat_map(|other| (0..args.records).map(move |n| record_id(*other, n)))
            .collect();
        if received != expected {
            bail!(
                "site {site_id}: received {} records, expected {}",
                received.len(),
                expected.len()
            );
        }
        delivered += received.len();
    }
    let pull_seconds = started.elapsed().as_secs_f64();
    println!(
        "pushed    {pushed} records in {push_seconds:.2} s: {:.0} records/s",
        pushed as f64 / push_seconds
    );
    println!(
        "delivered {delivered} records (pull + acknowledge) in {pull_seconds:.2} s: {:.0} records/s",
        delivered as f64 / pull_seconds
    );
    println!("integrity: every site received exactly the other sites' records, once");
    Ok(())
}
