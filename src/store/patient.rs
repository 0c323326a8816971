//! Patient sync's storage: identifiers and JPIDs (`patient_ids`), and everything kept per patient
//! (`patient_data`): metastamp state per source, job records, demographics, stored records.
//!
//! Every `patient_data` key starts with the JPID, so clearing a patient is one range delete and
//! can touch nothing else. Values are the patient model's own serde form (JSON), as the model
//! defines it; this file only decides where each one lives (keys in [`keys`]).
//!
//! Patient sync reads here directly, and prepares its changes as [`PatientWrites`], which the
//! sync writer commits (it holds the only write right).

use serde_json::{Map, Value};

use super::{cf, corrupt, keys, Batch, Result, Storage};
use crate::patient::ids::{Jpid, PatientId, SourcePid};
use crate::patient::jobs::JobRecord;
use crate::patient::metastamp::SourceSyncState;
use crate::patient::stamp::StampTime;

/// One record a source sent for a patient, as stored: who sent it, the stamp time it carries (an
/// event counts as stored only when this equals the event's latest stamp), and its data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredPatientRecord {
    /// The code of the source that sent it (`9E7A`, `DOD`, `HDR`, `VLER`).
    pub source: String,
    pub stamp: StampTime,
    pub data: Value,
}

impl Storage {
    /// The JPID an identifier belongs to, if any.
    pub fn patient_jpid(&self, id: &PatientId) -> Result<Option<Jpid>> {
        let Some(value) = self
            .db
            .get_pinned_cf(self.cf(cf::PATIENT_IDS), keys::patient_id_key(id))?
        else {
            return Ok(None);
        };
        let jpid = std::str::from_utf8(&value)
            .ok()
            .and_then(|text| Jpid::parse(text).ok())
            .ok_or_else(|| corrupt(cf::PATIENT_IDS, "jpid"))?;
        Ok(Some(jpid))
    }

    /// Every identifier associated with `jpid` (in key order: the identifiers' text order).
    pub fn patient_identifiers(&self, jpid: &Jpid) -> Result<Vec<PatientId>> {
        let mut ids = Vec::new();
        self.scan_prefix(cf::PATIENT_IDS, &keys::patient_jpid_ids_prefix(jpid), |key, _| {
            ids.push(keys::parse_patient_jpid_id_key(key).ok_or_else(|| corrupt(cf::PATIENT_IDS, "identifier key"))?);
            Ok(())
        })?;
        Ok(ids)
    }

    /// The metastamp state of every source of the patient (in source pid text order).
    pub fn patient_sources(&self, jpid: &Jpid) -> Result<Vec<SourceSyncState>> {
        let mut sources: Vec<SourceSyncState> = Vec::new();
        self.scan_prefix(cf::PATIENT_DATA, &keys::patient_sources_prefix(jpid), |_, value| {
            sources.push(decode_json(value, "source state")?);
            Ok(())
        })?;
        Ok(sources)
    }

    /// The metastamp state of one source of the patient.
    #[cfg(test)]
    pub fn patient_source(&self, jpid: &Jpid, pid: &SourcePid) -> Result<Option<SourceSyncState>> {
        self.patient_value(keys::patient_source_key(jpid, pid), "source state")
    }

    /// The jobs in flight of every patient (their latest records, in key order: by JPID), at most
    /// `limit` of them, and how many there are.
    pub fn open_patient_jobs(&self, limit: usize) -> Result<(usize, Vec<JobRecord>)> {
        let (mut total, mut jobs) = (0, Vec::new());
        self.scan_prefix(cf::PATIENT_IDS, &[keys::PATIENT_OPEN_JOB], |_, value| {
            total += 1;
            if jobs.len() < limit {
                jobs.push(decode_json(value, "open job record")?);
            }
            Ok(())
        })?;
        Ok((total, jobs))
    }

    /// Calls `visit` with the latest record of every job in flight, keeping none: to count them
    /// by state however many there are.
    pub fn visit_open_patient_jobs(&self, mut visit: impl FnMut(JobRecord)) -> Result<()> {
        self.scan_prefix(cf::PATIENT_IDS, &[keys::PATIENT_OPEN_JOB], |_, value| {
            visit(decode_json(value, "open job record")?);
            Ok(())
        })
    }

    /// Every job record of the patient, in the order they were written (see
    /// [`PatientWrites::put_patient_job`]).
    pub fn patient_jobs(&self, jpid: &Jpid) -> Result<Vec<JobRecord>> {
        let mut jobs: Vec<JobRecord> = Vec::new();
        self.scan_prefix(cf::PATIENT_DATA, &keys::patient_jobs_prefix(jpid), |_, value| {
            jobs.push(decode_json(value, "job record")?);
            Ok(())
        })?;
        Ok(jobs)
    }

    pub fn patient_demographics(&self, jpid: &Jpid) -> Result<Option<Map<String, Value>>> {
        self.patient_value(keys::patient_demographics_key(jpid), "demographics")
    }

    /// The record stored for `uid` in `domain` from the source where the patient is `pid`.
    #[cfg(test)]
    pub fn patient_record(
        &self,
        jpid: &Jpid,
        pid: &SourcePid,
        domain: &str,
        uid: &str,
    ) -> Result<Option<StoredPatientRecord>> {
        self.patient_value(keys::patient_record_key(jpid, pid, domain, uid), "record")
    }

    /// How many records are stored for the patient, from every source (a scan of the keys).
    #[cfg(test)]
    pub fn patient_record_count(&self, jpid: &Jpid) -> Result<usize> {
        let mut count = 0;
        self.scan_prefix(cf::PATIENT_DATA, &keys::patient_records_prefix(jpid), |_, _| {
            count += 1;
            Ok(())
        })?;
        Ok(count)
    }

    fn patient_value<T: serde::de::DeserializeOwned>(&self, key: Vec<u8>, what: &str) -> Result<Option<T>> {
        match self.db.get_pinned_cf(self.cf(cf::PATIENT_DATA), key)? {
            Some(value) => Ok(Some(decode_json(&value, what)?)),
            None => Ok(None),
        }
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(value: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(value).map_err(|error| corrupt(cf::PATIENT_DATA, &format!("{what}: {error}")))
}

fn encode_json(value: &impl serde::Serialize) -> Vec<u8> {
    // The model's types and JSON values serialise infallibly (string keys, no custom errors).
    serde_json::to_vec(value).expect("patient values serialise")
}

/// Patient sync's changes to its families, prepared on its own thread and committed by the sync
/// writer in its next group (see [`super::SyncBatch::put_patient_writes`]). Serialisable: a
/// cluster's writer sends them to every replica in its log.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct PatientWrites {
    changes: Vec<Change>,
    /// The patient generation the changes were decided against, when the writer must check it
    /// (see [`super::LogReads::patient_generation`]).
    decided_at: Option<u64>,
    /// The job records put, for the deciding instance's metrics (they travel in `changes`).
    #[serde(skip)]
    jobs: Vec<JobRecord>,
}

#[derive(Debug, Clone)]
enum Change {
    Put(&'static str, Vec<u8>, Vec<u8>),
    Delete(&'static str, Vec<u8>),
    /// Every key of the family that starts with the prefix.
    DeletePrefix(&'static str, Vec<u8>),
}

/// A [`Change`] as serialised: its family named by a number (a `&'static str` cannot be
/// deserialised), and only patient sync's own families accepted back.
#[derive(serde::Serialize, serde::Deserialize)]
enum StoredChange {
    Put(u8, Vec<u8>, Vec<u8>),
    Delete(u8, Vec<u8>),
    DeletePrefix(u8, Vec<u8>),
}

const PATIENT_FAMILIES: [&str; 2] = [cf::PATIENT_IDS, cf::PATIENT_DATA];

fn family_number(family: &'static str) -> u8 {
    PATIENT_FAMILIES
        .iter()
        .position(|f| *f == family)
        .expect("patient writes touch patient families only") as u8
}

fn family_named(number: u8) -> std::result::Result<&'static str, String> {
    PATIENT_FAMILIES
        .get(usize::from(number))
        .copied()
        .ok_or_else(|| format!("no patient family {number}"))
}

impl From<Change> for StoredChange {
    fn from(change: Change) -> StoredChange {
        match change {
            Change::Put(family, key, value) => StoredChange::Put(family_number(family), key, value),
            Change::Delete(family, key) => StoredChange::Delete(family_number(family), key),
            Change::DeletePrefix(family, prefix) => StoredChange::DeletePrefix(family_number(family), prefix),
        }
    }
}

impl serde::Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        StoredChange::from(self.clone()).serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Change, D::Error> {
        Change::try_from(StoredChange::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<StoredChange> for Change {
    type Error = String;

    fn try_from(change: StoredChange) -> std::result::Result<Change, String> {
        Ok(match change {
            StoredChange::Put(family, key, value) => Change::Put(family_named(family)?, key, value),
            StoredChange::Delete(family, key) => Change::Delete(family_named(family)?, key),
            StoredChange::DeletePrefix(family, prefix) => Change::DeletePrefix(family_named(family)?, prefix),
        })
    }
}

impl PatientWrites {
    pub fn new() -> PatientWrites {
        PatientWrites::default()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Says that these changes were decided from patient state read at `generation`: the writer
    /// refuses them if another patient change was applied since.
    pub fn decided_at_generation(&mut self, generation: u64) {
        self.decided_at = Some(generation);
    }

    pub fn decided_at(&self) -> Option<u64> {
        self.decided_at
    }

    /// The job records these changes put, in order.
    pub fn jobs(&self) -> &[JobRecord] {
        &self.jobs
    }

    fn put(&mut self, family: &'static str, key: Vec<u8>, value: impl Into<Vec<u8>>) {
        self.changes.push(Change::Put(family, key, value.into()));
    }

    fn delete(&mut self, family: &'static str, key: Vec<u8>) {
        self.changes.push(Change::Delete(family, key));
    }

    fn delete_prefix(&mut self, family: &'static str, prefix: Vec<u8>) {
        self.changes.push(Change::DeletePrefix(family, prefix));
    }

    /// Associates `id` with `jpid`: both the identifier → JPID entry and the JPID's own list of
    /// identifiers, which clear reads. Refusing an identifier that belongs to another JPID is the
    /// caller's check (a conflict), made before this write.
    pub fn put_patient_identifier(&mut self, id: &PatientId, jpid: &Jpid) {
        self.put(cf::PATIENT_IDS, keys::patient_id_key(id), jpid.as_str());
        self.put(cf::PATIENT_IDS, keys::patient_jpid_id_key(jpid, id), Vec::new());
    }

    pub fn put_patient_source(&mut self, jpid: &Jpid, state: &SourceSyncState) {
        self.put(
            cf::PATIENT_DATA,
            keys::patient_source_key(jpid, state.pid()),
            encode_json(state),
        );
    }

    /// Appends a job record. `at_micros` (microseconds since the epoch) orders the records: the
    /// caller gives each record of one job a later time than the one before, since two records of
    /// the same job at the same time would share a key.
    /// The job's entry among the jobs in flight follows its latest record: kept while it is open,
    /// deleted by the record that closes it.
    pub fn put_patient_job(&mut self, jpid: &Jpid, job: &JobRecord, at_micros: u64) {
        let record = encode_json(job);
        let open = keys::patient_open_job_key(jpid, &job.job_id);
        if job.state.is_open() {
            self.put(cf::PATIENT_IDS, open, record.clone());
        } else {
            self.delete(cf::PATIENT_IDS, open);
        }
        self.put(
            cf::PATIENT_DATA,
            keys::patient_job_key(jpid, at_micros, &job.job_id),
            record,
        );
        self.jobs.push(job.clone());
    }

    pub fn put_patient_record(
        &mut self,
        jpid: &Jpid,
        pid: &SourcePid,
        domain: &str,
        uid: &str,
        record: &StoredPatientRecord,
    ) {
        self.put(
            cf::PATIENT_DATA,
            keys::patient_record_key(jpid, pid, domain, uid),
            encode_json(record),
        );
    }

    pub fn put_patient_demographics(&mut self, jpid: &Jpid, demographics: &Map<String, Value>) {
        self.put(
            cf::PATIENT_DATA,
            keys::patient_demographics_key(jpid),
            encode_json(demographics),
        );
    }

    /// Deletes everything kept for `jpid`: the mappings of `identifiers` (pass
    /// [`Storage::patient_identifiers`] of the JPID), its identifier list, and every
    /// `patient_data` key under it (one range delete). Touches no other family.
    pub fn clear_patient(&mut self, jpid: &Jpid, identifiers: &[PatientId]) {
        for id in identifiers {
            self.delete(cf::PATIENT_IDS, keys::patient_id_key(id));
        }
        self.delete_prefix(cf::PATIENT_IDS, keys::patient_jpid_ids_prefix(jpid));
        self.delete_prefix(cf::PATIENT_IDS, keys::patient_open_jobs_prefix(jpid));
        self.delete_prefix(cf::PATIENT_DATA, keys::patient_data_prefix(jpid));
    }
}

impl Batch<'_> {
    /// Adds patient sync's changes to this batch (a prefix deleted as one range delete).
    pub(super) fn put_patient_changes(&mut self, writes: PatientWrites) {
        for change in writes.changes {
            match change {
                Change::Put(family, key, value) => self.put(family, key, value),
                Change::Delete(family, key) => self.delete(family, key),
                Change::DeletePrefix(family, prefix) => {
                    let end = keys::prefix_end(&prefix).expect("patient prefixes are ASCII, so they have an end");
                    self.inner
                        .delete_range_cf(self.storage.cf(family), prefix.as_slice(), end.as_slice());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
