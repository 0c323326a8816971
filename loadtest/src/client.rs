//! A simulated satellite: the calls of mSupply Mobile (or, with `--api`, of a v1 desktop
//! satellite or an open-mSupply v5 site), over a shared keep-alive HTTP client, each one timed
//! into the metrics. Whatever the API, the scenarios see v2 shapes: pushes go in as v2 bodies
//! and pulls come out as [`PullReply`], translated by [`crate::formats`].

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::endpoints::Endpoints;
use crate::formats::{self, Api, PullReply};
use crate::metrics::Metrics;

pub use crate::link::Http;

/// A central cursor not read yet (see `Satellite::central_cursor`).
const UNREAD: u64 = u64::MAX;

/// While retrying: how long one attempt may take before it is given up and sent again.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);
/// While retrying: the pause after a request failed on every endpoint in turn.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// One unread central cursor per satellite, for [`Satellite::with_central_cursor`].
pub fn central_cursors(sites: usize) -> Arc<[Arc<AtomicU64>]> {
    (0..sites).map(|_| Arc::new(AtomicU64::new(UNREAD))).collect()
}

/// Basic credentials as the real clients send them: name and the SHA-256 hex of the password.
pub fn basic(name: &str, password: &str) -> String {
    let secret = hex::encode(Sha256::digest(password.as_bytes()));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{secret}"))
    )
}

/// One pulled record in the v2 shape ([`PullReply::to_v2`]), borrowed from it; `data` is the
/// raw bytes as served (over v1, rebuilt from the values).
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
    api: Api,
    endpoints: Endpoints,
    /// How many requests this satellite made: the next goes to the endpoint of that turn.
    turn: AtomicU64,
    authorization: String,
    user_authorization: String,
    store_id: String,
    hardware_id: String,
    http: Http,
    metrics: Arc<Metrics>,
    /// v5: the last `ID` read from `central_records` (open-mSupply keeps it; 0 again when it
    /// re-initialises). [`UNREAD`] until the first read: a satellite that has not initialised in
    /// this run is one initialised before, up to date, so it starts from the feed's end (as a
    /// v3 satellite starts from its queue's position).
    central_cursor: Arc<AtomicU64>,
}

impl Satellite {
    pub fn new(number: usize, api: Api, endpoints: &Endpoints, http: Http, metrics: Arc<Metrics>) -> Satellite {
        use satsync::admin::dataset as ds;
        Satellite {
            number,
            site_id: ds::site_id(number).0,
            api,
            endpoints: endpoints.clone(),
            turn: AtomicU64::new(number as u64),
            authorization: basic(&ds::site_name(number), &ds::password(number)),
            user_authorization: basic(&ds::user_name(number), &ds::password(number)),
            store_id: ds::store_id(number),
            hardware_id: format!("loadtest-{number}"),
            http,
            metrics,
            central_cursor: Arc::new(AtomicU64::new(UNREAD)),
        }
    }

    /// Keeps the satellite's place in v5's central feed in `cursor` (shared by every `Satellite`
    /// value of the same satellite, as open-mSupply keeps it between syncs).
    pub fn with_central_cursor(mut self, cursor: Arc<AtomicU64>) -> Satellite {
        self.central_cursor = cursor;
        self
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
        // v1 and v3 name the queue in the query; v5 takes the site from the credentials.
        let sites = if user || path == "site" || self.api == Api::V5 {
            String::new()
        } else {
            format!("{separator}from_site={}&to_site=1", self.site_id)
        };
        let (tail, body) = (format!("/sync/{}/{path}{sites}", self.api.name()), Bytes::from(body));
        let request = |base: &str| {
            http::Request::builder()
                .method(method)
                .uri(format!("{base}{tail}"))
                .header(
                    "authorization",
                    if user {
                        &self.user_authorization
                    } else {
                        &self.authorization
                    },
                )
                .header("msupply-site-uuid", &self.hardware_id)
                .body(Full::new(body.clone()))
        };
        self.exchange(kind, request, |status, bytes| {
            // v5's `{"error":{"code","message"}}` as `code: message`; any other body as it is.
            let describe = || formats::v5_error(&bytes).unwrap_or_else(|| String::from_utf8_lossy(&bytes).into());
            if !status.is_success() {
                bail!("{kind}: HTTP {status}: {}", describe());
            }
            // v1 and v3 report some errors in a 200 reply; v5 never should, but say so if it does.
            if bytes.starts_with(b"{\"error\":\"") && !bytes.starts_with(b"{\"error\":\"\"") {
                bail!("{kind}: {}", String::from_utf8_lossy(&bytes));
            }
            if bytes.starts_with(b"{\"error\":{") {
                bail!("{kind}: {}", describe());
            }
            Ok(bytes)
        })
        .await
    }

    /// Sends the request `request` builds for the next endpoint, times it into the metrics as
    /// `kind` (failures as errors), and hands the status and body to `check`. While the
    /// endpoints say to retry (a failover), a failure is sent again unchanged to the next
    /// endpoint until it succeeds or the patience runs out.
    async fn exchange<T>(
        &self,
        kind: &'static str,
        request: impl Fn(&str) -> http::Result<http::Request<Full<Bytes>>>,
        check: impl Fn(http::StatusCode, Bytes) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let first = Instant::now();
        let mut attempts = 0usize;
        loop {
            let base = self.endpoints.url(self.turn.fetch_add(1, Ordering::Relaxed));
            let started = Instant::now();
            let attempt = async {
                let (status, bytes) = self.http.send(request(base)?).await?;
                check(status, bytes)
            };
            let result = match self.endpoints.retry_for() {
                // Longer than the server's own limits (a forwarded change waits 60 s for the
                // writer), so that an attempt given up here is not still pending there.
                Some(_) => tokio::time::timeout(ATTEMPT_TIMEOUT, attempt)
                    .await
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("{kind}: no answer in {ATTEMPT_TIMEOUT:?}"))),
                None => attempt.await,
            };
            self.metrics.call(kind, started.elapsed(), result.is_ok());
            match (result, self.endpoints.retry_for()) {
                (Ok(value), _) => {
                    if kind == "push" {
                        self.endpoints.note_push(started);
                    }
                    return Ok(value);
                }
                (Err(error), Some(patience)) if first.elapsed() < patience => {
                    self.endpoints.note_retry(kind, base, started, &error);
                    attempts += 1;
                    // Straight on to the next instance; a pause once every one has failed.
                    if attempts.is_multiple_of(self.endpoints.len()) {
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                }
                (Err(error), _) => return Err(error),
            }
        }
    }

    /// A whole number of a small JSON reply: `NumRecords` (v1, v3) or `queueLength` (v5).
    fn number(bytes: &[u8], name: &str) -> anyhow::Result<u64> {
        let value: serde_json::Value = serde_json::from_slice(bytes)?;
        value[name].as_u64().with_context(|| format!("the reply has {name}"))
    }

    /// Queues the satellite's initial dump; returns how many records are queued. `full` for every
    /// table, otherwise the mobile subset — except over v5, which has no subset: `initialise`
    /// always queues the full dump.
    pub async fn initial_dump(&self, full: bool) -> anyhow::Result<u64> {
        if self.api == Api::V5 {
            // A re-initialised open-mSupply site reads the central feed again from its start.
            self.central_cursor.store(0, Ordering::Relaxed);
            if !full {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| eprintln!("v5 has no mobile subset: initialise queues the full dump"));
            }
            let reply = self
                .call("initial_dump", "POST", "initialise", b"{}".to_vec(), false)
                .await?;
            return Satellite::number(&reply, "queueLength");
        }
        let path = if full {
            "initial_dump/?type=full"
        } else {
            "initial_dump/"
        };
        Satellite::number(
            &self.call("initial_dump", "GET", path, Vec::new(), false).await?,
            "NumRecords",
        )
    }

    pub async fn count(&self) -> anyhow::Result<u64> {
        self.count_as("count").await
    }

    /// `count`, recorded under another call name (the latency probe). v5 has no count call: an
    /// empty pull's `queueLength` is its count, recorded as `count` so that reports compare.
    pub async fn count_as(&self, kind: &'static str) -> anyhow::Result<u64> {
        let (path, name) = match self.api {
            Api::V5 => ("queued_records?limit=0", "queueLength"),
            Api::V1 | Api::V3 => ("queued_records/count", "NumRecords"),
        };
        Satellite::number(&self.call(kind, "GET", path, Vec::new(), false).await?, name)
    }

    /// A pull of `limit` records, as served.
    pub async fn pull(&self, limit: usize) -> anyhow::Result<PullReply> {
        let path = match self.api {
            Api::V5 => format!("queued_records?limit={limit}"),
            Api::V1 | Api::V3 => format!("queued_records/?limit={limit}"),
        };
        let body = self.call("pull", "GET", &path, Vec::new(), false).await?;
        Ok(PullReply::new(self.api, body))
    }

    /// v5 only: the next page of `central_records` after this satellite's cursor, in the queued
    /// shape (see [`formats::central_as_queued`]), or None when the feed is read to its end. The
    /// cursor moves past the page (the feed is not acknowledged).
    pub async fn pull_central(&self, limit: usize) -> anyhow::Result<Option<PullReply>> {
        self.resume().await?;
        let cursor = self.central_cursor.load(Ordering::Relaxed);
        let path = format!("central_records?cursor={cursor}&limit={limit}");
        let body = self.call("pull", "GET", &path, Vec::new(), false).await?;
        let Some((last, queued)) = formats::central_as_queued(&body)? else {
            return Ok(None);
        };
        self.central_cursor.store(last, Ordering::Relaxed);
        Ok(Some(PullReply::new(Api::V5, Bytes::from(queued))))
    }

    /// v5: a satellite initialised before this run starts reading the central feed where it
    /// ends now (what it holds is up to date). Call it before anything changes that the
    /// satellite must receive; done at the first central read otherwise.
    pub async fn resume(&self) -> anyhow::Result<()> {
        if self.api == Api::V5 && self.central_cursor.load(Ordering::Relaxed) == UNREAD {
            let body = self
                .call("pull", "GET", "central_records?cursor=0&limit=0", Vec::new(), false)
                .await?;
            let end = Satellite::number(&body, "maxCursor")?;
            // A concurrent initial_dump (cursor 0) wins.
            let _ = self
                .central_cursor
                .compare_exchange(UNREAD, end, Ordering::Relaxed, Ordering::Relaxed);
        }
        Ok(())
    }

    pub fn api(&self) -> Api {
        self.api
    }

    pub async fn acknowledge(&self, ids: &[&str]) -> anyhow::Result<()> {
        let body = match self.api {
            Api::V5 => serde_json::json!({ "syncIDs": ids }),
            Api::V1 | Api::V3 => serde_json::json!({ "SyncRecordIDs": ids }),
        };
        self.call(
            "acknowledge",
            "POST",
            "acknowledged_records",
            serde_json::to_vec(&body)?,
            false,
        )
        .await
        .map(drop)
    }

    /// Pushes `body`, a v2 push (a JSON array of v2 records), in this satellite's API.
    pub async fn push(&self, body: Vec<u8>) -> anyhow::Result<()> {
        let body = formats::push_body(self.api, body)?;
        self.call("push", "POST", "queued_records", body, false).await.map(drop)
    }

    /// The user's log-in check; v5 has none: its status call stands in (recorded as `user`).
    pub async fn user(&self) -> anyhow::Result<()> {
        if self.api == Api::V5 {
            return self
                .call("user", "GET", "site_status", Vec::new(), false)
                .await
                .map(drop);
        }
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

    /// The satellite's site code in the patient sync API: its site id in upper-case hex.
    pub fn site_code(&self) -> String {
        format!("{:04X}", self.site_id)
    }

    /// A call of the patient sync API (`/resource/sync/…`) with this site's credentials; the
    /// reply's `data` when the status is `expected`.
    pub async fn patient_call(
        &self,
        kind: &'static str,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        expected: u16,
    ) -> anyhow::Result<serde_json::Value> {
        let body = Bytes::from(body);
        let request = |base: &str| {
            http::Request::builder()
                .method(method)
                .uri(format!("{base}/resource/sync/{path_and_query}"))
                .header("authorization", &self.authorization)
                .header("msupply-site-uuid", &self.hardware_id)
                .body(Full::new(body.clone()))
        };
        self.exchange(kind, request, |status, bytes| {
            if status.as_u16() != expected {
                bail!("{kind}: HTTP {status}: {}", String::from_utf8_lossy(&bytes));
            }
            let mut reply: serde_json::Value = serde_json::from_slice(&bytes)?;
            Ok(reply["data"].take())
        })
        .await
    }
}
