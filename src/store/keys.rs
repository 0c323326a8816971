//! Every key satsync writes, built and parsed here and nowhere else.
//!
//! Integers are big-endian so that byte order is numeric order; strings that share a prefix with
//! others are ended by a 0 byte so that a shorter string sorts before its extensions. mSupply ids
//! inside keys are in key form (upper case, see `domain::ids::key_form`); patient identifiers are
//! in the one spelling their type keeps (`patient::ids`: site codes upper case, JPIDs lower case).

use crate::domain::ids::{key_form, SiteId};
use crate::patient::ids::{Jpid, PatientId, SourcePid};

/// `meta`: the storage format version, checked on open.
pub const META_FORMAT_VERSION: &[u8] = b"format_version";
/// `meta`: the next sequence number to hand out (never reused, even when its entry is gone).
pub const META_NEXT_SEQ: &[u8] = b"next_seq";
/// `meta`: in a cluster, the position in the replicated log of the last group this database
/// applied (written in the same batch as the group, so a restart resumes exactly after it).
pub const META_LOG_POSITION: &[u8] = b"log_position";
/// `meta`: how many of patient sync's changes this database applied (see
/// [`super::LogReads::patient_generation`]).
pub const META_PATIENT_GENERATION: &[u8] = b"patient_generation";
/// `meta`: log entries superseded by the last write, deleted by the next one (see ARCHITECTURE.md).
pub const META_GC_PENDING: &[u8] = b"gc_pending";

/// `meta`: present once `lookups` holds an entry for every stored record, holding which
/// references it indexes (a database indexed for another list, or before lookups existed, is
/// indexed again when the engine opens it).
pub const META_LOOKUPS_BUILT: &[u8] = b"lookups_built";

/// `meta`: the skip log, one entry per record an operator removed from a satellite's queue:
/// `skipped/`, site, time in microseconds since the epoch, so a site's skips list in order.
pub fn skip_key(site: SiteId, at_micros: u64) -> Vec<u8> {
    let mut key = skip_prefix(site);
    key.extend_from_slice(&at_micros.to_be_bytes());
    key
}

pub fn skip_prefix(site: SiteId) -> Vec<u8> {
    let mut key = b"skipped/".to_vec();
    key.extend_from_slice(&site.0.to_be_bytes());
    key
}

/// `meta`: a site's health as last persisted (`sync/health.rs`): `health/`, site.
pub fn site_health_key(site: SiteId) -> Vec<u8> {
    let mut key = site_health_prefix();
    key.extend_from_slice(&site.0.to_be_bytes());
    key
}

pub fn site_health_prefix() -> Vec<u8> {
    b"health/".to_vec()
}

pub fn parse_site_health_key(key: &[u8]) -> Option<SiteId> {
    let site = key.strip_prefix(site_health_prefix().as_slice())?;
    Some(SiteId(u32::from_be_bytes(site.try_into().ok()?)))
}

/// `lookups`: (table, the parent id a record refers to, the record's id) → (). A prefix scan on
/// (table, parent) lists the records of that table that refer to the parent.
pub fn lookup_key(table: &str, parent_id: &str, record_id: &str) -> Vec<u8> {
    let mut key = lookup_prefix(table, parent_id);
    key.extend_from_slice(key_form(record_id).as_bytes());
    key
}

pub fn lookup_prefix(table: &str, parent_id: &str) -> Vec<u8> {
    let parent = key_form(parent_id);
    let mut key = Vec::with_capacity(table.len() + parent.len() + 2);
    key.extend_from_slice(table.as_bytes());
    key.push(0);
    key.extend_from_slice(parent.as_bytes());
    key.push(0);
    key
}

/// `log`: sequence number → the latest state of one record.
pub fn log_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub fn parse_log_key(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// `record_index`: (table, record id) → sequence number of the record's log entry.
pub fn record_key(table: &str, record_id: &str) -> Vec<u8> {
    let id = key_form(record_id);
    let mut key = Vec::with_capacity(table.len() + 1 + id.len());
    key.extend_from_slice(table.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
    key
}

/// `record_index`: a record id in key form (ids differing only in case are one id).
pub fn record_index_key(record_id: &str) -> Vec<u8> {
    key_form(record_id).into_bytes()
}

pub fn parse_record_key(key: &[u8]) -> Option<(&str, &str)> {
    let split = key.iter().position(|b| *b == 0)?;
    let table = std::str::from_utf8(&key[..split]).ok()?;
    let id = std::str::from_utf8(&key[split + 1..]).ok()?;
    Some((table, id))
}

/// `pushed`: (origin site, the SyncID it gave) → sequence number the push was applied at.
/// SyncIDs are unique per sender, not across senders, hence the site in front.
pub fn pushed_key(site: SiteId, sync_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(4 + sync_id.len());
    key.extend_from_slice(&site.0.to_be_bytes());
    key.extend_from_slice(sync_id.as_bytes());
    key
}

pub fn parse_pushed_key(key: &[u8]) -> Option<(SiteId, &str)> {
    let site = u32::from_be_bytes(key.get(..4)?.try_into().ok()?);
    Some((SiteId(site), std::str::from_utf8(&key[4..]).ok()?))
}

/// `site_queues`: site → that satellite's queue position, acknowledgements and dump state.
pub fn site_queue_key(site: SiteId) -> [u8; 4] {
    site.0.to_be_bytes()
}

pub fn parse_site_queue_key(key: &[u8]) -> Option<SiteId> {
    Some(SiteId(u32::from_be_bytes(key.try_into().ok()?)))
}

/// `directory` entries, one prefix byte per kind.
pub const DIRECTORY_SITE: u8 = b's';
pub const DIRECTORY_STORE: u8 = b't';
pub const DIRECTORY_USER: u8 = b'u';
pub const DIRECTORY_OPERATOR: u8 = b'o';

pub fn site_key(site: SiteId) -> [u8; 5] {
    let mut key = [DIRECTORY_SITE, 0, 0, 0, 0];
    key[1..].copy_from_slice(&site.0.to_be_bytes());
    key
}

pub fn store_key(store_id: &str) -> Vec<u8> {
    let mut key = vec![DIRECTORY_STORE];
    key.extend_from_slice(key_form(store_id).as_bytes());
    key
}

pub fn user_key(name: &str) -> Vec<u8> {
    let mut key = vec![DIRECTORY_USER];
    key.extend_from_slice(name.as_bytes());
    key
}

pub fn operator_key(name: &str) -> Vec<u8> {
    let mut key = vec![DIRECTORY_OPERATOR];
    key.extend_from_slice(name.as_bytes());
    key
}

/// `patient_joins`: (patient name id, store id) → (). A prefix scan on the name id lists the
/// stores a patient is visible to.
pub fn join_key(name_id: &str, store_id: &str) -> Vec<u8> {
    let mut key = join_prefix(name_id);
    key.extend_from_slice(key_form(store_id).as_bytes());
    key
}

pub fn join_prefix(name_id: &str) -> Vec<u8> {
    let mut key = key_form(name_id).into_bytes();
    key.push(0);
    key
}

pub fn parse_join_key(key: &[u8]) -> Option<(&str, &str)> {
    parse_record_key(key)
}

/// `patient_ids` entries, one prefix byte per kind: identifier → JPID, and (JPID, identifier) → ()
/// so that a patient's identifiers list by one prefix scan (and clear can find them all).
pub const PATIENT_ID_JPID: u8 = b'i';
pub const PATIENT_JPID_ID: u8 = b'j';

/// `patient_ids`: `i` + the identifier as text (`9E7A;3`, `10108V420871`, `DOD;0000000003`,
/// `HDR;10108V420871`) → its JPID. The text is the identifier's one spelling (see
/// `patient::ids`), so every case a client sends finds the same key.
pub fn patient_id_key(id: &PatientId) -> Vec<u8> {
    let mut key = vec![PATIENT_ID_JPID];
    key.extend_from_slice(id.to_string().as_bytes());
    key
}

/// `patient_ids`: `j` + JPID + the identifier as text → (). JPIDs are 36 characters, so one
/// JPID's prefix never covers another's keys.
pub fn patient_jpid_id_key(jpid: &Jpid, id: &PatientId) -> Vec<u8> {
    let mut key = patient_jpid_ids_prefix(jpid);
    key.extend_from_slice(id.to_string().as_bytes());
    key
}

pub fn patient_jpid_ids_prefix(jpid: &Jpid) -> Vec<u8> {
    let mut key = vec![PATIENT_JPID_ID];
    key.extend_from_slice(jpid.as_str().as_bytes());
    key
}

/// `patient_ids`: `o` + JPID + job id → the latest record of a job still open. Kept with the job
/// records (written and deleted in the same batch), so that the jobs in flight list by one scan of
/// `o` without reading every patient's history; the JPID in the key lets clear delete them.
pub const PATIENT_OPEN_JOB: u8 = b'o';

pub fn patient_open_job_key(jpid: &Jpid, job_id: &str) -> Vec<u8> {
    let mut key = patient_open_jobs_prefix(jpid);
    key.extend_from_slice(job_id.as_bytes());
    key
}

pub fn patient_open_jobs_prefix(jpid: &Jpid) -> Vec<u8> {
    let mut key = vec![PATIENT_OPEN_JOB];
    key.extend_from_slice(jpid.as_str().as_bytes());
    key
}

/// The identifier of a [`patient_jpid_id_key`], parsed back.
pub fn parse_patient_jpid_id_key(key: &[u8]) -> Option<PatientId> {
    if key.first() != Some(&PATIENT_JPID_ID) {
        return None;
    }
    let text = std::str::from_utf8(key.get(1 + JPID_LEN..)?).ok()?;
    PatientId::parse(text).ok()
}

/// The length of a JPID's text (a UUID with dashes), which starts every `patient_data` key.
const JPID_LEN: usize = 36;

/// `patient_data` entries of a JPID, one byte after the JPID per kind.
pub const PATIENT_DEMOGRAPHICS: u8 = b'd';
pub const PATIENT_JOB: u8 = b'j';
pub const PATIENT_RECORD: u8 = b'r';
pub const PATIENT_SOURCE: u8 = b's';

/// `patient_data`: every key starts with the JPID, so that one range delete clears a patient.
pub fn patient_data_prefix(jpid: &Jpid) -> Vec<u8> {
    debug_assert_eq!(jpid.as_str().len(), JPID_LEN);
    jpid.as_str().as_bytes().to_vec()
}

fn patient_data_kind(jpid: &Jpid, kind: u8) -> Vec<u8> {
    let mut key = patient_data_prefix(jpid);
    key.push(kind);
    key
}

/// `patient_data`: JPID + `d` → the patient's demographics (a JSON object).
pub fn patient_demographics_key(jpid: &Jpid) -> Vec<u8> {
    patient_data_kind(jpid, PATIENT_DEMOGRAPHICS)
}

/// `patient_data`: JPID + `s` + the source pid as text → that source's metastamp state.
pub fn patient_source_key(jpid: &Jpid, pid: &SourcePid) -> Vec<u8> {
    let mut key = patient_sources_prefix(jpid);
    key.extend_from_slice(pid.to_string().as_bytes());
    key
}

pub fn patient_sources_prefix(jpid: &Jpid) -> Vec<u8> {
    patient_data_kind(jpid, PATIENT_SOURCE)
}

/// `patient_data`: JPID + `j` + when it was written (µs, u64 BE) + job id → one job record. A
/// prefix scan lists the records in write order; the job id tells apart records of different jobs
/// written in the same microsecond (the caller gives one job's records distinct times).
pub fn patient_job_key(jpid: &Jpid, at_micros: u64, job_id: &str) -> Vec<u8> {
    let mut key = patient_jobs_prefix(jpid);
    key.extend_from_slice(&at_micros.to_be_bytes());
    key.extend_from_slice(job_id.as_bytes());
    key
}

pub fn patient_jobs_prefix(jpid: &Jpid) -> Vec<u8> {
    patient_data_kind(jpid, PATIENT_JOB)
}

/// (when it was written, job id) of a [`patient_job_key`].
pub fn parse_patient_job_key(key: &[u8]) -> Option<(u64, &str)> {
    let rest = key.get(JPID_LEN..)?;
    let (&kind, rest) = rest.split_first()?;
    if kind != PATIENT_JOB {
        return None;
    }
    let at_micros = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    Some((at_micros, std::str::from_utf8(&rest[8..]).ok()?))
}

/// `patient_data`: JPID + `r` + source pid + `0x00` + domain + `0x00` + uid → the record stored for
/// that uid. Source pids never hold a 0 byte, and domains and uids must not (the ingestion API
/// refuses them), so the parts cannot run into each other.
pub fn patient_record_key(jpid: &Jpid, pid: &SourcePid, domain: &str, uid: &str) -> Vec<u8> {
    debug_assert!(!domain.contains('\0') && !uid.contains('\0'), "0 bytes end key parts");
    let mut key = patient_records_prefix(jpid);
    key.extend_from_slice(pid.to_string().as_bytes());
    key.push(0);
    key.extend_from_slice(domain.as_bytes());
    key.push(0);
    key.extend_from_slice(uid.as_bytes());
    key
}

pub fn patient_records_prefix(jpid: &Jpid) -> Vec<u8> {
    patient_data_kind(jpid, PATIENT_RECORD)
}

/// The first key after every key starting with `prefix`: the exclusive end of a range delete.
/// `None` when no key follows (a prefix of 0xFF bytes only, which no key here has).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests;
