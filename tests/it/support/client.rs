//! A satellite's HTTP client: Basic auth with the SHA-256 hex of the password, the hardware id
//! header, and the v2/v3 calls with `from_site`/`to_site`.

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use std::sync::Mutex;

use mobile_validator::{Client as App, Device, Session};

use super::SiteLogin;

/// Plain HTTP, or HTTPS trusting the test authority (see [`super::tls`]).
pub type HttpClient =
    Client<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Full<Bytes>>;

/// A reply: status, raw body and the body parsed as JSON.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub raw: String,
    pub json: Value,
}

pub struct Satellite {
    client: HttpClient,
    /// The servers requests go to, in turn (one, unless spread over a cluster's instances).
    bases: Vec<String>,
    next_base: std::sync::atomic::AtomicUsize,
    pub site_id: u32,
    version: String,
    authorization: String,
    pub hardware_id: Option<String>,
    /// What mSupply Mobile would do with what this satellite integrates (v2 and v3 only):
    /// every batch it acknowledges is judged, and a record the app would not take fails the test.
    judge: Option<Mutex<Judge>>,
}

/// The app's view of one satellite: its session, and the records pulled but not yet
/// acknowledged (judged when they are, as the app integrates a batch before acknowledging it).
struct Judge {
    device: Device,
    session: Session,
    pulled: Vec<Value>,
}

impl Judge {
    fn pulled(&mut self, batch: &[Value]) {
        for record in batch {
            let id = &record["SyncID"];
            self.pulled.retain(|r| r["SyncID"] != *id);
            self.pulled.push(record.clone());
        }
    }

    fn acknowledged(&mut self, sync_ids: &[String]) {
        let (batch, rest): (Vec<Value>, Vec<Value>) = std::mem::take(&mut self.pulled)
            .into_iter()
            .partition(|r| sync_ids.iter().any(|id| r["SyncID"] == id.as_str()));
        self.pulled = rest;
        if batch.is_empty() {
            return;
        }
        let verdict = self.session.judge_batch(&batch);
        let failures: Vec<String> = verdict.failures().map(|v| v.to_string()).collect();
        assert!(
            failures.is_empty() && !verdict.rolled_back,
            "mSupply Mobile ({:?}) would not take what the primary sent:\n{}",
            self.device.client,
            failures.join("\n")
        );
    }
}

pub fn basic(name: &str, password: &str) -> String {
    let secret = satsync::domain::credentials::client_secret(password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{secret}"))
    )
}

pub fn http_client() -> HttpClient {
    let tls = super::tls::authority().client_config(rustls::DEFAULT_VERSIONS);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

impl Satellite {
    /// The server the next request goes to.
    fn base(&self) -> &str {
        let n = self.next_base.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.bases[n % self.bases.len()]
    }

    pub fn new(base: &str, login: &SiteLogin, version: &str) -> Satellite {
        Satellite::spread(&[base.to_string()], login, version)
    }

    /// A satellite whose requests go to each of `bases` in turn.
    pub fn spread(bases: &[String], login: &SiteLogin, version: &str) -> Satellite {
        Satellite {
            client: http_client(),
            bases: bases.to_vec(),
            next_base: Default::default(),
            site_id: login.id,
            version: version.to_string(),
            authorization: basic(&login.name, &login.password),
            hardware_id: Some(format!("hw-{}", login.name)),
            judge: Satellite::app(version).map(|client| {
                let device = Device::new(client, &login.store_id, &login.store_name_id);
                Mutex::new(Judge {
                    session: Session::new(device.clone()),
                    device,
                    pulled: Vec::new(),
                })
            }),
        }
    }

    /// The mobile app a version's client is: v3 today's, v2 the 2017 app's.
    fn app(version: &str) -> Option<App> {
        match version {
            "v3" => Some(App::Head),
            "v2" => Some(App::V2017),
            _ => None,
        }
    }

    /// A satellite that is not mSupply Mobile though it syncs over v2/v3 (a patient sync
    /// source): what it receives is not judged by the app's rules.
    pub fn not_mobile(mut self) -> Satellite {
        self.judge = None;
        self
    }

    /// The app's totals of what this satellite integrated so far.
    pub fn judged(&self) -> Option<mobile_validator::Report> {
        self.judge.as_ref().map(|j| j.lock().unwrap().session.report())
    }

    pub fn with_authorization(mut self, authorization: &str) -> Satellite {
        self.authorization = authorization.to_string();
        self
    }

    pub fn with_hardware(mut self, hardware_id: Option<&str>) -> Satellite {
        self.hardware_id = hardware_id.map(str::to_string);
        self
    }

    /// The `from_site`/`to_site` query of this satellite's calls.
    pub fn sites(&self) -> String {
        format!("from_site={}&to_site=1", self.site_id)
    }

    pub async fn request(&self, method: &str, path_and_query: &str, body: &str) -> Reply {
        self.try_request(method, path_and_query, body)
            .await
            .expect("the server answers")
    }

    /// A push, or `None` when the connection fails (a server stopping).
    pub async fn try_push(&self, body: &str) -> Option<Reply> {
        self.try_request("POST", &format!("queued_records/?{}", self.sites()), body)
            .await
    }

    /// A request of this satellite: its credentials and hardware id on `path_and_query`.
    fn builder(&self, method: &str, path_and_query: &str) -> http::request::Builder {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{}/sync/{}/{path_and_query}", self.base(), self.version))
            .header("authorization", &self.authorization)
            .header("content-type", "application/json");
        if let Some(hardware) = &self.hardware_id {
            builder = builder.header("msupply-site-uuid", hardware);
        }
        builder
    }

    async fn try_request(&self, method: &str, path_and_query: &str, body: &str) -> Option<Reply> {
        let request = self
            .builder(method, path_and_query)
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        try_send(&self.client, request).await
    }

    /// A call with `headers` added and `body` sent as given; the reply as it came (status,
    /// headers, body bytes not decoded).
    pub async fn raw(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, http::HeaderMap, Bytes) {
        let mut builder = self.builder(method, path_and_query);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = self
            .client
            .request(builder.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .expect("the server answers");
        let (parts, body) = response.into_parts();
        (
            parts.status.as_u16(),
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }

    pub async fn site(&self) -> Reply {
        self.request("GET", "site", "").await
    }

    pub async fn initial_dump(&self, full: bool) -> Reply {
        let kind = if full { "&type=full" } else { "" };
        // A device that initialises starts from an empty database.
        if let Some(judge) = &self.judge {
            let mut judge = judge.lock().unwrap();
            judge.session = Session::new(judge.device.clone());
            judge.pulled.clear();
        }
        self.request("GET", &format!("initial_dump/?{}{kind}", self.sites()), "")
            .await
    }

    pub async fn count(&self) -> u64 {
        let reply = self
            .request("GET", &format!("queued_records/count?{}", self.sites()), "")
            .await;
        assert_eq!(reply.status, 200, "count failed: {}", reply.raw);
        reply.json["NumRecords"].as_u64().expect("NumRecords is a number")
    }

    /// `count` without checks, for replies that are not counts.
    pub async fn count_raw(&self) -> String {
        self.request("GET", &format!("queued_records/count?{}", self.sites()), "")
            .await
            .raw
    }

    pub async fn pull(&self, limit: usize) -> Reply {
        let reply = self
            .request("GET", &format!("queued_records/?{}&limit={limit}", self.sites()), "")
            .await;
        if let (Some(judge), Some(batch)) = (&self.judge, reply.json.as_array()) {
            judge.lock().unwrap().pulled(batch);
        }
        reply
    }

    pub async fn pull_records(&self, limit: usize) -> Vec<Value> {
        let reply = self.pull(limit).await;
        assert_eq!(reply.status, 200, "pull failed: {}", reply.raw);
        reply.json.as_array().expect("a pull answers an array").clone()
    }

    pub async fn acknowledge(&self, sync_ids: &[String]) -> Reply {
        if let Some(judge) = &self.judge {
            judge.lock().unwrap().acknowledged(sync_ids);
        }
        let body = serde_json::json!({ "SyncRecordIDs": sync_ids }).to_string();
        self.request("POST", &format!("acknowledged_records/?{}", self.sites()), &body)
            .await
    }

    pub async fn push(&self, body: &str) -> Reply {
        self.request("POST", &format!("queued_records/?{}", self.sites()), body)
            .await
    }

    /// Pulls and acknowledges until the queue is empty, checking `count` against what arrives;
    /// returns every record received, in order.
    pub async fn drain(&self, limit: usize) -> Vec<Value> {
        self.drain_checking(limit, false).await
    }

    /// [`Satellite::drain`] while records are being added to the queue (an import): one may
    /// land between the count and the pull, so the pull may bring more than was counted, never
    /// less.
    pub async fn drain_while_added(&self, limit: usize) -> Vec<Value> {
        self.drain_checking(limit, true).await
    }

    async fn drain_checking(&self, limit: usize, growing: bool) -> Vec<Value> {
        let mut received = Vec::new();
        loop {
            let expected = self.count().await.min(limit as u64);
            let batch = self.pull_records(limit).await;
            let pulled = batch.len() as u64;
            if growing {
                assert!(pulled >= expected, "{pulled} pulled, fewer than the {expected} counted");
            } else {
                assert_eq!(pulled, expected, "count must match what the list returns");
            }
            if batch.is_empty() {
                return received;
            }
            let ids: Vec<String> = batch
                .iter()
                .map(|r| r["SyncID"].as_str().unwrap().to_string())
                .collect();
            let reply = self.acknowledge(&ids).await;
            assert_eq!(reply.status, 200, "acknowledge failed: {}", reply.raw);
            assert_eq!(reply.json["error"], "");
            received.extend(batch);
        }
    }
}

/// Longer than any wait the server is configured for in the tests (a patient `load` waits at
/// most a minute): a reply that takes longer is a hang, and fails the test that waits on it
/// instead of holding up the whole suite.
const REPLY_LIMIT: std::time::Duration = std::time::Duration::from_secs(180);

/// A GET answered with anything, not only JSON (an export, the dashboard's files, metrics):
/// status, headers and body as text.
pub async fn fetch_text(url: &str, authorization: Option<&str>) -> (u16, http::HeaderMap, String) {
    let mut request = http::Request::get(url);
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    let response = http_client()
        .request(request.body(Full::new(Bytes::new())).unwrap())
        .await
        .expect("the server answers");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status.as_u16(),
        parts.headers,
        String::from_utf8(bytes.to_vec()).expect("replies are UTF-8"),
    )
}

pub async fn send(client: &HttpClient, request: http::Request<Full<Bytes>>) -> Reply {
    try_send(client, request).await.expect("the server answers")
}

/// [`send`], or `None` when the connection fails (refused, or closed before the reply: a
/// server stopping).
pub async fn try_send(client: &HttpClient, request: http::Request<Full<Bytes>>) -> Option<Reply> {
    let asked = format!("{} {}", request.method(), request.uri());
    let exchange = async {
        let response = client.request(request).await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.into_body().collect().await.ok()?.to_bytes()))
    };
    let (status, bytes) = tokio::time::timeout(REPLY_LIMIT, exchange)
        .await
        .unwrap_or_else(|_| panic!("no reply within {REPLY_LIMIT:?} to {asked}"))?;
    let raw = String::from_utf8(bytes.to_vec()).expect("replies are UTF-8");
    let json = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("reply is not JSON ({e}): {raw}"));
    Some(Reply { status, raw, json })
}
