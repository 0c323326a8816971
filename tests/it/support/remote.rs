//! An open-mSupply remote site as its synchroniser calls the primary over v5: site info, then
//! (once) initialise, then each sync the push, the central feed from its cursor and the queue
//! acknowledged page by page, then integration. Every page it receives is judged by the v5
//! validator (open-mSupply's translators, written from their record contract), and a sync ends
//! with the validator integrating the sync's buffer.

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{json, Value};
use v5_validator::{Endpoint, Session, Site, Verdict};

use super::client::{basic, http_client, send, HttpClient, Reply};
use super::SiteLogin;

pub struct Remote {
    base: String,
    login: SiteLogin,
    http: HttpClient,
    /// The last central `ID` read: open-mSupply keeps it between syncs, 0 on a fresh database.
    pub central_cursor: u64,
    session: Session,
    /// Every envelope or order defect any page had.
    pub page_defects: Vec<String>,
    /// Every record received, as received, in order.
    pub received: Vec<Value>,
}

impl Remote {
    /// A fresh remote database for `login`'s site, which hosts `login.store_id`.
    pub fn new(base: &str, login: &SiteLogin) -> Remote {
        let site = Site {
            site_id: login.id as i32,
            own_stores: vec![login.store_id.clone()],
        };
        Remote {
            base: base.to_string(),
            login: login.clone(),
            http: http_client(),
            central_cursor: 0,
            session: Session::new(site),
            page_defects: Vec::new(),
            received: Vec::new(),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: &str) -> Reply {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}/sync/v5/{path}", self.base))
            .header("authorization", basic(&self.login.name, &self.login.password))
            .header("msupply-site-uuid", format!("omsupply-{}", self.login.name))
            .header("app-name", "Open mSupply Desktop")
            .header("version", "14")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        send(&self.http, request).await
    }

    /// `initialise`, as a fresh remote does once; the queue length it answers.
    pub async fn initialise(&mut self) -> u64 {
        let reply = self.call("POST", "initialise", "{}").await;
        assert_eq!(reply.status, 200, "{}", reply.raw);
        self.central_cursor = 0;
        reply.json["queueLength"].as_u64().unwrap()
    }

    /// Pushes `records` (v5 queued records) and the closing empty push, as a sync does.
    pub async fn push(&self, records: &[Value]) -> Reply {
        if !records.is_empty() {
            let body = json!({"queueLength": records.len(), "data": records});
            let reply = self.call("POST", "queued_records", &body.to_string()).await;
            if reply.status != 200 {
                return reply;
            }
        }
        self.call("POST", "queued_records", r#"{"queueLength":0,"data":[]}"#)
            .await
    }

    /// One sync's pulls: the central feed from the cursor, then the queue acknowledged page by
    /// page, each page judged as received; then integration. The verdicts of the sync.
    pub async fn sync(&mut self, limit: usize) -> Vec<Verdict> {
        loop {
            let path = format!("central_records?cursor={}&limit={limit}", self.central_cursor);
            let page = self.call("GET", &path, "").await;
            assert_eq!(page.status, 200, "{}", page.raw);
            let max = page.json["maxCursor"].as_u64().unwrap();
            let data = page.json["data"].as_array().cloned().unwrap_or_default();
            if data.is_empty() {
                assert!(
                    self.central_cursor >= max,
                    "an empty page below maxCursor: {}",
                    page.raw
                );
                break;
            }
            self.central_cursor = data.last().unwrap()["ID"].as_u64().unwrap();
            self.receive(Endpoint::Central, data);
        }
        loop {
            let page = self.call("GET", &format!("queued_records?limit={limit}"), "").await;
            assert_eq!(page.status, 200, "{}", page.raw);
            let data = page.json["data"].as_array().cloned().unwrap_or_default();
            if data.is_empty() {
                break;
            }
            let ids: Vec<&str> = data.iter().map(|r| r["syncOutId"].as_str().unwrap()).collect();
            let acked = self
                .call("POST", "acknowledged_records", &json!({ "syncIDs": ids }).to_string())
                .await;
            assert_eq!(acked.status, 200, "{}", acked.raw);
            self.receive(Endpoint::Queued, data);
        }
        self.session.integrate()
    }

    fn receive(&mut self, endpoint: Endpoint, data: Vec<Value>) {
        self.page_defects.extend(self.session.receive(endpoint, &data));
        self.received.extend(data);
    }

    pub fn missing_prerequisites(&self) -> Vec<String> {
        self.session.missing_prerequisites()
    }

    pub fn report(&self) -> v5_validator::Report {
        self.session.report()
    }
}

/// The verdicts that do not pass, one per line, for assertion messages.
pub fn failures(verdicts: &[Verdict]) -> String {
    let lines: Vec<String> = verdicts.iter().filter(|v| !v.passes()).map(|v| v.to_string()).collect();
    lines.join("\n")
}
