//! Literal wire samples of the patient API: the spec's replies byte for byte, the ingestion API's
//! items, and the refusals with the item and field they name.

use serde_json::json;

use super::*;
use crate::patient::ids::Jpid;
use crate::patient::jobs::JobType;

const UID: &str = "urn:va:allergy:9E7A:3:751";

fn sample_item() -> Value {
    json!({
        "pid": "9E7A;3",
        "identifiers": ["10108V420871", "DOD;4325678"],
        "demographics": {"givenNames": "PATIENT", "familyName": "EIGHT"},
        "metastamp": {"stampTime": 20141031094920_u64, "domains": {"allergy": {
            "stampTime": 20141031094920_u64, "events": {UID: 20141031094920_u64}}}},
        "records": [{"uid": UID, "domain": "allergy", "stampTime": 20141031094920_u64,
            "data": {"uid": UID, "summary": "PENICILLIN"}}]
    })
}

fn ingest(items: &Value) -> Result<Vec<IngestItem>, PatientWireError> {
    decode_ingest(items.to_string().as_bytes(), 1 << 20)
}

fn stamp(number: u64) -> StampTime {
    StampTime::from_number(number).unwrap()
}

#[test]
fn an_ingest_item_decodes_into_the_model() {
    let items =
        ingest(&json!([sample_item(), {"pid": "C877;8", "error": {"type": "fetch", "message": "no"}}])).unwrap();
    assert_eq!(items.len(), 2);
    let item = &items[0];
    assert_eq!(item.pid, SourcePid::parse("9E7A;3").unwrap());
    assert_eq!(item.identifiers.len(), 2);
    assert_eq!(item.demographics.as_ref().unwrap()["familyName"], "EIGHT");
    let metastamp = item.metastamp.as_ref().unwrap();
    assert_eq!(metastamp.stamp_time, stamp(20141031094920));
    let allergy = &metastamp.domains["allergy"];
    assert_eq!(allergy.stamp_time, Some(stamp(20141031094920)));
    assert_eq!(allergy.events[UID], stamp(20141031094920));
    let record = &item.records[0];
    assert_eq!((record.uid.as_str(), record.domain.as_str()), (UID, "allergy"));
    assert_eq!(record.stamp_time, stamp(20141031094920));
    assert_eq!(record.data["summary"], "PENICILLIN");
    assert_eq!(items[1].error, Some(SyncError::new("fetch", "no")));
    assert!(items[1].metastamp.is_none() && items[1].records.is_empty());
}

#[test]
fn stamps_may_be_strings_and_records_need_no_metastamp() {
    let item = json!({"pid": "9e7a;3", "records": [
        {"uid": UID, "domain": "allergy", "stampTime": "20141031094920", "data": {}}]});
    let items = ingest(&json!([item])).unwrap();
    assert_eq!(items[0].pid.to_string(), "9E7A;3");
    assert_eq!(items[0].records[0].stamp_time, stamp(20141031094920));
}

#[test]
fn bad_items_name_the_item_and_the_field() {
    let with = |change: &dyn Fn(&mut Value)| {
        let mut item = sample_item();
        change(&mut item);
        json!([sample_item(), item])
    };
    let cases: Vec<(Value, &str)> = vec![
        (with(&|item: &mut Value| {
                item.as_object_mut().unwrap().remove("pid");
            }), "item 1: pid is missing"),
        (with(&|item: &mut Value| item["pid"] = json!(3)), "item 1: pid must be a string"),
        (with(&|item: &mut Value| item["pid"] = json!("3")), "item 1: pid: pid \"3\" is not valid"),
        (with(&|item: &mut Value| item["identifiers"] = json!(["x"])), "item 1: identifiers[0]: pid \"x\""),
        (with(&|item: &mut Value| item["demographics"] = json!([])), "item 1: demographics must be an object"),
        (
            with(&|item: &mut Value| item["metastamp"]["stampTime"] = json!(2014103109492_u64)),
            "item 1: metastamp.stampTime: stamp time 2014103109492 is not valid: not 14 digits",
        ),
        (
            with(&|item: &mut Value| item["metastamp"]["domains"]["allergy"]["events"][UID] = json!(20141331094920_u64)),
            "item 1: metastamp.domains.allergy.events.urn:va:allergy:9E7A:3:751: stamp time 20141331094920 is not valid: month 13",
        ),
        (with(&|item: &mut Value| item["metastamp"] = json!({})), "item 1: metastamp.stampTime is missing"),
        (with(&|item: &mut Value| item["records"] = json!({})), "item 1: records must be an array"),
        (
            with(&|item: &mut Value| item["records"][0]["stampTime"] = json!("2014-10-31")),
            "item 1: records[0].stampTime: stamp time \"2014-10-31\" is not valid",
        ),
        (with(&|item: &mut Value| item["records"][0]["uid"] = json!("")), "item 1: records[0].uid is missing"),
        (with(&|item: &mut Value| item["records"][0]["data"] = json!("x")), "item 1: records[0].data must be an object"),
        (
            with(&|item: &mut Value| item["records"][0]["domain"] = json!("med")),
            "item 1: records[0].domain \"med\" is not a domain of the item's metastamp",
        ),
        (
            with(&|item: &mut Value| item["records"][0]["uid"] = json!("urn:va:allergy:9E7A:3:999")),
            "item 1: records[0].uid \"urn:va:allergy:9E7A:3:999\" is not an event of domain \"allergy\"",
        ),
        (with(&|item: &mut Value| item["error"] = json!({"type": "x"})), "item 1: error.message is missing"),
        (json!([sample_item(), 5]), "item 1 must be a JSON object"),
        (json!(sample_item()), "the body must be a JSON array of ingest items"),
        (json!([]), "the body holds no ingest item"),
    ];
    for (body, expected) in cases {
        let error = ingest(&body).unwrap_err();
        assert!(matches!(error, PatientWireError::BadRequest(_)), "{expected}");
        assert!(
            error.to_string().starts_with(expected),
            "{error} does not start with {expected}"
        );
    }
}

#[test]
fn an_empty_body_is_a_bad_request_and_a_large_one_too_large() {
    for body in [&b""[..], b"  \n"] {
        let error = decode_ingest(body, 100).unwrap_err();
        assert_eq!(
            error,
            PatientWireError::BadRequest("the body is empty: send a JSON array of ingest items".into())
        );
    }
    let body = json!([sample_item()]).to_string();
    let error = decode_ingest(body.as_bytes(), 10).unwrap_err();
    assert!(matches!(error, PatientWireError::TooLarge(_)));
    assert!(decode_ingest(b"[{", 100)
        .unwrap_err()
        .to_string()
        .contains("JSON array"));
}

#[test]
fn a_source_reply_must_be_about_the_pid_asked_for() {
    let item = json!({"pid": "HDR;10108V420871", "metastamp": {"stampTime": 20141031094920_u64, "domains": {}}});
    let body = item.to_string();
    let hdr = SourcePid::parse("HDR;10108V420871").unwrap();
    let reply = decode_source_reply(body.as_bytes(), &hdr).unwrap();
    assert!(reply.metastamp.unwrap().domains.is_empty());
    let vler = SourcePid::parse("VLER;10108V420871").unwrap();
    let error = decode_source_reply(body.as_bytes(), &vler).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the reply: pid HDR;10108V420871 is not the pid asked for, VLER;10108V420871"
    );
    assert_eq!(
        decode_source_reply(b"[]", &hdr).unwrap_err().to_string(),
        "the reply must be a JSON object"
    );
    assert_eq!(
        decode_source_reply(b"", &hdr).unwrap_err().to_string(),
        "the reply is empty"
    );
}

#[test]
fn demographics_load_takes_an_edipi_or_an_icn() {
    let by_edipi = br#"{"edipi":"4325678","demographics":{"givenNames":"PATIENT","familyName":"DODONLY","dob":"19670909","ssn":"432111234"}}"#;
    let load = decode_demographics_load(by_edipi).unwrap();
    assert_eq!(load.patient.to_string(), "DOD;4325678");
    assert_eq!(load.demographics["birthDate"], "19670909");
    assert!(!load.demographics.contains_key("dob"));
    let by_icn = br#"{"icn":"10108V420871","demographics":{"familyName":"EIGHT"}}"#;
    assert_eq!(
        decode_demographics_load(by_icn).unwrap().patient,
        PatientId::parse("10108V420871").unwrap()
    );
    let by_pid = br#"{"pid":"10108V420871","demographics":{}}"#;
    assert_eq!(
        decode_demographics_load(by_pid).unwrap().patient.to_string(),
        "10108V420871"
    );
}

#[test]
fn demographics_load_refusals() {
    let cases: [(&[u8], &str); 9] = [
        (
            br#"{"pid":"9E7A;3","demographics":{}}"#,
            "pid \"9E7A;3\" cannot be loaded with demographics",
        ),
        (br#"{"edipi":"DOD;4325678","demographics":{}}"#, DOD_PID_INVALID),
        (br#"{"pid":"dod;4325678","demographics":{}}"#, DOD_PID_INVALID),
        (br#"{"edipi":"43x","demographics":{}}"#, "edipi \"43x\" is not valid"),
        (
            br#"{"icn":"10108X420871","demographics":{}}"#,
            "icn \"10108X420871\" is not valid",
        ),
        (br#"{"edipi":"4325678"}"#, "demographics is missing"),
        (
            br#"{"edipi":"4325678","demographics":[]}"#,
            "the body: demographics must be an object",
        ),
        (br#"{"demographics":{}}"#, "an edipi or an icn is required"),
        (
            br#"{"edipi":"1","icn":"1V2","demographics":{}}"#,
            "give an edipi or an icn, not both",
        ),
    ];
    for (body, expected) in cases {
        let error = decode_demographics_load(body).unwrap_err();
        assert!(matches!(error, PatientWireError::BadRequest(_)));
        assert!(
            error.to_string().starts_with(expected),
            "{error} does not start with {expected}"
        );
    }
    assert_eq!(DOD_PID_INVALID, IdError::DodPidInsteadOfEdipi.to_string());
}

#[test]
fn replies_are_the_spec_samples_byte_for_byte() {
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    assert_eq!(
        text(load_error_body(400, MISSING_PID)),
        r#"{"data":["The required parameter \"pid\" is missing."],"status":400}"#
    );
    assert_eq!(
        text(error_body(400, MISSING_PID)),
        r#"{"data":{"error":{"code":400,"message":"The required parameter \"pid\" is missing."}},"status":400}"#
    );
    assert_eq!(
        text(error_body(404, &unsynced_message("9E7A;3"))),
        r#"{"data":{"error":{"code":404,"message":"pid 9E7A;3 is unsynced"}},"status":404}"#
    );
    assert_eq!(
        text(envelope(&clear_data("9E7A;3"), 200)),
        r#"{"data":{"code":200,"message":"pid: 9E7A;3 unsynced."},"status":200}"#
    );
    assert_eq!(not_found_message("9E7A;3"), "pid: 9E7A;3 not found.");
    assert_eq!(
        text(envelope(&ingest_data(2, 7, 1), 200)),
        r#"{"data":{"ignored":1,"items":2,"records":7},"status":200}"#
    );
    assert_eq!(
        text(envelope(&json!({"VISTA": {}, "allSites": false}), 200)),
        r#"{"data":{"VISTA":{},"allSites":false},"status":200}"#
    );
    assert!(malformed_pid_message("x;").starts_with("pid \"x;\" is not valid; accepted forms: site;dfn (9E7A;3)"));
    assert_eq!(
        invalid_flag_message("immediate", "yes"),
        "immediate \"yes\" is not valid: only true and false are accepted"
    );
}

#[test]
fn a_sync_request_names_the_action_the_job_and_the_pid() {
    let jpid = Jpid::parse("52833885-af7c-4899-90be-b3a6630b2369").unwrap();
    let pid = SourcePid::parse("9E7A;3").unwrap();
    let patient = PatientId::Source(pid.clone());
    let job = JobRecord::created(
        JobType::SourceSync(pid.source()),
        &jpid,
        &patient,
        Some("root-1"),
        1_467_798_004_123,
    );
    let data = sync_request_data(SYNC_REQUEST_LOAD, &job, &pid);
    let expected = json!({"action": "load", "jobId": job.job_id, "rootJobId": "root-1",
        "jpid": "52833885-af7c-4899-90be-b3a6630b2369", "pid": "9E7A;3", "requestedAt": 20160706094004_u64});
    assert_eq!(data, expected);
    assert_eq!(sync_request_data(SYNC_REQUEST_CLEAR, &job, &pid)["action"], "clear");
}
