//! Patient sync ("Group Sync") on the wire: the ingestion API satellites answer a
//! `patient_sync_request` with, the reply of a secondary source, the demographics-load request,
//! and every reply envelope and error text of the API.
//!
//! Requests are decoded by hand from `serde_json::Value` rather than derived, so that a refusal
//! names the item and the field (`item 2: records[0].stampTime: …`): a satellite posting a batch
//! needs to know which record to fix. Ids and stamp times are parsed by `patient/`, never here.
//! The status views render themselves (`patient::status`); this module only wraps them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::patient::ids::{Edipi, Icn, IdError, PatientId, SourcePid};
use crate::patient::jobs::JobRecord;
use crate::patient::metastamp::{DomainStamps, Metastamp};
use crate::patient::stamp::StampTime;
use crate::patient::SyncError;

mod fields;

use fields::Fields;

// The API's own texts, word for word: clients compare them.

/// 400 when `pid` is missing (load puts it in a list, the other endpoints in `error`).
pub const MISSING_PID: &str = "The required parameter \"pid\" is missing.";
/// 404 from `/load` when no source can serve the pid.
pub const NOT_YET_ACCESSIBLE: &str = "This patient's record is not yet accessible. Please try again in a few minutes. If it is still not accessible, please contact your HIMS representative and have the patient loaded into your local VistA.";
/// 503 from load, clear and demographics-load while the caller's site is still initialising.
pub const OPERATIONAL_DATA_IN_PROGRESS: &str = "Operational data has not been fully synchronized for this site.";
/// 500 for a sync error or a wait past its limit; the cause is logged, never sent.
pub const INTERNAL_ERROR: &str = "There was an error processing your request. The error has been logged.";
/// 400 from demographics-load for a `DOD;…` edipi or pid.
pub const DOD_PID_INVALID: &str = "A dod pid is invalid, please use an edipi or icn.";

/// 404 from status, status-detail and data-status for a patient the primary does not know.
pub fn unsynced_message(pid: &str) -> String {
    format!("pid {pid} is unsynced")
}

/// 404 from clear for a patient the primary does not know.
pub fn not_found_message(pid: &str) -> String {
    format!("pid: {pid} not found.")
}

/// The message of a successful clear.
pub fn cleared_message(pid: &str) -> String {
    format!("pid: {pid} unsynced.")
}

/// 400 for a pid in none of the accepted forms: names the value and lists the forms.
pub fn malformed_pid_message(value: &str) -> String {
    IdError::Pid {
        value: value.to_string(),
    }
    .to_string()
}

/// 400 for `immediate` (or another flag) that is not exactly `true` or `false`.
pub fn invalid_flag_message(name: &str, value: &str) -> String {
    format!("{name} {value:?} is not valid: only true and false are accepted")
}

/// 404 from operational-status for a site that has none yet (our wording: the spec gives none).
pub fn no_operational_status_message(site: &str) -> String {
    format!("site {site} has no operational status yet")
}

/// A request body that cannot be used, with the message the client is shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatientWireError {
    /// The body is larger than the endpoint's limit.
    #[error("{0}")]
    TooLarge(String),
    /// The body is empty, is not JSON of the expected shape, or holds a value that is not valid.
    #[error("{0}")]
    BadRequest(String),
}

/// What one source sent for one patient: its metastamp and records, or its error.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestItem {
    /// The patient's id at the source that answers.
    pub pid: SourcePid,
    /// Other ids of the same person the source knows (its ICN, EDIPI, …), to associate.
    pub identifiers: Vec<PatientId>,
    pub demographics: Option<Map<String, Value>>,
    pub metastamp: Option<Metastamp>,
    pub records: Vec<IngestRecord>,
    /// The source could not serve the patient; its job ends in `error`.
    pub error: Option<SyncError>,
}

/// One record of a patient, as stored: `data` is kept whole.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestRecord {
    pub uid: String,
    pub domain: String,
    pub stamp_time: StampTime,
    pub data: Value,
}

/// The ingestion API's body: a JSON array of items, so that a satellite can batch patients.
pub fn decode_ingest(body: &[u8], max_bytes: usize) -> Result<Vec<IngestItem>, PatientWireError> {
    if body.len() > max_bytes {
        return Err(PatientWireError::TooLarge(format!(
            "the body is {} bytes, more than the limit of {max_bytes} bytes",
            body.len()
        )));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("the body is empty: send a JSON array of ingest items"));
    }
    let values: Vec<Value> = serde_json::from_slice(body)
        .map_err(|e| bad(&format!("the body must be a JSON array of ingest items: {e}")))?;
    if values.is_empty() {
        return Err(bad("the body holds no ingest item"));
    }
    let mut items = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        items.push(decode_item(value, &format!("item {index}"))?);
    }
    Ok(items)
}

/// A secondary source's reply: one item, for the pid the primary asked about.
pub fn decode_source_reply(body: &[u8], expected: &SourcePid) -> Result<IngestItem, PatientWireError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("the reply is empty"));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| bad(&format!("the reply is not JSON: {e}")))?;
    let item = decode_item(value, "the reply")?;
    if &item.pid != expected {
        return Err(bad(&format!(
            "the reply: pid {} is not the pid asked for, {expected}",
            item.pid
        )));
    }
    Ok(item)
}

/// The demographics-load request: the patient (by EDIPI or ICN) and its demographics.
#[derive(Debug, Clone, PartialEq)]
pub struct DemographicsLoad {
    /// `DOD;<edipi>` for an EDIPI, the ICN itself for an ICN.
    pub patient: PatientId,
    /// As sent, except that `dob` is renamed `birthDate`, the name the primary stores.
    pub demographics: Map<String, Value>,
}

/// `{"edipi":"4325678","demographics":{…}}` or `{"icn":"10108V420871","demographics":{…}}`. A
/// `pid` holding an ICN is taken as the ICN; any `DOD;…` value gets the API's own message, since
/// clients confuse the DOD pid with the EDIPI. Both an edipi and an icn is refused: the request
/// would be about two patients if they disagreed.
pub fn decode_demographics_load(body: &[u8]) -> Result<DemographicsLoad, PatientWireError> {
    let usage = "the body must be a JSON object with \"edipi\" or \"icn\" and \"demographics\"";
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad(&format!("the body is empty: {usage}")));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| bad(&format!("{usage}: {e}")))?;
    let mut fields = Fields::of(value, "the body", "")?;
    let (edipi, icn, pid) = (
        fields.optional_string("edipi")?,
        fields.optional_string("icn")?,
        fields.optional_string("pid")?,
    );
    for text in [&edipi, &icn, &pid].into_iter().flatten() {
        if text.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("DOD;")) {
            return Err(bad(DOD_PID_INVALID));
        }
    }
    // A pid is only taken in its ICN form: the other forms name a patient at one source.
    let icn = match (icn, pid) {
        (None, Some(pid)) if Icn::parse(&pid).is_err() => {
            return Err(bad(&format!(
                "pid {pid:?} cannot be loaded with demographics: use an edipi or an icn"
            )))
        }
        (icn, pid) => icn.or(pid),
    };
    let patient = match (edipi, icn) {
        (Some(_), Some(_)) => return Err(bad("give an edipi or an icn, not both")),
        (None, None) => return Err(bad(&format!("an edipi or an icn is required: {usage}"))),
        (Some(edipi), None) => PatientId::Source(Edipi::parse(&edipi).map_err(id_error)?.dod_pid()),
        (None, Some(icn)) => PatientId::Icn(Icn::parse(&icn).map_err(id_error)?),
    };
    let Some(mut demographics) = fields.optional_object("demographics")? else {
        return Err(bad("demographics is missing: it must be an object"));
    };
    if !demographics.contains_key("birthDate") {
        if let Some(dob) = demographics.remove("dob") {
            demographics.insert("birthDate".to_string(), dob);
        }
    }
    Ok(DemographicsLoad { patient, demographics })
}

/// `{"data":…,"status":…}`, the envelope of every reply.
pub fn envelope<T: Serialize + ?Sized>(data: &T, status: u16) -> Vec<u8> {
    let mut out = b"{\"data\":".to_vec();
    serde_json::to_writer(&mut out, data).expect("the API's data serializes to JSON");
    out.extend_from_slice(format!(",\"status\":{status}}}").as_bytes());
    out
}

/// `{"data":{"error":{"code":…,"message":…}},"status":…}`, the error shape of every endpoint but
/// load's missing pid.
pub fn error_body(status: u16, message: &str) -> Vec<u8> {
    envelope(&json!({"error": {"code": status, "message": message}}), status)
}

/// `{"data":["…"],"status":…}`: load's errors list their messages.
pub fn load_error_body(status: u16, message: &str) -> Vec<u8> {
    envelope(&json!([message]), status)
}

/// The `data` of `/clear`'s 200.
pub fn clear_data(pid: &str) -> Value {
    json!({"code": 200, "message": cleared_message(pid)})
}

/// The `data` of the ingestion API's 200: items applied, records stored, and items ignored
/// (for patients the primary does not sync: never loaded, or cleared).
pub fn ingest_data(items: usize, records: usize, ignored: usize) -> Value {
    json!({"items": items, "records": records, "ignored": ignored})
}

/// The table name of the sync record a satellite receives to load or clear a patient.
pub const SYNC_REQUEST_TABLE: &str = "patient_sync_request";
/// The actions of a `patient_sync_request`.
pub const SYNC_REQUEST_LOAD: &str = "load";
pub const SYNC_REQUEST_CLEAR: &str = "clear";

/// The `data` of a `patient_sync_request` record in a satellite's queue: what to do, for which of
/// its patients, and the job to name when answering. `requestedAt` is the job's time as a stamp
/// time, the form satellites already read.
pub fn sync_request_data(action: &str, job: &JobRecord, pid: &SourcePid) -> Value {
    debug_assert!(
        action == SYNC_REQUEST_LOAD || action == SYNC_REQUEST_CLEAR,
        "action {action:?}"
    );
    json!({
        "action": action,
        "jobId": job.job_id,
        "rootJobId": job.root_job_id,
        "jpid": job.jpid,
        "pid": pid.to_string(),
        "requestedAt": StampTime::from_unix_seconds(job.timestamp / 1000),
    })
}

fn bad(message: &str) -> PatientWireError {
    PatientWireError::BadRequest(message.to_string())
}

fn id_error(error: IdError) -> PatientWireError {
    bad(&error.to_string())
}

/// One item of the ingestion API or a source's reply; `item` names it in messages.
fn decode_item(value: Value, item: &str) -> Result<IngestItem, PatientWireError> {
    let mut fields = Fields::of(value, item, "")?;
    let pid = fields.required_string("pid")?;
    let pid = SourcePid::parse(&pid).map_err(|e| fields.invalid("pid", e))?;
    let mut identifiers = Vec::new();
    for (index, value) in fields.optional_array("identifiers")?.into_iter().enumerate() {
        let field = format!("identifiers[{index}]");
        let text = value.as_str().ok_or_else(|| fields.wrong_type(&field, "a string"))?;
        identifiers.push(PatientId::parse(text).map_err(|e| fields.invalid(&field, e))?);
    }
    let demographics = fields.optional_object("demographics")?;
    let metastamp = match fields.take("metastamp") {
        Some(value) => Some(decode_metastamp(Fields::of(value, item, "metastamp")?)?),
        None => None,
    };
    let mut records = Vec::new();
    for (index, value) in fields.optional_array("records")?.into_iter().enumerate() {
        let record = decode_record(Fields::of(value, item, &format!("records[{index}]"))?)?;
        if let Some(metastamp) = &metastamp {
            check_listed(&record, metastamp, item, index)?;
        }
        records.push(record);
    }
    let error = match fields.take("error") {
        Some(value) => {
            let mut error = Fields::of(value, item, "error")?;
            Some(SyncError {
                kind: error.required_string("type")?,
                message: error.required_string("message")?,
            })
        }
        None => None,
    };
    Ok(IngestItem {
        pid,
        identifiers,
        demographics,
        metastamp,
        records,
        error,
    })
}

fn decode_metastamp(mut fields: Fields<'_>) -> Result<Metastamp, PatientWireError> {
    let stamp_time = fields.required_stamp("stampTime")?;
    let mut domains = BTreeMap::new();
    for (name, value) in fields.optional_object("domains")?.unwrap_or_default() {
        let mut domain = fields.nested(value, &format!("domains.{name}"))?;
        let stamp_time = domain.optional_stamp("stampTime")?;
        let mut events = BTreeMap::new();
        for (uid, stamp) in domain.optional_object("events")?.unwrap_or_default() {
            let stamp = StampTime::from_json(&stamp).map_err(|e| domain.invalid(&format!("events.{uid}"), e))?;
            events.insert(uid, stamp);
        }
        domains.insert(name, DomainStamps { stamp_time, events });
    }
    Ok(Metastamp { stamp_time, domains })
}

fn decode_record(mut fields: Fields<'_>) -> Result<IngestRecord, PatientWireError> {
    Ok(IngestRecord {
        uid: fields.required_string("uid")?,
        domain: fields.required_string("domain")?,
        stamp_time: fields.required_stamp("stampTime")?,
        data: Value::Object(fields.optional_object("data")?.ok_or_else(|| fields.missing("data"))?),
    })
}

/// With a metastamp, every record must be one of its events: a record it does not list could
/// never count as stored, and is most likely a uid or domain typed wrong.
fn check_listed(
    record: &IngestRecord,
    metastamp: &Metastamp,
    item: &str,
    index: usize,
) -> Result<(), PatientWireError> {
    let Some(domain) = metastamp.domains.get(&record.domain) else {
        return Err(bad(&format!(
            "{item}: records[{index}].domain {:?} is not a domain of the item's metastamp",
            record.domain
        )));
    };
    if !domain.events.contains_key(&record.uid) {
        return Err(bad(&format!(
            "{item}: records[{index}].uid {:?} is not an event of domain {:?} in the item's metastamp",
            record.uid, record.domain
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
