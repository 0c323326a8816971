//! A simulated satellite: the calls of mSupply Mobile, over a shared keep-alive HTTP client,
//! each one timed into the metrics.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::metrics::Metrics;

pub type Http = Client<HttpConnector, Full<Bytes>>;

pub fn http_client() -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(4096)
        .build(connector)
}

/// Basic credentials as the real clients send them: name and the SHA-256 hex of the password.
pub fn basic(name: &str, password: &str) -> String {
    let secret = hex::encode(Sha256::digest(password.as_bytes()));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{secret}"))
    )
}

/// One pulled record, borrowed from the reply body; `data` is the raw bytes as served.
#[derive(Deserialize)]
pub struct Pulled<'a> {
    #[serde(rename = "SyncID", borrow)]
    pub sync_id: Cow<'a, str>,
    #[serde(rename = "RecordType", borrow)]
    pub table: Cow<'a, str>,
    #[serde(rename = "RecordID", borrow)]
    pub id: Cow<'a, str>,
    #[serde(rename = "SyncType", borrow)]
    pub sync_type: Cow<'a, str>,
    #[serde(borrow)]
    pub data: &'a RawValue,
}

pub struct Satellite {
    pub number: usize,
    pub site_id: u32,
    base: String,
    authorization: String,
    user_authorization: String,
    store_id: String,
    hardware_id: String,
    http: Http,
    metrics: Arc<Metrics>,
}

impl Satellite {
    pub fn new(number: usize, base: &str, http: Http, metrics: Arc<Metrics>) -> Satellite {
        use satsync::admin::dataset as ds;
        Satellite {
            number,
            site_id: ds::site_id(number).0,
            base: base.to_string(),
            authorization: basic(&ds::site_name(number), &ds::password(number)),
            user_authorization: basic(&ds::user_name(number), &ds::password(number)),
            store_id: ds::store_id(number),
            hardware_id: format!("loadtest-{number}"),
            http,
            metrics,
        }
    }

    async fn call(
        &self,
        kind: &'static str,
        method: &str,
        path: &str,
        body: Vec<u8>,
        user: bool,
    ) -> anyhow::Result<Bytes> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let sites = if user || path == "site" {
            String::new()
        } else {
            format!("{separator}from_site={}&to_site=1", self.site_id)
        };
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}/sync/v3/{path}{sites}", self.base))
            .header(
                "authorization",
                if user {
                    &self.user_authorization
                } else {
                    &self.authorization
                },
            )
            .header("msupply-site-uuid", &self.hardware_id)
            .body(Full::new(Bytes::from(body)))?;
        let started = Instant::now();
        let result = async {
            let response = self.http.request(request).await?;
            let status = response.status();
            let bytes = response.into_body().collect().await?.to_bytes();
            if !status.is_success() {
                bail!("{kind}: HTTP {status}: {}", String::from_utf8_lossy(&bytes));
            }
            if bytes.starts_with(b"{\"error\":\"") && !bytes.starts_with(b"{\"error\":\"\"") {
                bail!("{kind}: {}", String::from_utf8_lossy(&bytes));
            }
            Ok(bytes)
        }
        .await;
        self.metrics.call(kind, started.elapsed(), result.is_ok());
        result
    }

    fn num_records(bytes: &[u8]) -> anyhow::Result<u64> {
        let value: serde_json::Value = serde_json::from_slice(bytes)?;
        value["NumRecords"].as_u64().context("the reply has NumRecords")
    }

    pub async fn initial_dump(&self, full: bool) -> anyhow::Result<u64> {
        let path = if full {
            "initial_dump/?type=full"
        } else {
            "initial_dump/"
        };
        Satellite::num_records(&self.call("initial_dump", "GET", path, Vec::new(), false).await?)
    }

    pub async fn count(&self) -> anyhow::Result<u64> {
        self.count_as("count").await
    }

    /// `count`, recorded under another call name (the latency probe).
    pub async fn count_as(&self, kind: &'static str) -> anyhow::Result<u64> {
        Satellite::num_records(
            &self
                .call(kind, "GET", "queued_records/count", Vec::new(), false)
                .await?,
        )
    }

    /// The raw body of a pull of `limit` records.
    pub async fn pull(&self, limit: usize) -> anyhow::Result<Bytes> {
        self.call(
            "pull",
            "GET",
            &format!("queued_records/?limit={limit}"),
            Vec::new(),
            false,
        )
        .await
    }

    pub async fn acknowledge(&self, ids: &[&str]) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&serde_json::json!({ "SyncRecordIDs": ids }))?;
        self.call("acknowledge", "POST", "acknowledged_records", body, false)
            .await
            .map(drop)
    }

    pub async fn push(&self, body: Vec<u8>) -> anyhow::Result<()> {
        self.call("push", "POST", "queued_records", body, false).await.map(drop)
    }

    pub async fn user(&self) -> anyhow::Result<()> {
        self.call(
            "user",
            "GET",
            &format!("user?store={}", self.store_id),
            Vec::new(),
            true,
        )
        .await
        .map(drop)
    }

    pub fn store_id(&self) -> &str {
        &self.store_id
    }
}
