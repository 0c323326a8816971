//! The patient sync API end to end, over real HTTP: the spec's acceptance scenario with two
//! simulated satellites answering `patient_sync_request`s from their queues through `ingest`,
//! and a fake secondary server for DOD, HDR and VLER. Every reply is checked against the
//! project's JSON schemas for that endpoint.
//!
//! The scenarios that matter also run (`cluster_…`) against two instances on a NATS cluster: the
//! clinician calls the instance that is not the writer (its patient changes are forwarded), and
//! the satellites answer through the other one, so a load waiting on one instance is woken by
//! an answer the other took (its replica applies it and wakes its waiting loads). Two scenarios stay single-process: the operators' view,
//! whose metrics are each instance's own, and a stopped writer, which in a cluster is a
//! hand-over (`cluster.rs`) rather than a 503.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use satsync::store::SyncStorage;
use serde_json::{json, Value};

use crate::metrics::{scrape, value};
use crate::support::admin::{call, error_code, plain_basic, OPERATOR, PASSWORD};
use crate::support::client::{basic, http_client, send, HttpClient, Reply};
use crate::support::deployment::{both_ways, Deployment, Kind, Registrar};
use crate::support::fake_source::FakeSource;
use crate::support::schema::assert_valid;
use crate::support::{SiteLogin, TestServer};

const ICN: &str = "10108V420871";
const NOT_ACCESSIBLE: &str = "This patient's record is not yet accessible. Please try again in a few minutes. If it is still not accessible, please contact your HIMS representative and have the patient loaded into your local VistA.";
const INTERNAL_ERROR: &str = "There was an error processing your request. The error has been logged.";
const OPERATIONAL: &str = "Operational data has not been fully synchronized for this site.";

/// Two satellites with the site codes of the spec (9E7A, C877), a clinician who may read and
/// clear, and a clerk who may only read.
async fn register(registrar: Registrar) -> Vec<SiteLogin> {
    let mut logins = Vec::new();
    for (id, name) in [(0x9E7A_u32, "site-9e7a"), (0xC877, "site-c877")] {
        logins.push(registrar.register_site(name, Some(id), 0xA000 + u64::from(id)).await);
    }
    let both = satsync::domain::permissions::ALL.map(str::to_string);
    let stores = [logins[0].store_id.clone()];
    registrar.put_user("clinician", "clinician-pass", &stores, &both).await;
    let read = [satsync::domain::permissions::READ_PATIENT_RECORD.to_string()];
    registrar.put_user("clerk", "clerk-pass", &[], &read).await;
    registrar.add_operator(OPERATOR, PASSWORD).await;
    logins
}

/// A client of the patient API, authenticated as a user or a site.
#[derive(Clone)]
struct PatientApi {
    client: HttpClient,
    base: String,
    authorization: String,
}

impl PatientApi {
    fn new(server: &TestServer, name: &str, password: &str) -> PatientApi {
        PatientApi {
            client: http_client(),
            base: format!("{}/resource/sync", server.base_url()),
            authorization: basic(name, password),
        }
    }

    async fn call(&self, method: &str, path_and_query: &str, body: &str) -> Reply {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}/{path_and_query}", self.base))
            .header("authorization", &self.authorization)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let reply = send(&self.client, request).await;
        assert_eq!(
            reply.json["status"], reply.status,
            "the envelope carries the status: {}",
            reply.raw
        );
        reply
    }

    async fn get(&self, path_and_query: &str) -> Reply {
        self.call("GET", path_and_query, "").await
    }
}

/// Checks a reply's status and validates its body: successes against the endpoint's schema,
/// errors against the error schema.
fn expect(reply: &Reply, status: u16, schema: &str) {
    assert_eq!(reply.status, status, "{}", reply.raw);
    assert_valid(if status < 300 { schema } else { "error" }, &reply.json);
}

fn error_message(reply: &Reply) -> &str {
    reply.json["data"]["error"]["message"].as_str().unwrap_or_default()
}

/// A source's answer for `pid`: two allergies and a vital, each record with its event's stamp.
fn answer(pid: &str, local: &str, extra: Value) -> Value {
    let uid = |domain: &str, n: u32| format!("urn:va:{domain}:{local}:{n}");
    let events = [
        ("allergy", 751, 20050317200936_u64),
        ("allergy", 752, 20070911130000),
        ("vital", 1, 20160706094004),
    ];
    let mut domains = serde_json::Map::new();
    let mut records = Vec::new();
    for (domain, n, stamp) in events {
        let entry = domains
            .entry(domain.to_string())
            .or_insert_with(|| json!({"stampTime": 20160706094004_u64, "events": {}}));
        entry["events"][uid(domain, n)] = json!(stamp);
        records.push(json!({"uid": uid(domain, n), "domain": domain, "stampTime": stamp,
            "data": {"uid": uid(domain, n), "summary": format!("{domain} {n}")}}));
    }
    let mut item = json!({
        "pid": pid,
        "metastamp": {"stampTime": 20160706094004_u64, "domains": domains},
        "records": records,
    });
    if let (Value::Object(item), Value::Object(extra)) = (&mut item, extra) {
        item.extend(extra);
    }
    item
}

/// A simulated satellite: drains its queue and answers every `load` request for a patient it
/// holds by posting that patient's answer to `ingest`; records every request it saw.
struct SimulatedSite {
    seen: Arc<parking_lot::Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SimulatedSite {
    fn start(server: &TestServer, login: &SiteLogin, answers: HashMap<String, Value>) -> SimulatedSite {
        let satellite = server.satellite(login, "v3").with_hardware(None).not_mobile();
        let ingest = PatientApi::new(server, &login.name, &login.password);
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let records = satellite.pull_records(100).await;
                let mut ids = Vec::new();
                for record in &records {
                    ids.push(record["SyncID"].as_str().unwrap().to_string());
                    if record["RecordType"] != "patient_sync_request" {
                        continue;
                    }
                    let request = record["data"].clone();
                    log.lock().push(request.clone());
                    let pid = request["pid"].as_str().unwrap_or_default();
                    if let (Some("load"), Some(item)) = (request["action"].as_str(), answers.get(pid)) {
                        let body = Value::Array(vec![item.clone()]).to_string();
                        let reply = ingest.call("POST", "ingest", &body).await;
                        assert_eq!(reply.status, 200, "ingest: {}", reply.raw);
                        assert_valid("ingest-reply", &reply.json);
                    }
                }
                if !ids.is_empty() {
                    satellite.acknowledge(&ids).await;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        SimulatedSite { seen, task }
    }

    fn requests(&self) -> Vec<Value> {
        self.seen.lock().clone()
    }
}

impl Drop for SimulatedSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct World {
    deployment: Deployment,
    logins: Vec<SiteLogin>,
    secondary: FakeSource,
    clinician: PatientApi,
}

impl World {
    /// Where users' and operators' calls go: in a cluster, the instance that is not the writer.
    fn front(&self) -> &TestServer {
        self.deployment.front()
    }

    /// Where the satellites answer (`ingest`, and the queue of a simulated site): in a cluster,
    /// the other instance; the same server in a single process.
    fn back(&self) -> &TestServer {
        self.deployment.back()
    }

    /// A satellite of site `n` that is not mSupply Mobile: in a cluster, its requests alternate
    /// between the instances.
    fn satellite(&self, n: usize) -> crate::support::Satellite {
        self.deployment
            .satellite(&self.logins[n], "v3")
            .with_hardware(None)
            .not_mobile()
    }
}

async fn world(kind: Kind, source_timeout_seconds: u64) -> World {
    let secondary = FakeSource::start().await;
    let url = secondary.base_url();
    let (deployment, logins) = Deployment::start_with(
        kind,
        move |config| {
            config.patient.dod_url = Some(url.clone());
            config.patient.hdr_url = Some(url.clone());
            config.patient.vler_url = Some(url.clone());
            config.patient.source_timeout_seconds = source_timeout_seconds;
            config.patient.wait_limit_seconds = 60;
        },
        register,
    )
    .await;
    let clinician = PatientApi::new(deployment.front(), "clinician", "clinician-pass");
    World {
        deployment,
        logins,
        secondary,
        clinician,
    }
}

/// No `false` anywhere in a data-status reply.
fn has_false(value: &Value) -> bool {
    match value {
        Value::Bool(false) => true,
        Value::Object(map) => map.values().any(has_false),
        Value::Array(items) => items.iter().any(has_false),
        _ => false,
    }
}

/// `/status`, `/status-detail` and `/data-status` of `pid`, each checked against its schema.
async fn views(w: &World, pid: &str) -> (Reply, Reply, Reply) {
    let status = w.clinician.get(&format!("status?pid={pid}")).await;
    expect(&status, 200, "status");
    let detail = w.clinician.get(&format!("status-detail?pid={pid}")).await;
    expect(&detail, 200, "status-detail");
    let data = w.clinician.get(&format!("data-status?pid={pid}")).await;
    expect(&data, 200, "data-status");
    (status, detail, data)
}

/// Polls `/data-status` of `pid` (every reply validated) until `done` holds of its `data`.
async fn data_status_until(w: &World, pid: &str, what: &str, done: impl Fn(&Value) -> bool) -> Reply {
    for _ in 0..1500 {
        let data = w.clinician.get(&format!("data-status?pid={pid}")).await;
        expect(&data, 200, "data-status");
        if done(&data.json["data"]) {
            return data;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{pid}: {what} did not happen within 30 s");
}

both_ways! {
    #[tokio::test]
    fn the_acceptance_scenario_load_sync_fully_then_clear, cluster_the_acceptance_scenario_load_sync_fully_then_clear = acceptance_scenario
}

async fn acceptance_scenario(kind: Kind) {
    let w = world(kind, 30).await;
    let pid = "9E7A;3";
    // The satellite knows the patient's ICN: the answer brings HDR and VLER in as sources.
    let answers = HashMap::from([(pid.to_string(), answer(pid, "9E7A:3", json!({"identifiers": [ICN]})))]);
    let site = SimulatedSite::start(w.back(), &w.logins[0], answers);
    w.secondary.answer(
        &format!("HDR;{ICN}"),
        &answer(&format!("HDR;{ICN}"), "HDR:1", json!({})),
    );
    w.secondary.nothing(&format!("VLER;{ICN}"));

    // The satellite's own mSupply data, which clear must leave alone.
    let satellite = w.satellite(0);
    let (invoice_id, invoice) = crate::support::data::transact(1, &w.logins[0].store_id);
    assert_eq!(
        satellite.push(&crate::support::data::batch(&[invoice])).await.json["error"],
        ""
    );

    let cleared = w.clinician.get(&format!("clear?pid={pid}")).await;
    expect(&cleared, 404, "clear");
    assert_eq!(error_message(&cleared), "pid: 9E7A;3 not found.");
    let status = w.clinician.get(&format!("status?pid={pid}")).await;
    expect(&status, 404, "status");
    assert_eq!(error_message(&status), "pid 9E7A;3 is unsynced");

    let loaded = w.clinician.get(&format!("load?pid={pid}")).await;
    expect(&loaded, 201, "load");
    let sync_status = &loaded.json["data"]["syncStatus"];
    assert!(sync_status["completedStamp"].is_object(), "{}", loaded.raw);
    assert!(sync_status.get("inProgress").is_none(), "{}", loaded.raw);
    assert_eq!(loaded.json["data"]["jobStatus"], json!([]));
    let sources = &sync_status["completedStamp"]["sourceMetaStamp"];
    assert_eq!(sources["9E7A"]["pid"], pid);
    assert_eq!(sources["9E7A"]["localId"], 3);
    assert_eq!(sources["9E7A"]["domainMetaStamp"]["allergy"]["eventCount"], 2);
    assert_eq!(sources["9E7A"]["domainMetaStamp"]["allergy"]["storedCount"], 2);
    assert_eq!(sources["HDR"]["syncCompleted"], true);
    assert_eq!(sources["VLER"]["syncCompleted"], true, "VLER holds nothing: complete");
    assert_eq!(sync_status["completedStamp"]["icn"], ICN);

    let status = w.clinician.get(&format!("status?pid={pid}")).await;
    expect(&status, 200, "status");
    assert_eq!(status.json["data"], loaded.json["data"]);
    let by_icn = w.clinician.get(&format!("status?pid={ICN}")).await;
    expect(&by_icn, 200, "status");
    assert_eq!(
        by_icn.json["data"]["jpid"], loaded.json["data"]["jpid"],
        "one JPID for every identifier"
    );

    let data = w.clinician.get(&format!("data-status?pid={pid}")).await;
    expect(&data, 200, "data-status");
    assert!(!has_false(&data.json["data"]), "{}", data.raw);
    assert_eq!(data.json["data"]["allSites"], true);
    assert_eq!(data.json["data"]["VISTA"]["9E7A"]["isSyncCompleted"], true);

    let detail = w.clinician.get(&format!("status-detail?pid={pid}")).await;
    expect(&detail, 200, "status-detail");
    let events = &detail.json["data"]["completedStamp"]["sourceMetaStamp"]["9E7A"]["domainMetaStamp"]["allergy"]
        ["eventMetaStamp"];
    assert_eq!(
        events["urn:va:allergy:9E7A:3:751"],
        json!({"stampTime": 20050317200936_u64, "stored": true})
    );

    // A newer stamp for a stored event makes the source incomplete until that version arrives.
    let ingest = PatientApi::new(w.back(), &w.logins[0].name, &w.logins[0].password);
    let newer = json!([{"pid": pid, "metastamp": {"stampTime": 20160801000000_u64, "domains": {"allergy": {
        "stampTime": 20160801000000_u64, "events": {"urn:va:allergy:9E7A:3:751": 20160801000000_u64}}}}}]);
    let reply = ingest.call("POST", "ingest", &newer.to_string()).await;
    expect(&reply, 200, "ingest-reply");
    let (status, detail, data) = views(&w, pid).await;
    assert_eq!(data.json["data"]["VISTA"]["9E7A"]["isSyncCompleted"], false);
    assert_eq!(
        data.json["data"]["VISTA"]["9E7A"]["completedStamp"], 20160706094004_u64,
        "the stamp it was last complete at"
    );
    assert_eq!(data.json["data"]["allSites"], false);
    let in_progress = &status.json["data"]["syncStatus"]["inProgress"];
    assert_eq!(in_progress["icn"], ICN);
    assert_eq!(in_progress["sourceMetaStamp"]["9E7A"]["stampTime"], 20160801000000_u64);
    assert_eq!(
        detail.json["data"]["inProgress"]["sourceMetaStamp"]["9E7A"]["domainMetaStamp"]["allergy"]["eventMetaStamp"]
            ["urn:va:allergy:9E7A:3:751"],
        json!({"stampTime": 20160801000000_u64, "stored": false})
    );
    let record = json!([{"pid": pid, "records": [{"uid": "urn:va:allergy:9E7A:3:751", "domain": "allergy",
        "stampTime": 20160801000000_u64, "data": {"summary": "allergy 751, revised"}}]}]);
    let reply = ingest.call("POST", "ingest", &record.to_string()).await;
    expect(&reply, 200, "ingest-reply");
    let data = w.clinician.get(&format!("data-status?pid={pid}")).await;
    assert_eq!(data.json["data"]["allSites"], true, "{}", data.raw);

    let cleared = w.clinician.get(&format!("clear?pid={pid}")).await;
    expect(&cleared, 200, "clear");
    assert_eq!(
        cleared.json,
        json!({"data": {"code": 200, "message": "pid: 9E7A;3 unsynced."}, "status": 200})
    );
    for asked in [pid.to_string(), ICN.to_string(), format!("HDR;{ICN}")] {
        let status = w.clinician.get(&format!("status?pid={asked}")).await;
        expect(&status, 404, "status");
    }
    w.deployment.caught_up_everywhere().await;
    for server in w.deployment.servers() {
        let storage = server.primary.engine.storage();
        assert!(
            storage.current("transact", &invoice_id).unwrap().is_some(),
            "mSupply data is untouched"
        );
    }
    // The satellite is told to stop sending the patient.
    let mut told = false;
    for _ in 0..200 {
        told = site.requests().iter().any(|request| request["action"] == "clear");
        if told {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(told, "a clear request reaches the satellite: {:?}", site.requests());
}

both_ways! {
    #[tokio::test]
    fn an_immediate_load_answers_at_once_and_the_satellite_is_asked_through_its_queue, cluster_an_immediate_load_answers_at_once_and_the_satellite_is_asked_through_its_queue = immediate_load
}

async fn immediate_load(kind: Kind) {
    let w = world(kind, 30).await;
    let loaded = w.clinician.get("load?pid=9E7A;8&immediate=true").await;
    expect(&loaded, 201, "load");
    let sync_status = &loaded.json["data"]["syncStatus"];
    assert_eq!(sync_status["completedStamp"]["icn"], "", "no ICN known");
    assert_eq!(
        sync_status["completedStamp"]["sourceMetaStamp"],
        json!({}),
        "nothing has answered yet"
    );
    assert_eq!(
        sync_status["inProgress"]["sourceMetaStamp"]["9E7A"],
        json!({"pid": "9E7A;8", "localId": 8, "stampTime": 0, "syncCompleted": false, "domainMetaStamp": {}})
    );
    let open: Vec<&str> = loaded.json["data"]["jobStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["type"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["enterprise-sync-request", "vista-9E7A-subscribe-request"]);

    // A second load while that one is open joins it: no new job.
    let again = w.clinician.get("load?pid=9E7A;8&immediate=true").await;
    expect(&again, 201, "load");
    assert_eq!(again.json["data"]["jobStatus"], loaded.json["data"]["jobStatus"]);

    let satellite = w.satellite(0);
    let requests: Vec<Value> = satellite
        .drain(100)
        .await
        .into_iter()
        .filter(|record| record["RecordType"] == "patient_sync_request")
        .collect();
    assert_eq!(requests.len(), 1, "one request for the one open load");
    assert_eq!(requests[0]["data"]["pid"], "9E7A;8");
    assert_eq!(requests[0]["data"]["action"], "load");
    let other = w.satellite(1);
    assert_eq!(other.count().await, 0, "another satellite is not asked");

    let bad = w.clinician.get("load?pid=9E7A;8&immediate=yes").await;
    expect(&bad, 400, "error");
    let missing = w.clinician.get("load").await;
    expect(&missing, 400, "error");
    assert_eq!(
        missing.json,
        json!({"data": ["The required parameter \"pid\" is missing."], "status": 400})
    );
    let nobody = w.clinician.get("load?pid=ABCD;1").await;
    expect(&nobody, 404, "error");
    assert_eq!(error_message(&nobody), NOT_ACCESSIBLE);
}

/// The operators' view of patient sync: the jobs in flight, across patients, until their
/// sources answer.
#[tokio::test]
async fn an_operator_sees_the_jobs_in_flight_until_the_sources_answer() {
    let w = world(Kind::Single, 30).await;
    let (admin, operator) = (w.front().admin_url(), plain_basic(OPERATOR, PASSWORD));
    let in_flight = || call(&admin, "GET", "/admin/v1/patient-jobs", Some(&operator));
    assert_eq!(in_flight().await.json, json!({"total": 0, "jobs": []}));

    let loaded = w.clinician.get("load?pid=9E7A;8&immediate=true").await;
    expect(&loaded, 201, "load");
    let jobs = in_flight().await;
    assert_eq!(jobs.json["total"], 2, "{}", jobs.raw);
    // The metrics say the same: one load started, its two jobs open, none finished.
    let (metrics, _) = scrape(&admin).await;
    assert_eq!(value(&metrics, "satsync_patient_loads_started_total", &[]), 1.0);
    let open = |metrics: &prometheus_parse::Scrape| {
        ["created", "started"].map(|state| value(metrics, "satsync_patient_jobs_open", &[("state", state)]))
    };
    assert_eq!(open(&metrics).iter().sum::<f64>(), 2.0);
    assert_eq!(value(&metrics, "satsync_patient_jobs_in_flight", &[]), 2.0);
    let loads = [("api", "patient"), ("endpoint", "load"), ("status", "201")];
    assert_eq!(value(&metrics, "satsync_requests_total", &loads), 1.0);
    let mut types: Vec<&str> = jobs.json["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["type"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["enterprise-sync-request", "vista-9E7A-subscribe-request"]);
    for job in jobs.json["jobs"].as_array().unwrap() {
        assert_eq!(job["patient"], "9E7A;8");
        assert_eq!(job["abandoned"], false);
        assert!(
            ["created", "started"].contains(&job["state"].as_str().unwrap()),
            "{job}"
        );
        assert_eq!(job["jpid"], loaded.json["data"]["jpid"]);
    }
    let one = call(&admin, "GET", "/admin/v1/patient-jobs?limit=1", Some(&operator)).await;
    assert_eq!(
        (one.json["total"].as_u64(), one.json["jobs"].as_array().map(Vec::len)),
        (Some(2), Some(1))
    );
    let bad = call(&admin, "GET", "/admin/v1/patient-jobs?limit=none", Some(&operator)).await;
    assert_eq!((bad.status, error_code(&bad)), (400, "bad_request"), "{}", bad.raw);
    let clinician = basic("clinician", "clinician-pass");
    let refused = call(&admin, "GET", "/admin/v1/patient-jobs", Some(&clinician)).await;
    assert_eq!(refused.status, 401, "a user's credentials do not open the admin API");

    // The satellite answers: the load's jobs close and leave the list.
    let answers = HashMap::from([("9E7A;8".to_string(), answer("9E7A;8", "8", json!({})))]);
    let _site = SimulatedSite::start(w.back(), &w.logins[0], answers);
    let mut closed = false;
    for _ in 0..1500 {
        if in_flight().await.json["total"] == 0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        closed,
        "the jobs were still in flight 30 s after the satellite answered"
    );
    let (metrics, _) = scrape(&admin).await;
    assert_eq!(open(&metrics), [0.0, 0.0]);
    let finished = |state| value(&metrics, "satsync_patient_jobs_finished_total", &[("state", state)]);
    assert_eq!((finished("completed"), finished("error")), (2.0, 0.0));
    assert_eq!(value(&metrics, "satsync_patient_loads_started_total", &[]), 1.0);
}

both_ways! {
    #[tokio::test]
    fn demographics_load_takes_an_edipi_or_an_icn_and_refuses_a_dod_pid, cluster_demographics_load_takes_an_edipi_or_an_icn_and_refuses_a_dod_pid = demographics_load
}

async fn demographics_load(kind: Kind) {
    let w = world(kind, 30).await;
    let demographics = json!({"givenNames": "PATIENT", "familyName": "DODONLY", "dob": "19670909", "ssn": "666223456"});
    w.secondary.nothing("DOD;4325678");
    let by_edipi = json!({"edipi": "4325678", "demographics": demographics}).to_string();
    let reply = w.clinician.call("POST", "demographics-load", &by_edipi).await;
    expect(&reply, 201, "demographics-load");
    let status = w.clinician.get("status?pid=DOD;4325678").await;
    expect(&status, 200, "status");

    let by_icn = json!({"icn": "10110V004877", "demographics": demographics}).to_string();
    let reply = w.clinician.call("POST", "demographics-load", &by_icn).await;
    expect(&reply, 201, "demographics-load");
    let completed = &reply.json["data"]["syncStatus"]["completedStamp"];
    assert_eq!(completed["icn"], "10110V004877", "{}", reply.raw);
    assert!(completed["sourceMetaStamp"].is_object(), "{}", reply.raw);

    let by_dod_pid = json!({"edipi": "DOD;4325678", "demographics": demographics}).to_string();
    let reply = w.clinician.call("POST", "demographics-load", &by_dod_pid).await;
    expect(&reply, 400, "error");
    assert_eq!(
        error_message(&reply),
        "A dod pid is invalid, please use an edipi or icn."
    );
    let without = json!({"edipi": "4325678"}).to_string();
    expect(
        &w.clinician.call("POST", "demographics-load", &without).await,
        400,
        "error",
    );
    let malformed = w.clinician.call("POST", "demographics-load", "{not json").await;
    expect(&malformed, 400, "error");
}

both_ways! {
    #[tokio::test]
    fn a_priority_site_answers_before_a_slow_source_finishes, cluster_a_priority_site_answers_before_a_slow_source_finishes = priority_site
}

async fn priority_site(kind: Kind) {
    let w = world(kind, 30).await;
    let pid = "9E7A;4";
    let answers = HashMap::from([(pid.to_string(), answer(pid, "9E7A:4", json!({"identifiers": [ICN]})))]);
    let _site = SimulatedSite::start(w.back(), &w.logins[0], answers);
    w.secondary.answer(
        &format!("HDR;{ICN}"),
        &answer(&format!("HDR;{ICN}"), "HDR:1", json!({})),
    );
    w.secondary.nothing(&format!("VLER;{ICN}"));
    w.secondary.delay(&format!("VLER;{ICN}"), Duration::from_secs(20));

    let loaded = w.clinician.get(&format!("load?pid={pid}&prioritySite=9E7A")).await;
    expect(&loaded, 201, "load");
    let sync_status = &loaded.json["data"]["syncStatus"];
    assert_eq!(
        sync_status["completedStamp"]["sourceMetaStamp"]["9E7A"]["syncCompleted"],
        true
    );
    assert!(
        sync_status["inProgress"]["sourceMetaStamp"].get("VLER").is_some()
            || !loaded.json["data"]["jobStatus"].as_array().unwrap().is_empty(),
        "the slow source is still being fetched: {}",
        loaded.raw
    );
}

both_ways! {
    #[tokio::test]
    fn a_source_that_never_answers_fails_the_load_after_the_time_out, cluster_a_source_that_never_answers_fails_the_load_after_the_time_out = source_time_outs
}

async fn source_time_outs(kind: Kind) {
    let w = world(kind, 2).await;
    // No satellite drains C877's queue.
    let loaded = w.clinician.get("load?pid=C877;5").await;
    expect(&loaded, 500, "error");
    assert_eq!(error_message(&loaded), INTERNAL_ERROR);
    let data = w.clinician.get("data-status?pid=C877;5").await;
    expect(&data, 200, "data-status");
    assert_eq!(
        data.json["data"]["VISTA"]["C877"],
        json!({"isSyncCompleted": false, "hasError": true, "completedStamp": 0})
    );
    let status = w.clinician.get("status?pid=C877;5").await;
    expect(&status, 200, "status");
    let failed = status.json["data"]["jobStatus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|job| job["type"] == "vista-C877-subscribe-request")
        .cloned()
        .expect("the failed job is listed");
    assert_eq!(failed["status"], "error");
    assert_eq!(failed["error"]["type"], "timeout");

    // A secondary source that fails is an error too, and a forced fetch asks it again.
    w.secondary.fail(&format!("HDR;{ICN}"));
    w.secondary.nothing(&format!("VLER;{ICN}"));
    let loaded = w.clinician.get(&format!("load?pid={ICN}")).await;
    expect(&loaded, 500, "error");
    w.secondary.nothing(&format!("HDR;{ICN}"));
    let loaded = w.clinician.get(&format!("load?pid={ICN}&forcedSite=true")).await;
    expect(&loaded, 201, "load");
    let asked = w
        .secondary
        .requests()
        .iter()
        .filter(|pid| **pid == format!("VLER;{ICN}"))
        .count();
    assert_eq!(asked, 2, "forcedSite=true fetches every secondary source again");
}

both_ways! {
    #[tokio::test]
    fn permissions_initialisation_and_ingest_ownership_are_enforced, cluster_permissions_initialisation_and_ingest_ownership_are_enforced = permissions_and_ownership
}

async fn permissions_and_ownership(kind: Kind) {
    let w = world(kind, 30).await;
    let clerk = PatientApi::new(w.front(), "clerk", "clerk-pass");
    let refused = clerk.get("clear?pid=9E7A;3").await;
    expect(&refused, 403, "error");
    let stranger = PatientApi::new(w.front(), "clinician", "wrong");
    expect(&stranger.get("status?pid=9E7A;3").await, 401, "error");
    expect(&w.clinician.get("status").await, 400, "error");
    let malformed = w.clinician.get("status?pid=9E7A-3").await;
    expect(&malformed, 400, "error");
    assert!(error_message(&malformed).contains("9E7A-3"), "{}", malformed.raw);

    // 9E7A may not post for C877's patients; nothing of the body is applied.
    expect(&w.clinician.get("load?pid=C877;1&immediate=true").await, 201, "load");
    let site = PatientApi::new(w.back(), &w.logins[0].name, &w.logins[0].password);
    let theirs = Value::Array(vec![answer("C877;1", "C877:1", json!({}))]).to_string();
    expect(&site.call("POST", "ingest", &theirs).await, 403, "error");
    let data = w.clinician.get("data-status?pid=C877;1").await;
    assert_eq!(data.json["data"]["VISTA"]["C877"]["isSyncCompleted"], false);
    // A bad stamp is refused with a clear error.
    let mut bad = answer("9E7A;1", "9E7A:1", json!({}));
    bad["records"][0]["stampTime"] = json!(2016);
    let reply = site.call("POST", "ingest", &Value::Array(vec![bad]).to_string()).await;
    expect(&reply, 400, "error");
    // A user may not post to ingest at all.
    expect(&w.clinician.call("POST", "ingest", "[]").await, 403, "error");

    // While its site initialises, a site's loads wait: 503.
    let satellite = w.satellite(0);
    satellite
        .push(&crate::support::data::batch(&[crate::support::data::item(1)]))
        .await;
    let other = w.satellite(1);
    assert_eq!(other.initial_dump(true).await.status, 200);
    let other_site = PatientApi::new(w.back(), &w.logins[1].name, &w.logins[1].password);
    let reply = other_site.get("load?pid=C877;1&immediate=true").await;
    expect(&reply, 503, "error");
    assert_eq!(error_message(&reply), OPERATIONAL);
    let progress = other_site.get("operational-status").await;
    expect(&progress, 200, "operational-status");
    let in_progress = &progress.json["data"]["inProgress"]["sourceMetaStamp"]["C877"];
    assert_eq!(in_progress["syncCompleted"], false, "{}", progress.raw);
    other.drain(500).await;
    let progress = other_site.get("operational-status").await;
    expect(&progress, 200, "operational-status");
    let completed = &progress.json["data"]["completedStamp"]["sourceMetaStamp"]["C877"];
    assert_eq!(completed["syncCompleted"], true, "{}", progress.raw);
    let item = &completed["domainMetaStamp"]["item"];
    assert_eq!(item["itemCount"], item["storedCount"], "{}", progress.raw);
    expect(&other_site.get("load?pid=C877;1&immediate=true").await, 201, "load");
    // 9E7A never initialised: no operational status.
    expect(&site.get("operational-status").await, 404, "error");
    // A site reads only its own.
    expect(&site.get("operational-status?site=C877").await, 403, "error");
}

both_ways! {
    #[tokio::test]
    fn an_identifier_of_another_patient_is_a_conflict_and_changes_nothing, cluster_an_identifier_of_another_patient_is_a_conflict_and_changes_nothing = identifier_conflict
}

async fn identifier_conflict(kind: Kind) {
    let w = world(kind, 30).await;
    expect(&w.clinician.get("load?pid=9E7A;3&immediate=true").await, 201, "load");
    expect(&w.clinician.get("load?pid=C877;5&immediate=true").await, 201, "load");
    let first = PatientApi::new(w.back(), &w.logins[0].name, &w.logins[0].password);
    let theirs = Value::Array(vec![answer("9E7A;3", "9E7A:3", json!({"identifiers": [ICN]}))]);
    expect(
        &first.call("POST", "ingest", &theirs.to_string()).await,
        200,
        "ingest-reply",
    );

    // C877 says its patient 5 has the same ICN: that ICN is 9E7A;3's.
    let second = PatientApi::new(w.back(), &w.logins[1].name, &w.logins[1].password);
    let clash = Value::Array(vec![answer("C877;5", "C877:5", json!({"identifiers": [ICN]}))]);
    let refused = second.call("POST", "ingest", &clash.to_string()).await;
    expect(&refused, 409, "error");
    assert!(error_message(&refused).contains(ICN), "{}", refused.raw);
    let by_icn = w.clinician.get(&format!("status?pid={ICN}")).await;
    let first_patient = w.clinician.get("status?pid=9E7A;3").await;
    assert_eq!(by_icn.json["data"]["jpid"], first_patient.json["data"]["jpid"]);
    let data = w.clinician.get("data-status?pid=C877;5").await;
    expect(&data, 200, "data-status");
    assert_eq!(
        data.json["data"]["VISTA"]["C877"]["isSyncCompleted"], false,
        "nothing of the refused body was applied: {}",
        data.raw
    );
}

both_ways! {
    #[tokio::test]
    fn every_view_validates_in_each_state_of_a_patient_without_an_icn_or_secondary_sources, cluster_every_view_validates_in_each_state_of_a_patient_without_an_icn_or_secondary_sources = views_in_each_state
}

async fn views_in_each_state(kind: Kind) {
    let w = world(kind, 5).await;
    let pid = "9E7A;5";
    for view in ["status", "status-detail", "data-status"] {
        expect(&w.clinician.get(&format!("{view}?pid={pid}")).await, 404, "error");
    }

    // Loading: asked, nothing answered yet.
    expect(
        &w.clinician.get(&format!("load?pid={pid}&immediate=true")).await,
        201,
        "load",
    );
    let (status, detail, data) = views(&w, pid).await;
    for completed in [
        &status.json["data"]["syncStatus"]["completedStamp"],
        &detail.json["data"]["completedStamp"],
    ] {
        assert_eq!(completed["icn"], "", "{completed}");
        assert_eq!(completed["sourceMetaStamp"], json!({}), "{completed}");
    }
    assert_eq!(
        detail.json["data"]["inProgress"]["sourceMetaStamp"]["9E7A"]["stampTime"],
        0
    );
    assert_eq!(
        data.json["data"],
        json!({"VISTA": {"9E7A": {"isSyncCompleted": false, "hasError": false, "completedStamp": 0}},
            "DOD": {"isSyncCompleted": true}, "VLER": {"isSyncCompleted": true}, "allSites": false}),
        "no identifier at DOD or VLER: nothing to wait for there"
    );

    // Partly complete: 9E7A answers and names the patient's id at C877, which never answers.
    let answers = HashMap::from([(
        pid.to_string(),
        answer(pid, "9E7A:5", json!({"identifiers": ["C877;4"]})),
    )]);
    let _site = SimulatedSite::start(w.back(), &w.logins[0], answers);
    data_status_until(&w, pid, "9E7A complete", |data| {
        data["VISTA"]["9E7A"]["isSyncCompleted"] == true && data["VISTA"].get("C877").is_some()
    })
    .await;
    let (status, detail, data) = views(&w, pid).await;
    let sync_status = &status.json["data"]["syncStatus"];
    assert_eq!(sync_status["completedStamp"]["icn"], "");
    assert_eq!(
        sync_status["completedStamp"]["sourceMetaStamp"]["9E7A"]["syncCompleted"],
        true
    );
    assert_eq!(sync_status["inProgress"]["sourceMetaStamp"]["C877"]["stampTime"], 0);
    assert!(detail.json["data"]["inProgress"]["sourceMetaStamp"]["C877"].is_object());
    assert_eq!(data.json["data"]["VISTA"]["C877"]["completedStamp"], 0);

    // In error: C877's request times out.
    data_status_until(&w, pid, "C877 in error", |data| {
        data["VISTA"]["C877"]["hasError"] == true
    })
    .await;
    let (status, _, data) = views(&w, pid).await;
    assert_eq!(data.json["data"]["allSites"], false);
    let failed: Vec<&Value> = status.json["data"]["jobStatus"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|job| job["status"] == "error")
        .collect();
    assert!(!failed.is_empty(), "the failed job is listed: {}", status.raw);

    // Cleared.
    expect(&w.clinician.get(&format!("clear?pid={pid}")).await, 200, "clear");
    for view in ["status", "status-detail", "data-status"] {
        expect(&w.clinician.get(&format!("{view}?pid={pid}")).await, 404, "error");
    }
}

#[tokio::test]
async fn a_stopped_writer_is_a_503_and_not_a_refused_credential() {
    let w = world(Kind::Single, 30).await;
    w.front().primary.engine.shutdown();
    // A site presenting a hardware id for the first time is bound to it, which needs the writer.
    let login = &w.logins[0];
    let request = http::Request::builder()
        .uri(format!("{}/resource/sync/status?pid=9E7A;3", w.front().base_url()))
        .header("authorization", basic(&login.name, &login.password))
        .header("msupply-site-uuid", "hw-first-seen")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = send(&http_client(), request).await;
    expect(&reply, 503, "error");
    assert_eq!(error_message(&reply), "the server is shutting down");
}

both_ways! {
    #[tokio::test]
    fn changes_to_one_patient_sent_at_once_through_both_instances_each_see_the_other, cluster_changes_to_one_patient_sent_at_once_through_both_instances_each_see_the_other = concurrent_changes
}

/// Patient changes sent at the same moment to both instances of a cluster: each instance decides
/// against its own replica, and the writer refuses a change decided on a state that missed the
/// other's (it is decided again). In a single process the same calls are simply serial.
async fn concurrent_changes(kind: Kind) {
    const ROUNDS: u32 = 6;
    let w = world(kind, 30).await;
    let clinician_at_back = PatientApi::new(w.back(), "clinician", "clinician-pass");
    let site_at = |server: &TestServer| PatientApi::new(server, &w.logins[0].name, &w.logins[0].password);
    let (site_front, site_back) = (site_at(w.front()), site_at(w.back()));

    // A new patient loaded through both instances at once is one patient.
    for n in 1..=ROUNDS {
        let load = format!("load?pid=9E7A;{n}&immediate=true");
        let (one, other) = tokio::join!(w.clinician.get(&load), clinician_at_back.get(&load));
        expect(&one, 201, "load");
        expect(&other, 201, "load");
        assert_eq!(
            one.json["data"]["jpid"], other.json["data"]["jpid"],
            "9E7A;{n} loaded through both instances at once is one patient"
        );
    }

    // An identifier claimed for two patients at once goes to one of them; the other is refused.
    for n in 1..=ROUNDS {
        let (first, second, shared) = (
            format!("9E7A;{}", 20 + n),
            format!("9E7A;{}", 30 + n),
            format!("C877;{n}"),
        );
        for pid in [&first, &second] {
            expect(
                &w.clinician.get(&format!("load?pid={pid}&immediate=true")).await,
                201,
                "load",
            );
        }
        let claim = |pid: &str| Value::Array(vec![json!({"pid": pid, "identifiers": [shared]})]).to_string();
        let (claim_first, claim_second) = (claim(&first), claim(&second));
        let (one, other) = tokio::join!(
            site_front.call("POST", "ingest", &claim_first),
            site_back.call("POST", "ingest", &claim_second)
        );
        let mut statuses = [one.status, other.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{shared}: {} / {}", one.raw, other.raw);
        let owner = w.clinician.get(&format!("status?pid={shared}")).await;
        let winner = if one.status == 200 { &first } else { &second };
        let winning = w.clinician.get(&format!("status?pid={winner}")).await;
        assert_eq!(owner.json["data"]["jpid"], winning.json["data"]["jpid"], "{shared}");
    }

    // One patient's records posted in two halves through both instances at once are all stored,
    // and the source is complete.
    for n in 1..=ROUNDS {
        let pid = format!("9E7A;{}", 50 + n);
        expect(
            &w.clinician.get(&format!("load?pid={pid}&immediate=true")).await,
            201,
            "load",
        );
        let mut whole = answer(&pid, &format!("9E7A:{}", 50 + n), json!({}));
        let records = whole["records"].as_array().unwrap().clone();
        whole.as_object_mut().unwrap().remove("records");
        expect(
            &site_back.call("POST", "ingest", &json!([whole]).to_string()).await,
            200,
            "ingest-reply",
        );
        let (allergies, vitals): (Vec<Value>, Vec<Value>) =
            records.into_iter().partition(|record| record["domain"] == "allergy");
        let half = |records: Vec<Value>| json!([{"pid": pid, "records": records}]).to_string();
        let (allergies, vitals) = (half(allergies), half(vitals));
        let (one, other) = tokio::join!(
            site_front.call("POST", "ingest", &allergies),
            site_back.call("POST", "ingest", &vitals)
        );
        expect(&one, 200, "ingest-reply");
        expect(&other, 200, "ingest-reply");
        w.deployment.caught_up_everywhere().await;
        for server in w.deployment.servers() {
            let clinician = PatientApi::new(server, "clinician", "clinician-pass");
            let detail = clinician.get(&format!("status-detail?pid={pid}")).await;
            expect(&detail, 200, "status-detail");
            let domains = &detail.json["data"]["completedStamp"]["sourceMetaStamp"]["9E7A"]["domainMetaStamp"];
            for domain in ["allergy", "vital"] {
                let events = domains[domain]["eventMetaStamp"].as_object();
                assert!(
                    events.is_some_and(|events| events.values().all(|event| event["stored"] == true)),
                    "{pid}: every {domain} record stored, on every instance: {}",
                    detail.raw
                );
            }
            let data = clinician.get(&format!("data-status?pid={pid}")).await;
            assert_eq!(
                data.json["data"]["VISTA"]["9E7A"]["isSyncCompleted"], true,
                "{}",
                data.raw
            );
        }
    }
}
