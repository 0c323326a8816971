//! Sync jobs: a load creates an `enterprise-sync-request` job and one job per source; every change of
//! a job's state is a new record (so the history stays readable), and `jobStatus` shows the latest
//! record of each job type that is not completed. The serde form of [`JobRecord`] is the API's.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use super::ids::{random_uuid_v4, Jpid, PatientId, SiteCode};
use super::{Source, SyncError};

/// What a job does: the whole load, or the sync of one source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum JobType {
    /// `enterprise-sync-request`: the load itself, the root of the source jobs.
    EnterpriseSync,
    /// `vista-<SITE>-subscribe-request`, `jmeadows-sync-request` (DOD), `hdr-sync-request`,
    /// `vler-sync-request`.
    SourceSync(Source),
}

/// A job type name none of the known forms has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job type {0:?} is not known")]
pub struct UnknownJobType(pub String);

impl JobType {
    pub fn parse(name: &str) -> Result<JobType, UnknownJobType> {
        let source = match name {
            "enterprise-sync-request" => return Ok(JobType::EnterpriseSync),
            "jmeadows-sync-request" => Some(Source::Dod),
            "hdr-sync-request" => Some(Source::Hdr),
            "vler-sync-request" => Some(Source::Vler),
            _ => name
                .strip_prefix("vista-")
                .and_then(|rest| rest.strip_suffix("-subscribe-request"))
                .and_then(|site| SiteCode::parse(site).ok())
                .map(Source::Primary),
        };
        source
            .map(JobType::SourceSync)
            .ok_or_else(|| UnknownJobType(name.to_string()))
    }

    /// The source a source job syncs; `None` for the enterprise job.
    pub fn source(&self) -> Option<&Source> {
        match self {
            JobType::EnterpriseSync => None,
            JobType::SourceSync(source) => Some(source),
        }
    }
}

impl fmt::Display for JobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobType::EnterpriseSync => f.write_str("enterprise-sync-request"),
            JobType::SourceSync(Source::Primary(site)) => write!(f, "vista-{site}-subscribe-request"),
            JobType::SourceSync(Source::Dod) => f.write_str("jmeadows-sync-request"),
            JobType::SourceSync(Source::Hdr) => f.write_str("hdr-sync-request"),
            JobType::SourceSync(Source::Vler) => f.write_str("vler-sync-request"),
        }
    }
}

impl TryFrom<String> for JobType {
    type Error = UnknownJobType;
    fn try_from(name: String) -> Result<JobType, UnknownJobType> {
        JobType::parse(&name)
    }
}

impl From<JobType> for String {
    fn from(job_type: JobType) -> String {
        job_type.to_string()
    }
}

/// The state of a job; written as `status`, with `error:{type,message}` beside it for an error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum JobState {
    Created,
    Started,
    Completed,
    Error { error: SyncError },
}

impl JobState {
    /// Whether the job is still running (created or started); a completed or failed job is over.
    pub fn is_open(&self) -> bool {
        matches!(self, JobState::Created | JobState::Started)
    }
}

/// The patient identifier a job was started for, as `{type, value}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PatientIdentifier {
    /// `pid`, `icn` or `jpid` (see [`PatientId::kind`]).
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

impl PatientIdentifier {
    pub fn of(pid: &PatientId) -> PatientIdentifier {
        PatientIdentifier {
            kind: pid.kind().to_string(),
            value: pid.to_string(),
        }
    }
}

/// One record of a job: its state at `timestamp`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    pub job_id: String,
    /// The enterprise job's id (the enterprise job's own id for itself), grouping one load's jobs.
    pub root_job_id: String,
    pub jpid: Jpid,
    pub patient_identifier: PatientIdentifier,
    #[serde(flatten)]
    pub state: JobState,
    /// Milliseconds since the Unix epoch, written as a string as the API does.
    #[serde(with = "millis_as_text")]
    pub timestamp: u64,
    #[serde(rename = "type")]
    pub job_type: JobType,
}

impl JobRecord {
    /// The first record of a new job, in state `created`, with a new job id. Without a root the
    /// job is a root itself (the enterprise job).
    pub fn created(
        job_type: JobType,
        jpid: &Jpid,
        pid: &PatientId,
        root_job_id: Option<&str>,
        timestamp: u64,
    ) -> JobRecord {
        let job_id = random_uuid_v4();
        JobRecord {
            root_job_id: root_job_id.map_or_else(|| job_id.clone(), str::to_string),
            job_id,
            jpid: jpid.clone(),
            patient_identifier: PatientIdentifier::of(pid),
            state: JobState::Created,
            timestamp,
            job_type,
        }
    }

    /// The record of the same job moved to `state` at `timestamp`.
    pub fn moved_to(&self, state: JobState, timestamp: u64) -> JobRecord {
        JobRecord {
            state,
            timestamp,
            ..self.clone()
        }
    }
}

/// The `jobStatus` list: the latest record of each job type, kept when it is not completed, in
/// job type order (the enterprise job first). Of records with the same timestamp the later one in
/// `records` counts, since records are kept in the order they were written.
pub fn job_status(records: &[JobRecord]) -> Vec<JobRecord> {
    let mut latest: BTreeMap<&JobType, &JobRecord> = BTreeMap::new();
    for record in records {
        let newer = latest
            .get(&record.job_type)
            .is_none_or(|kept| kept.timestamp <= record.timestamp);
        if newer {
            latest.insert(&record.job_type, record);
        }
    }
    latest
        .into_values()
        .filter(|record| record.state != JobState::Completed)
        .cloned()
        .collect()
}

/// The current time in milliseconds since the Unix epoch, the unit of job timestamps.
pub fn unix_millis_now() -> u64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

mod millis_as_text {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(millis: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(millis)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| D::Error::custom(format!("timestamp {text:?} is not milliseconds since the epoch")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(job_type: &str, state: JobState, timestamp: u64) -> JobRecord {
        let jpid = Jpid::parse("52833885-af7c-4899-90be-b3a6630b2369").unwrap();
        let pid = PatientId::parse("9E7A;3").unwrap();
        JobRecord::created(JobType::parse(job_type).unwrap(), &jpid, &pid, Some("root"), 0).moved_to(state, timestamp)
    }

    fn failed() -> JobState {
        JobState::Error {
            error: SyncError::new("timeout", "no answer"),
        }
    }

    #[test]
    fn job_type_names_round_trip() {
        let names = [
            "enterprise-sync-request",
            "vista-9E7A-subscribe-request",
            "jmeadows-sync-request",
            "hdr-sync-request",
            "vler-sync-request",
        ];
        for name in names {
            assert_eq!(JobType::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(
            JobType::parse("jmeadows-sync-request").unwrap().source(),
            Some(&Source::Dod)
        );
        for unknown in [
            "vista-9E-subscribe-request",
            "vista-DOD-subscribe-request",
            "dod-sync-request",
        ] {
            assert_eq!(JobType::parse(unknown), Err(UnknownJobType(unknown.to_string())));
        }
    }

    #[test]
    fn a_record_has_the_api_shape_and_reads_back() {
        let record = job("vista-9E7A-subscribe-request", failed(), 1467800000000);
        let expected = json!({
            "jobId": record.job_id, "rootJobId": "root",
            "jpid": "52833885-af7c-4899-90be-b3a6630b2369",
            "patientIdentifier": {"type": "pid", "value": "9E7A;3"},
            "status": "error", "error": {"type": "timeout", "message": "no answer"},
            "timestamp": "1467800000000", "type": "vista-9E7A-subscribe-request"
        });
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json, expected);
        assert_eq!(serde_json::from_value::<JobRecord>(json).unwrap(), record);
        let started = serde_json::to_value(record.moved_to(JobState::Started, 1)).unwrap();
        assert_eq!(started["status"], "started");
        assert!(started.get("error").is_none());
    }

    #[test]
    fn a_root_job_is_its_own_root_and_its_moves_keep_the_ids() {
        let jpid = Jpid::generate();
        let pid = PatientId::parse("10108V420871").unwrap();
        let root = JobRecord::created(JobType::EnterpriseSync, &jpid, &pid, None, 5);
        assert_eq!(root.root_job_id, root.job_id);
        assert_eq!(
            root.patient_identifier,
            PatientIdentifier {
                kind: "icn".into(),
                value: "10108V420871".into()
            }
        );
        let child = JobRecord::created(JobType::SourceSync(Source::Hdr), &jpid, &pid, Some(&root.job_id), 6);
        assert_eq!(child.root_job_id, root.job_id);
        assert_ne!(child.job_id, root.job_id);
        let done = child.moved_to(JobState::Completed, 7);
        assert_eq!((done.job_id.as_str(), done.timestamp), (child.job_id.as_str(), 7));
    }

    /// (case, records, the (type, status) pairs listed)
    type JobStatusCase = (&'static str, Vec<JobRecord>, &'static [(&'static str, &'static str)]);

    #[test]
    fn job_status_lists_the_latest_record_of_each_type_not_completed() {
        let cases: [JobStatusCase; 6] = [
            ("no jobs", vec![], &[]),
            (
                "created then started",
                vec![
                    job("hdr-sync-request", JobState::Created, 1),
                    job("hdr-sync-request", JobState::Started, 2),
                ],
                &[("hdr-sync-request", "started")],
            ),
            (
                "completed hides it",
                vec![
                    job("hdr-sync-request", JobState::Started, 1),
                    job("hdr-sync-request", JobState::Completed, 2),
                ],
                &[],
            ),
            (
                "an older record written later does not count",
                vec![
                    job("hdr-sync-request", JobState::Completed, 5),
                    job("hdr-sync-request", JobState::Started, 4),
                ],
                &[],
            ),
            (
                "errors stay listed",
                vec![
                    job("vler-sync-request", failed(), 3),
                    job("enterprise-sync-request", JobState::Started, 1),
                ],
                &[("enterprise-sync-request", "started"), ("vler-sync-request", "error")],
            ),
            (
                "a new load after a completed one",
                vec![
                    job("vista-9E7A-subscribe-request", JobState::Completed, 1),
                    job("vista-9E7A-subscribe-request", JobState::Created, 9),
                    job("vista-C877-subscribe-request", JobState::Completed, 9),
                ],
                &[("vista-9E7A-subscribe-request", "created")],
            ),
        ];
        for (name, records, expected) in cases {
            let listed: Vec<(String, String)> = job_status(&records)
                .iter()
                .map(|record| {
                    let json = serde_json::to_value(record).unwrap();
                    (
                        record.job_type.to_string(),
                        json["status"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let expected: Vec<(String, String)> =
                expected.iter().map(|(t, s)| (t.to_string(), s.to_string())).collect();
            assert_eq!(listed, expected, "{name}");
        }
    }
}
