//! The patient API's reply schemas: each accepts the spec's sample replies (written out literally
//! here) and what `wire::patient` and the status views produce, and refuses a reply missing a key
//! the spec requires.

use std::collections::BTreeMap;

use satsync::patient::ids::{Icn, Jpid, SourcePid};
use satsync::patient::metastamp::{DomainStamps, Metastamp, SourceSyncState};
use satsync::patient::stamp::StampTime;
use satsync::patient::status::{data_status, status, status_detail, PatientSyncView};
use satsync::patient::SyncError;
use satsync::wire::patient as wire;
use serde_json::{json, Value};

use crate::support::schema::{assert_invalid, assert_valid, validation_errors};

const JPID: &str = "52833885-af7c-4899-90be-b3a6630b2369";
const UID: &str = "urn:va:allergy:9E7A:3:751";

fn status_sample(status: u16) -> Value {
    json!({"data":{"jpid":"52833885-af7c-4899-90be-b3a6630b2369",
      "syncStatus":{"completedStamp":{"icn":"10108V420871","lastAccessTime":20160706113600_u64,
        "sourceMetaStamp":{"9E7A":{"pid":"9E7A;3","localId":3,"stampTime":20160706094004_u64,
          "syncCompleted":true,"syncCompleteAsOf":20160706094511_u64,
          "domainMetaStamp":{"allergy":{"domain":"allergy","stampTime":20160706094004_u64,
            "eventCount":2,"storedCount":2,"syncCompleted":true}}}}}},
      "jobStatus":[]},"status":status})
}

fn status_with_an_open_job() -> Value {
    let mut sample = status_sample(200);
    sample["data"]["jobStatus"] = json!([{"jobId":"a5b3e0c4-7f0e-4a3b-9a52-0f4c1f1b2c3d",
        "rootJobId":"a5b3e0c4-7f0e-4a3b-9a52-0f4c1f1b2c3d","jpid":JPID,
        "patientIdentifier":{"type":"pid","value":"9E7A;3"},"status":"error",
        "error":{"type":"timeout","message":"no answer"},"timestamp":"1467800000000",
        "type":"vista-9E7A-subscribe-request"}]);
    sample
}

fn status_detail_sample() -> Value {
    json!({"data":{"completedStamp":{"icn":"10108V420871","lastAccessTime":20160706113600_u64,
        "sourceMetaStamp":{}},
      "inProgress":{"icn":"10108V420871","lastAccessTime":20160706113600_u64,
      "sourceMetaStamp":{"9E7A":{"pid":"9E7A;3","localId":3,"stampTime":20160706094004_u64,
        "syncCompleted":false,
        "domainMetaStamp":{"allergy":{"domain":"allergy","stampTime":20160706094004_u64,
          "eventCount":1,"storedCount":0,"syncCompleted":false,
          "eventMetaStamp":{"urn:va:allergy:9E7A:3:751":{"stampTime":20050317200936_u64,"stored":false}}}}}}}},
      "status":200})
}

fn data_status_sample() -> Value {
    json!({"data":{"VISTA":{"9E7A":{"isSyncCompleted":true,"completedStamp":20160706094004_u64},
                      "C877":{"isSyncCompleted":false,"hasError":false,"completedStamp":0}},
             "DOD":{"isSyncCompleted":true,"completedStamp":20160706094020_u64},
             "HDR":{"isSyncCompleted":true,"completedStamp":20160706094020_u64},
             "VLER":{"hasError":true,"isSyncCompleted":false},
             "allSites":false},"status":200})
}

fn operational_status_sample() -> Value {
    json!({"data":{"completedStamp":{"sourceMetaStamp":{"9E7A":{"stampTime":20160706094004_u64,
        "syncCompleted":true,"syncCompleteAsOf":20160706094511_u64,
        "domainMetaStamp":{"item":{"domain":"item","itemCount":120,"storedCount":120,
          "stampTime":20160706094004_u64,"syncCompleted":true}}}}}},"status":200})
}

/// `value` without `key` in the object at `pointer`.
fn without(value: &Value, pointer: &str, key: &str) -> Value {
    let mut changed = value.clone();
    let object = changed.pointer_mut(pointer).and_then(Value::as_object_mut).unwrap();
    assert!(object.remove(key).is_some(), "{pointer}/{key} is not in the sample");
    changed
}

fn parsed(bytes: Vec<u8>) -> Value {
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn each_schema_accepts_the_spec_samples() {
    assert_valid("status", &status_sample(200));
    assert_valid("status", &status_with_an_open_job());
    assert_valid("load", &status_sample(201));
    assert_valid("demographics-load", &status_sample(201));
    assert_valid("status-detail", &status_detail_sample());
    assert_valid(
        "status-detail",
        &json!({"data":{"completedStamp":{"icn":"","sourceMetaStamp":{}}},"status":200}),
    );
    // The blueprint's own examples.
    let nothing_complete = json!({"data":{"jobStatus":[],"jpid":JPID,
        "syncStatus":{"completedStamp":{"icn":"10108V420871","sourceMetaStamp":{}}}},"status":201});
    assert_valid("demographics-load", &nothing_complete);
    assert_valid("load", &nothing_complete);
    assert_valid("data-status", &data_status_sample());
    assert_valid(
        "data-status",
        &json!({"data":{"DOD":{"completedStamp":20160706094020_u64,"isSyncCompleted":true},
            "HDR":{"completedStamp":20160706094020_u64,"isSyncCompleted":true},"VISTA":{},
            "VLER":{"completedStamp":20160706094020_u64,"isSyncCompleted":true},"allSites":true},"status":200}),
    );
    assert_valid("operational-status", &operational_status_sample());
    assert_valid(
        "clear",
        &json!({"data":{"code":200,"message":"pid: 9E7A;3 unsynced."},"status":200}),
    );
    assert_valid(
        "ingest-reply",
        &json!({"data":{"items":1,"records":3,"ignored":0},"status":200}),
    );
    let errors = [
        json!({"data":["The required parameter \"pid\" is missing."],"status":400}),
        json!({"data":{"error":{"code":400,"message":"The required parameter \"pid\" is missing."}},"status":400}),
        json!({"data":{"error":{"code":404,"message":"pid 9E7A;3 is unsynced"}},"status":404}),
        json!({"data":{"error":{"code":404,"message":"pid: 9E7A;3 not found."}},"status":404}),
        json!({"data":{"error":{"code":503,"message":"Operational data has not been fully synchronized for this site."}},"status":503}),
        json!({"data":{"error":{"code":500,"message":"There was an error processing your request. The error has been logged."}},"status":500}),
    ];
    for error in &errors {
        assert_valid("error", error);
    }
}

#[test]
fn each_schema_refuses_a_reply_missing_a_required_key() {
    let status = status_sample(200);
    assert_invalid("status", &without(&status, "/data", "jobStatus"));
    assert_invalid("status", &without(&status, "", "status"));
    assert_invalid(
        "status",
        &without(
            &status,
            "/data/syncStatus/completedStamp/sourceMetaStamp/9E7A",
            "syncCompleted",
        ),
    );
    assert_invalid(
        "status",
        &without(&status_with_an_open_job(), "/data/jobStatus/0", "rootJobId"),
    );
    let completed = "/data/syncStatus/completedStamp";
    assert_invalid("status", &without(&status, completed, "icn"));
    assert_invalid("status", &without(&status, "/data/syncStatus", "completedStamp"));
    for key in ["stampTime", "domainMetaStamp", "localId", "pid"] {
        assert_invalid(
            "status",
            &without(&status, &format!("{completed}/sourceMetaStamp/9E7A"), key),
        );
    }
    let domain = format!("{completed}/sourceMetaStamp/9E7A/domainMetaStamp/allergy");
    for key in ["domain", "stampTime", "syncCompleted"] {
        assert_invalid("status", &without(&status, &domain, key));
    }
    let mut syncing_nothing = status_sample(201);
    syncing_nothing["data"]["syncStatus"] = json!({});
    assert_invalid("demographics-load", &syncing_nothing);
    assert_invalid("load", &without(&status_sample(201), "/data", "jpid"));
    assert_invalid("load", &status_sample(200));
    assert_invalid(
        "demographics-load",
        &without(&status_sample(201), "/data", "syncStatus"),
    );
    let detail = status_detail_sample();
    let domain = "/data/inProgress/sourceMetaStamp/9E7A/domainMetaStamp/allergy";
    assert_invalid("status-detail", &without(&detail, domain, "storedCount"));
    assert_invalid("status-detail", &without(&detail, domain, "eventMetaStamp"));
    assert_invalid("status-detail", &without(&detail, "/data", "completedStamp"));
    assert_invalid("status-detail", &json!({"data":{},"status":200}));
    assert_invalid(
        "status-detail",
        &without(
            &detail,
            &format!("{domain}/eventMetaStamp/{}", UID.replace('/', "~1")),
            "stored",
        ),
    );
    assert_invalid("data-status", &without(&data_status_sample(), "/data", "allSites"));
    assert_invalid(
        "data-status",
        &without(&data_status_sample(), "/data/VISTA/9E7A", "isSyncCompleted"),
    );
    assert_invalid(
        "data-status",
        &without(&data_status_sample(), "/data/VISTA/C877", "completedStamp"),
    );
    for source in ["DOD", "VLER"] {
        assert_invalid("data-status", &without(&data_status_sample(), "/data", source));
        assert_invalid(
            "data-status",
            &without(&data_status_sample(), &format!("/data/{source}"), "isSyncCompleted"),
        );
    }
    assert_valid("data-status", &without(&data_status_sample(), "/data", "HDR"));
    let operational = operational_status_sample();
    assert_invalid(
        "operational-status",
        &without(
            &operational,
            "/data/completedStamp/sourceMetaStamp/9E7A/domainMetaStamp/item",
            "itemCount",
        ),
    );
    assert_invalid("operational-status", &without(&operational, "/data", "completedStamp"));
    assert_invalid("clear", &json!({"data":{"code":200},"status":200}));
    assert_invalid("error", &json!({"data":{"error":{"code":404}},"status":404}));
    assert_invalid("error", &json!({"data":{"error":{"code":404,"message":"x"}}}));
    assert_invalid("ingest-reply", &json!({"data":{"items":1,"records":3},"status":200}));
}

#[test]
fn the_replies_satsync_writes_validate() {
    assert_valid("error", &parsed(wire::load_error_body(400, wire::MISSING_PID)));
    assert_valid("error", &parsed(wire::error_body(400, wire::MISSING_PID)));
    assert_valid(
        "error",
        &parsed(wire::error_body(400, &wire::malformed_pid_message("x;"))),
    );
    assert_valid(
        "error",
        &parsed(wire::error_body(404, &wire::unsynced_message("9E7A;3"))),
    );
    assert_valid(
        "error",
        &parsed(wire::error_body(404, &wire::not_found_message("9E7A;3"))),
    );
    assert_valid("error", &parsed(wire::error_body(404, wire::NOT_YET_ACCESSIBLE)));
    assert_valid(
        "error",
        &parsed(wire::error_body(503, wire::OPERATIONAL_DATA_IN_PROGRESS)),
    );
    assert_valid("error", &parsed(wire::error_body(500, wire::INTERNAL_ERROR)));
    assert_valid("error", &parsed(wire::error_body(400, wire::DOD_PID_INVALID)));
    assert_valid("clear", &parsed(wire::envelope(&wire::clear_data("9E7A;3"), 200)));
    assert_valid(
        "ingest-reply",
        &parsed(wire::envelope(&wire::ingest_data(2, 7, 1), 200)),
    );
}

#[test]
fn the_status_views_validate() {
    let stamp = |number: u64| StampTime::from_number(number).unwrap();
    let metastamp = Metastamp {
        stamp_time: stamp(20160706094004),
        domains: BTreeMap::from([(
            "allergy".to_string(),
            DomainStamps {
                stamp_time: Some(stamp(20160706094004)),
                events: BTreeMap::from([(UID.to_string(), stamp(20050317200936))]),
            },
        )]),
    };
    let mut site = SourceSyncState::new(SourcePid::parse("9E7A;3").unwrap());
    site.merge(&metastamp, stamp(20160706094100));
    site.record_stored(UID, stamp(20050317200936), stamp(20160706094511));
    let unanswered = SourceSyncState::new(SourcePid::parse("HDR;10108V420871").unwrap());
    let mut failed = SourceSyncState::new(SourcePid::parse("DOD;4325678").unwrap());
    failed.record_error(SyncError::new("timeout", "no answer"), stamp(20160706094600));
    let mut newer = site.clone();
    newer.merge(
        &Metastamp {
            stamp_time: stamp(20160801000000),
            domains: BTreeMap::from([(
                "allergy".to_string(),
                DomainStamps {
                    stamp_time: None,
                    events: BTreeMap::from([(UID.to_string(), stamp(20160801000000))]),
                },
            )]),
        },
        stamp(20160801000100),
    );
    let states: [(&str, Vec<SourceSyncState>); 6] = [
        ("no source", vec![]),
        ("nothing answered", vec![unanswered.clone()]),
        ("partly complete", vec![site.clone(), unanswered]),
        ("complete", vec![site]),
        ("in error", vec![newer.clone(), failed]),
        ("after a newer stamp", vec![newer]),
    ];
    let jpid = Jpid::parse(JPID).unwrap();
    let icn = Icn::parse("10108V420871").unwrap();
    for (state, sources) in &states {
        for icn in [Some(&icn), None] {
            let view = PatientSyncView {
                jpid: &jpid,
                icn,
                last_access_time: Some(stamp(20160706113600)),
                sources,
                jobs: &[],
            };
            let checked = [
                ("status", parsed(wire::envelope(&status(&view), 200))),
                ("load", parsed(wire::envelope(&status(&view), 201))),
                ("demographics-load", parsed(wire::envelope(&status(&view), 201))),
                ("status-detail", parsed(wire::envelope(&status_detail(&view), 200))),
                ("data-status", parsed(wire::envelope(&data_status(&view), 200))),
            ];
            for (schema, reply) in &checked {
                let errors = validation_errors(schema, reply);
                assert!(errors.is_empty(), "{state}, ICN {icn:?}, {schema}: {errors:?}\n{reply}");
            }
        }
    }
}
