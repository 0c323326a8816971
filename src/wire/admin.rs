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
    /// Disabled by an operator: its satellite is refused until enabled.
    pub disabled: bool,
    /// When it last called (unix seconds), if ever.
    pub last_request_at: Option<u64>,
    /// What the primary flags of it ([`FlagView::kind`]s): `stuck`, `silent`, `acks-stopped`,
    /// `failing-logins`.
    pub flags: Vec<&'static str>,
}

/// A site's health as the admin API shows it (`GET sites/{name}/health`). Times are unix
/// seconds.
#[derive(Debug, Clone, Serialize)]
pub struct HealthView {
    pub site: u32,
    pub name: String,
    pub queued: u64,
    pub initialisation: &'static str,
    /// Of its latest initial dump: records acknowledged of those it queued.
    pub initialisation_acknowledged: Option<u64>,
    pub initialisation_queued: Option<u64>,
    pub last_request_at: Option<u64>,
    pub address: Option<String>,
    pub api: Option<String>,
    pub app_version: Option<String>,
    pub last_push_at: Option<u64>,
    pub last_pull_at: Option<u64>,
    pub last_ack_at: Option<u64>,
    pub failed_logins: u64,
    pub last_failed_login_at: Option<u64>,
    /// The first record of the last page it was given, and how many times in a row.
    pub head: Option<QueueHeadView>,
    pub head_deliveries: u32,
    pub flags: Vec<FlagView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueHeadView {
    pub sync_id: String,
    pub table: String,
    pub record_id: String,
}

/// One reason to look at a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagView {
    pub kind: &'static str,
    /// What a human reads.
    pub message: String,
    /// `stuck`: the record it is given again and again (skip it with
    /// `POST sites/{name}/queue/skip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<QueueHeadView>,
}

/// A flagged site in `GET flagged`.
#[derive(Debug, Clone, Serialize)]
pub struct FlaggedSite {
    pub id: u32,
    pub name: String,
    pub flags: Vec<FlagView>,
}

/// What `POST backups` asks (its body may be empty).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    #[serde(default)]
    pub name: Option<String>,
}

/// `{"path":…,"seconds":…,"bytes":…}`: the backup just taken.
pub fn backup_body(path: &str, seconds: f64, bytes: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({ "path": path, "seconds": seconds, "bytes": bytes })).expect("backups serialise")
}

/// `{"directory":…,"backups":[{"name","bytes"}]}`.
pub fn backups_body(directory: &str, backups: &[(String, u64)]) -> Vec<u8> {
    let backups: Vec<serde_json::Value> = backups
        .iter()
        .map(|(name, bytes)| json!({ "name": name, "bytes": bytes }))
        .collect();
    serde_json::to_vec(&json!({ "directory": directory, "backups": backups })).expect("backups serialise")
}

/// Satellite sites by where they stand.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SitesByState {
    pub total: u64,
    pub new: u64,
    pub initialising: u64,
    pub initialised: u64,
    pub disabled: u64,
    pub flagged: u64,
}

/// One minute of the last hour.
#[derive(Debug, Clone, Serialize)]
pub struct MinuteView {
    pub at_unix_seconds: u64,
    pub pushed: u64,
    pub delivered: u64,
    pub acknowledged: u64,
    pub groups: u64,
    pub commit_ms_mean: f64,
    pub commit_ms_max: f64,
}

/// `GET overview`.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub sites: SitesByState,
    pub records_estimate: u64,
    pub database_bytes: u64,
    pub pushed_since_start: u64,
    pub delivered_since_start: u64,
    pub acknowledged_since_start: u64,
    /// The last hour, oldest first.
    pub minutes: Vec<MinuteView>,
}

pub fn overview_body(overview: &Overview) -> Vec<u8> {
    serde_json::to_vec(overview).expect("the overview serialises")
}

/// `{"total":…,"sites":[…]}`: one page of the sites that match, and how many match.
pub fn sites_page_body(total: usize, sites: &[SiteSummary]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "total": total, "sites": sites })).expect("site summaries serialise")
}

/// An import through the admin API, as `GET imports` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportView {
    pub id: u64,
    pub operator: String,
    pub started_at: u64,
    pub bytes_read: u64,
    pub records_applied: u64,
    pub finished: bool,
    pub error: Option<String>,
}

/// `{"imports":[…]}`.
pub fn imports_body(imports: &[ImportView]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "imports": imports })).expect("imports serialise")
}

/// `{"import":…,"applied":…}`: an import done.
pub fn import_body(id: u64, applied: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({ "import": id, "applied": applied })).expect("imports serialise")
}

/// A patient sync job in flight, as `GET patient-jobs` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PatientJobView {
    pub job_id: String,
    /// The load it belongs to (its enterprise job).
    pub root_job_id: String,
    pub jpid: String,
    /// The identifier the load was asked for (`9E7A;3`, an ICN, …).
    pub patient: String,
    /// `enterprise-sync-request`, `vista-9E7A-subscribe-request`, `hdr-sync-request`, …
    #[serde(rename = "type")]
    pub job_type: String,
    /// `created` or `started`.
    pub state: String,
    /// When it entered that state (milliseconds since the Unix epoch).
    pub since_unix_ms: u64,
    /// Open longer than a source's time-out and the longest wait: a restart abandoned it, and
    /// the patient's next load closes it.
    pub abandoned: bool,
}

/// `{"total":…,"jobs":[…]}`: `total` counts every job in flight, `jobs` the first of them.
pub fn patient_jobs_body(total: usize, jobs: &[PatientJobView]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "total": total, "jobs": jobs })).expect("patient jobs serialise")
}

/// `{"flagged":[…]}`.
pub fn flagged_body(sites: &[FlaggedSite]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "flagged": sites })).expect("flagged sites serialise")
}

/// A store as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StoreSummary {
    pub id: String,
    pub name: String,
    pub code: String,
    pub name_id: String,
    /// The id of the site that hosts it.
    pub site: u32,
    pub supplying_store_id: String,
}

/// A user as the admin API shows it (never its password's hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: String,
    pub name: String,
    pub stores: Vec<String>,
    pub admin: bool,
    pub permissions: Vec<String>,
}

/// What `POST sites` asks.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSiteRequest {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub id: Option<u32>,
    /// `mobile`, `mobile-2017` or `open-msupply`, when known before it first syncs.
    #[serde(default)]
    pub client: Option<String>,
}

/// An operator as the admin API shows it: its name and how many bearer tokens it holds (never
/// a hash).
#[derive(Debug, Clone, Serialize)]
pub struct OperatorSummary {
    pub name: String,
    pub tokens: usize,
}

/// `{"operators":[…]}`.
pub fn operators_body(operators: &[OperatorSummary]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "operators": operators })).expect("operators serialise")
}

/// `{"name":…,"token":…}`: a bearer token issued, shown this once.
pub fn token_body(name: &str, token: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "name": name, "token": token })).expect("tokens serialise")
}

/// `{"removed":…}`: a site removed.
pub fn removed_body(name: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "removed": name })).expect("names serialise")
}

/// What `POST operators` asks.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOperatorRequest {
    pub name: String,
    pub password: String,
}

/// What `PUT sites/{name}/client` asks.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientRequest {
    /// `mobile`, `mobile-2017` or `open-msupply`.
    pub client: String,
}

/// What `POST stores` asks.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStoreRequest {
    /// The name of the site that hosts it.
    pub site: String,
    pub name: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name_id: Option<String>,
    #[serde(default)]
    pub supplying_store_id: String,
}

/// What `PUT users/{name}` asks.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    pub password: String,
    #[serde(default)]
    pub stores: Vec<String>,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// `{"stores":[…]}`.
pub fn stores_body(stores: &[StoreSummary]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "stores": stores })).expect("store summaries serialise")
}

/// `{"users":[…]}`.
pub fn users_body(users: &[UserSummary]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "users": users })).expect("user summaries serialise")
}

/// One summary as the body of its own reply.
pub fn one_body(summary: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(summary).expect("summaries serialise")
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
