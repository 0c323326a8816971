//! What the primary writes for its operators: the skip log's entries (one JSON object per record
//! an operator removed from a satellite's queue, kept and printed as written), and the admin
//! API's replies (sites as operators see them, errors).

use serde::Serialize;
use serde_json::json;

use crate::domain::ids::SiteId;
use crate::domain::record::RecordView;

/// A site as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SiteSummary {
    pub id: u32,
    pub name: String,
    /// The ids of the stores it hosts.
    pub stores: Vec<String>,
    /// The app it syncs with, as far as the primary knows: `mobile`, `mobile-2017`,
    /// `open-msupply`.
    pub client: &'static str,
    /// The hardware id it is bound to (`msupply-site-uuid`), none before its first sync or after
    /// a reset.
    pub hardware_id: Option<String>,
    /// `new` (never initialised), `initialising` or `initialised`.
    pub initialisation: &'static str,
    /// Records waiting in its queue.
    pub queued: u64,
}

/// One queued record, as an operator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queued {
    pub sync_id: String,
    pub table: String,
    pub record_id: String,
    pub sync_type: &'static str,
    pub store_id: String,
    /// Size of the record's data, in bytes (a record too large to integrate shows here).
    pub data_bytes: usize,
}

impl Queued {
    pub fn of(sync_id: &str, record: &RecordView<'_>) -> Queued {
        Queued {
            sync_id: sync_id.to_string(),
            table: record.table.to_string(),
            record_id: record.record_id.to_string(),
            sync_type: record.sync_type.code(),
            store_id: record.store_id.to_string(),
            data_bytes: record.data.len(),
        }
    }
}

/// `{"count":…,"head":[…]}`: how many records a site has queued, and the first of them.
pub fn queue_body(count: u64, head: &[Queued]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "count": count, "head": head })).expect("queued records serialise")
}

/// `{"skipped":{…}}`.
pub fn skipped_body(skipped: &Queued) -> Vec<u8> {
    serde_json::to_vec(&json!({ "skipped": skipped })).expect("queued records serialise")
}

/// `{"skips":[…]}`, each entry the object the skip log keeps.
pub fn skips_body(entries: &[String]) -> Vec<u8> {
    let entries: Vec<serde_json::Value> = entries
        .iter()
        .map(|entry| serde_json::from_str(entry).unwrap_or_else(|_| serde_json::Value::String(entry.clone())))
        .collect();
    serde_json::to_vec(&json!({ "skips": entries })).expect("skip log entries serialise")
}

/// What `POST …/queue/skip` asks.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipRequest {
    pub sync_id: String,
    pub reason: String,
}

/// What `PUT …/password` asks.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub password: String,
}

/// A request body of the admin API, or what is wrong with it.
pub fn decode_request<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, super::DecodeError> {
    serde_json::from_slice(body).map_err(|error| super::DecodeError::Malformed(format!("the request body: {error}")))
}

/// `{"sites":[…]}`.
pub fn sites_body(sites: &[SiteSummary]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "sites": sites })).expect("site summaries serialise")
}

pub fn site_body(site: &SiteSummary) -> Vec<u8> {
    serde_json::to_vec(site).expect("site summaries serialise")
}

/// `{"error":{"code":…,"message":…}}`.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    json!({"error": {"code": code, "message": message}})
        .to_string()
        .into_bytes()
}

/// The skip log's entry for `record`, skipped from `site`'s queue at `at_unix_seconds`.
pub fn skip_log_entry(
    at_unix_seconds: u64,
    site: SiteId,
    sync_id: &str,
    record: &RecordView<'_>,
    reason: &str,
) -> String {
    json!({
        "at_unix_seconds": at_unix_seconds,
        "site": site.0,
        "sync_id": sync_id,
        "table": record.table,
        "record_id": record.record_id,
        "sync_type": record.sync_type.code(),
        "store_id": record.store_id,
        "reason": reason,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::SyncType;

    #[test]
    fn a_skip_names_the_record_the_site_and_the_reason() {
        let record = RecordView {
            table: "item",
            record_id: "I1",
            sync_type: SyncType::Update,
            store_id: "S1",
            key_field_id: "",
            merge_id_to_keep: "",
            merge_id_to_delete: "",
            data: b"{}",
        };
        let entry: serde_json::Value = serde_json::from_str(&skip_log_entry(
            1_700_000_000,
            SiteId(7),
            "AB",
            &record,
            "breaks the batch",
        ))
        .unwrap();
        assert_eq!(
            entry,
            json!({"at_unix_seconds": 1_700_000_000_u64, "site": 7, "sync_id": "AB", "table": "item",
                "record_id": "I1", "sync_type": "U", "store_id": "S1", "reason": "breaks the batch"})
        );
    }
}
