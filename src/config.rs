//! One typed, validated configuration, read from TOML.
//!
//! Every key is documented in `configs/satsync.toml`. Loading has no side effects: it reads and
//! checks, nothing else. The table catalogue (routing, dump order, mobile subset) and the field
//! catalogue (every table's fields, types, defaults and v1 numbers) live in their own files so
//! that operators can edit them without touching the server settings. Depends on `domain` only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::credentials::PasswordHash;
use crate::domain::fields::{FieldCatalogue, FieldsError};
use crate::domain::numbering::Numbering;
use crate::domain::tables::{CatalogueError, TableCatalogue};
use crate::domain::values::ValueRules;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The file is not valid TOML or has unknown or mistyped keys.
    #[error("invalid configuration in {path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    /// The values parse but do not make sense together.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    #[serde(default)]
    pub limits: Limits,
    /// Path of the table catalogue; relative paths are relative to the configuration file.
    #[serde(default)]
    pub tables_file: Option<PathBuf>,
    /// Loaded from `tables_file` (or the built-in default) by [`Config::load`].
    #[serde(skip, default = "TableCatalogue::builtin")]
    pub tables: TableCatalogue,
    /// Path of the field catalogue; relative paths are relative to the configuration file.
    #[serde(default)]
    pub fields_file: Option<PathBuf>,
    /// Loaded from `fields_file` (or the built-in default) by [`Config::load`].
    #[serde(skip, default = "FieldCatalogue::builtin")]
    pub fields: FieldCatalogue,
    #[serde(default)]
    pub records: RecordsConfig,
    #[serde(default)]
    pub v1: V1Config,
    #[serde(default)]
    pub v5: V5Config,
    #[serde(default)]
    pub patient: PatientConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// The satellites' HTTPS listener, when there is one.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// One instance of a cluster over NATS JetStream; absent, the primary is one process on its
    /// embedded database, with no NATS anywhere.
    #[serde(default)]
    pub cluster: Option<ClusterConfig>,
}

/// This instance's cluster: the NATS servers, the names of what it keeps there, its own name,
/// and the writer's lease. Every instance of one cluster names the same stream and buckets and
/// loads the same catalogues.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// The NATS servers (`nats://host:port`); the client fails over between them.
    pub servers: Vec<String>,
    /// This instance's name, unique in the cluster: the lease names the writer by it, and
    /// changes for the writer are sent to it by it.
    pub instance: String,
    /// The JetStream stream holding the log (one message per writer group).
    #[serde(default = "ClusterConfig::default_stream")]
    pub stream: String,
    /// The KV bucket holding the writer's lease.
    #[serde(default = "ClusterConfig::default_lease_bucket")]
    pub lease_bucket: String,
    /// The object store bucket holding snapshots of a replica.
    #[serde(default = "ClusterConfig::default_snapshot_bucket")]
    pub snapshot_bucket: String,
    /// The NATS subjects the cluster's instances speak on start with this.
    #[serde(default = "ClusterConfig::default_subject_prefix")]
    pub subject_prefix: String,
    /// How long the writer's lease lasts unrenewed (the writer renews it three times as often):
    /// after a writer dies, changes wait about this long for another.
    #[serde(default = "ClusterConfig::default_lease_ttl_seconds")]
    pub lease_ttl_seconds: u64,
    /// Replicas of the stream and buckets (3 for a cluster that survives the loss of a server).
    #[serde(default = "ClusterConfig::default_replicas")]
    pub replicas: usize,
    /// How often the writer stores a snapshot of its replica (when the log moved since the last),
    /// below which the log is purged; an instance on an empty disk starts from the latest.
    #[serde(default = "ClusterConfig::default_snapshot_interval_seconds")]
    pub snapshot_interval_seconds: u64,
}

impl ClusterConfig {
    fn default_stream() -> String {
        "SATSYNC_LOG".into()
    }
    fn default_lease_bucket() -> String {
        "satsync_lease".into()
    }
    fn default_snapshot_bucket() -> String {
        "satsync_snapshots".into()
    }
    fn default_subject_prefix() -> String {
        "satsync".into()
    }
    fn default_lease_ttl_seconds() -> u64 {
        6
    }
    fn default_replicas() -> usize {
        3
    }
    fn default_snapshot_interval_seconds() -> u64 {
        3600
    }
}

/// A listener for the satellites speaking HTTPS (TLS 1.2 and 1.3), beside or instead of the
/// plain one. The files are read again on SIGHUP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub listen: SocketAddr,
    /// The certificate chain, the server's own certificate first, in PEM; a relative path is
    /// relative to the configuration file.
    pub certificate: PathBuf,
    /// The certificate's private key (PKCS#8, PKCS#1 or SEC1) in PEM.
    pub key: PathBuf,
}

/// What the primary logs, and how (on standard error).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` for people, `json` (one object per line) for log processors.
    pub format: LogFormat,
    /// The least severe level logged (`error`, `warn`, `info`, `debug`, `trace`), or a full
    /// `tracing` filter (`info,satsync::access=warn`); `RUST_LOG` overrides it.
    pub level: String,
    /// The level of the access log's events (one per request: site, API, path, status,
    /// duration, bytes in and out, request id), or `off`.
    pub access: AccessLevel,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
            access: AccessLevel::Info,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The admin API: its own listener, so that it is never exposed where satellites connect.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Where the admin API listens; `"off"` serves none.
    #[serde(deserialize_with = "listen_or_off")]
    pub listen: Option<SocketAddr>,
    /// How often the sites' health (kept in memory) is written to the database.
    pub health_flush_seconds: u64,
    /// A satellite given the same first record this many times in a row, without acknowledging
    /// anything, is flagged as stuck on it.
    pub stuck_after_deliveries: u32,
    /// A satellite with no request for this long is flagged as silent.
    pub silent_after_hours: u64,
    /// A satellite that pulls without acknowledging for this long is flagged.
    pub acks_stopped_after_hours: u64,
    /// A site with this many failed logins within an hour is flagged.
    pub failed_logins_per_hour: u32,
    /// Where online backups go, one directory each (`POST /admin/v1/backups`); by default
    /// beside the data directory, `<data_dir>-backups`.
    pub backup_dir: Option<PathBuf>,
    /// The most records per second an import through the running server applies (0: as fast
    /// as the writer takes them). At full speed an import takes most of the writer and the
    /// satellites' pushes wait; a pace leaves them their share. A call may ask for less.
    pub import_records_per_second: u64,
}

impl Default for AdminConfig {
    fn default() -> Self {
        let thresholds = crate::sync::health::Thresholds::default();
        AdminConfig {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 2049))),
            health_flush_seconds: 30,
            stuck_after_deliveries: thresholds.stuck_deliveries,
            silent_after_hours: thresholds.silent_seconds / 3600,
            acks_stopped_after_hours: thresholds.acks_stopped_seconds / 3600,
            failed_logins_per_hour: thresholds.failed_logins,
            backup_dir: None,
            import_records_per_second: 10_000,
        }
    }
}

impl AdminConfig {
    /// Where backups of the database in `data_dir` go.
    pub fn backups_of(&self, data_dir: &Path) -> PathBuf {
        self.backup_dir.clone().unwrap_or_else(|| {
            let mut name = data_dir.file_name().unwrap_or_default().to_os_string();
            name.push("-backups");
            data_dir.with_file_name(name)
        })
    }

    pub fn thresholds(&self) -> crate::sync::health::Thresholds {
        crate::sync::health::Thresholds {
            stuck_deliveries: self.stuck_after_deliveries.max(1),
            silent_seconds: self.silent_after_hours * 3600,
            acks_stopped_seconds: self.acks_stopped_after_hours * 3600,
            failed_logins: self.failed_logins_per_hour.max(1),
        }
    }
}

fn listen_or_off<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<SocketAddr>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text == "off" {
        return Ok(None);
    }
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// The patient sync ("Group Sync") API: where it is served, how long it waits, and where the
/// secondary sources are. A secondary source without a URL is not a source of any patient.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PatientConfig {
    /// The path every patient sync endpoint is under.
    pub base_path: String,
    /// The longest a `load` waits for its sources before answering 500.
    pub wait_limit_seconds: u64,
    /// A source that has not answered a request this long after it marks its job `error`.
    pub source_timeout_seconds: u64,
    /// A secondary source fetched this recently without error is not fetched again unless forced.
    pub expiry_seconds: u64,
    /// Secondary-source fetches in flight at once, over every patient.
    pub max_concurrent_fetches: usize,
    /// Base URLs of the secondary sources (`GET {url}/patient-sync?pid=…`, see the README).
    #[serde(default)]
    pub dod_url: Option<String>,
    #[serde(default)]
    pub hdr_url: Option<String>,
    #[serde(default)]
    pub vler_url: Option<String>,
    /// What a satellite authenticated with its own credentials may do (users carry their own).
    pub site_permissions: Vec<String>,
}

impl Default for PatientConfig {
    fn default() -> Self {
        PatientConfig {
            base_path: "/resource/sync".to_string(),
            wait_limit_seconds: 420,
            source_timeout_seconds: 360,
            expiry_seconds: 3600,
            max_concurrent_fetches: 16,
            dod_url: None,
            hdr_url: None,
            vler_url: None,
            site_permissions: vec![crate::domain::permissions::READ_PATIENT_RECORD.to_string()],
        }
    }
}

/// How pushed values are read into rows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsConfig {
    /// The satellites' offset from UTC (`"+13:00"`), to find the local date of the UTC instants
    /// mSupply Mobile pushes for dates. Left out: the date of the nearest midnight (right from
    /// −11 to +12 hours).
    #[serde(default, deserialize_with = "utc_offset")]
    pub satellites_utc_offset: Option<i32>,
}

impl RecordsConfig {
    pub fn value_rules(&self) -> ValueRules {
        ValueRules {
            utc_offset_minutes: self.satellites_utc_offset,
        }
    }
}

/// `"+13:00"`, `"-05:30"` or `"0"` as minutes east of UTC.
fn utc_offset<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i32>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let invalid = || serde::de::Error::custom("expected an offset from UTC such as \"+13:00\" or \"-05:00\"");
    if text == "0" {
        return Ok(Some(0));
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(invalid()),
    };
    let (hours, minutes) = rest.split_once(':').ok_or_else(invalid)?;
    let (hours, minutes): (i32, i32) = (
        hours.parse().map_err(|_| invalid())?,
        minutes.parse().map_err(|_| invalid())?,
    );
    if hours > 14 || minutes >= 60 {
        return Err(invalid());
    }
    Ok(Some(sign * (hours * 60 + minutes)))
}

/// The v1 API: its numbering, and the historic shared sync user.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1Config {
    /// The table and field numbers of the field catalogue, set by [`Config::load`].
    #[serde(skip, default = "Numbering::builtin")]
    pub numbering: Numbering,
    /// The one shared sync user that may send a plain `username:password` on v1 (the site is
    /// then the one `from_site` names). Off unless both this and the hash are set.
    #[serde(default)]
    pub shared_user: Option<String>,
    /// `<salt>:<hash>` as `satsync hash-password` prints it.
    #[serde(default, deserialize_with = "password_hash")]
    pub shared_password_hash: Option<PasswordHash>,
}

/// What v5 clients are accepted: open-mSupply sends its sync API version in the `version`
/// header and its own version in `app-version`; outside these bounds the answer is 409
/// `api_version_incompatible`. A client that sends no header is let through.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct V5Config {
    pub min_sync_version: u32,
    pub max_sync_version: u32,
    /// The oldest `app-version` accepted (dotted numbers, such as `2.3.0`); none by default.
    #[serde(default)]
    pub min_app_version: Option<String>,
    /// The address open-mSupply remotes reach this primary at, given to them as the central
    /// of their v6 calls (`omSupplyCentralServerUrl`), such as `https://sync.example.org`. By
    /// default, `http://` and the host each request came to.
    #[serde(default)]
    pub central_url: Option<String>,
}

impl Default for V5Config {
    fn default() -> Self {
        V5Config {
            min_sync_version: 1,
            max_sync_version: u32::MAX,
            min_app_version: None,
            central_url: None,
        }
    }
}

fn password_hash<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<PasswordHash>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    text.map(|text| {
        let (salt, hash) = text
            .split_once(':')
            .filter(|(salt, hash)| !salt.is_empty() && hash.len() == 64)
            .ok_or_else(|| serde::de::Error::custom("expected <salt>:<hash> as `satsync hash-password` prints it"))?;
        Ok(PasswordHash {
            salt: salt.to_string(),
            hash: hash.to_string(),
        })
    })
    .transpose()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where the satellites' plain HTTP listener is; `"off"` serves none (a primary on the
    /// internet may serve TLS only, see [`TlsConfig`]).
    #[serde(deserialize_with = "listen_or_off")]
    pub listen: Option<SocketAddr>,
    #[serde(default = "default_primary_site_id")]
    pub primary_site_id: u32,
    /// Reported to satellites as `ServerVersion` by `GET site`.
    #[serde(default = "default_server_version")]
    pub server_version: u32,
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Most connections one client address holds at once (0: no cap); more are closed as soon
    /// as they are accepted.
    #[serde(default = "default_max_connections_per_address")]
    pub max_connections_per_address: usize,
    /// How long a client has to send a request's headers, counted from the connection's start
    /// (or the end of its previous request), however slowly they trickle in: a connection that
    /// sends too little too slowly, or nothing, gives its place back after this.
    #[serde(default = "default_header_read_timeout_seconds")]
    pub header_read_timeout_seconds: u64,
    /// Threads that read and encode pulls; fewer keep the light calls (count, acknowledgements)
    /// fast under load, more raise pull throughput.
    #[serde(default = "default_read_threads")]
    pub read_threads: usize,
    /// On SIGTERM, how long the requests in flight may take to finish before the connections
    /// still open are closed and the primary stops.
    #[serde(default = "default_shutdown_grace_seconds")]
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// RocksDB block cache, in MiB.
    #[serde(default = "default_block_cache_mib")]
    pub block_cache_mib: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted, in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Most records accepted in one push.
    pub max_push_records: usize,
    /// Largest `limit` honoured by `GET queued_records` (larger values are capped).
    pub max_pull_limit: usize,
    /// Failed logins from one address within a minute after which its requests are refused
    /// with 429 before any password is checked, until the minute ends.
    pub failed_logins_per_address_per_minute: u32,
    /// Failed logins for one name (a site, user or operator) within a minute after which each
    /// further failure for it is answered only after `failed_login_delay_ms`: guessing slows
    /// down, the right password is answered at once.
    pub failed_logins_per_name_per_minute: u32,
    pub failed_login_delay_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 32 * 1024 * 1024,
            max_push_records: 5_000,
            max_pull_limit: 5_000,
            failed_logins_per_address_per_minute: 30,
            failed_logins_per_name_per_minute: 10,
            failed_login_delay_ms: 2_000,
        }
    }
}

fn default_primary_site_id() -> u32 {
    1
}
fn default_server_version() -> u32 {
    409
}
fn default_max_connections() -> usize {
    50_000
}
fn default_max_connections_per_address() -> usize {
    1_000
}
fn default_header_read_timeout_seconds() -> u64 {
    30
}
fn default_read_threads() -> usize {
    2
}
fn default_shutdown_grace_seconds() -> u64 {
    30
}
fn default_block_cache_mib() -> usize {
    256
}

/// The table catalogue in the file at `path`.
pub fn load_tables(path: &Path) -> Result<TableCatalogue, ConfigError> {
    TableCatalogue::parse(&read(path)?).map_err(|error| match error {
        CatalogueError::Toml(source) => ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        },
        CatalogueError::Invalid(message) => ConfigError::Invalid(message),
    })
}

/// The field catalogue in the file at `path`.
pub fn load_fields(path: &Path) -> Result<FieldCatalogue, ConfigError> {
    FieldCatalogue::parse(&read(path)?).map_err(|error| match error {
        FieldsError::Toml(source) => ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        },
        FieldsError::Invalid(message) => ConfigError::Invalid(format!("{}: {message}", path.display())),
    })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl Config {
    /// Reads and validates a configuration file and the table catalogue it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(tables_file) = &config.tables_file {
            let tables_path = base.join(tables_file);
            config.tables = load_tables(&tables_path)?;
        }
        if let Some(fields_file) = &config.fields_file {
            let fields_path = base.join(fields_file);
            config.fields = load_fields(&fields_path)?;
            config.v1.numbering = Numbering::of(&config.fields)
                .map_err(|e| ConfigError::Invalid(format!("{}: {e}", fields_path.display())))?;
        }
        if config.storage.data_dir.is_relative() {
            config.storage.data_dir = base.join(&config.storage.data_dir);
        }
        if let Some(tls) = &mut config.tls {
            tls.certificate = base.join(&tls.certificate);
            tls.key = base.join(&tls.key);
        }
        config.validate()?;
        Ok(config)
    }

    /// A configuration for a server on `listen` with its data in `data_dir` and defaults elsewhere.
    pub fn for_data_dir(listen: SocketAddr, data_dir: PathBuf) -> Config {
        Config {
            server: ServerConfig {
                listen: Some(listen),
                primary_site_id: default_primary_site_id(),
                server_version: default_server_version(),
                max_connections: default_max_connections(),
                max_connections_per_address: default_max_connections_per_address(),
                header_read_timeout_seconds: default_header_read_timeout_seconds(),
                read_threads: default_read_threads(),
                shutdown_grace_seconds: default_shutdown_grace_seconds(),
            },
            storage: StorageConfig {
                data_dir,
                block_cache_mib: default_block_cache_mib(),
            },
            limits: Limits::default(),
            tables_file: None,
            tables: TableCatalogue::builtin(),
            fields_file: None,
            fields: FieldCatalogue::builtin(),
            records: RecordsConfig::default(),
            v1: V1Config::default(),
            v5: V5Config::default(),
            patient: PatientConfig::default(),
            admin: AdminConfig::default(),
            log: LogConfig::default(),
            tls: None,
            cluster: None,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        if self.server.listen.is_none() && self.tls.is_none() {
            return invalid("server.listen is off and there is no [tls] listener: satellites could not connect");
        }
        if let Some(cluster) = &self.cluster {
            if cluster.servers.is_empty() {
                return invalid("cluster.servers must name at least one NATS server");
            }
            let token = |name: &str| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            };
            if ![
                &cluster.instance,
                &cluster.stream,
                &cluster.lease_bucket,
                &cluster.snapshot_bucket,
                &cluster.subject_prefix,
            ]
            .iter()
            .all(|name| token(name))
            {
                return invalid("cluster.instance, stream, lease_bucket, snapshot_bucket and subject_prefix must be letters, digits, '-' or '_'");
            }
            if cluster.lease_ttl_seconds < 2 {
                return invalid("cluster.lease_ttl_seconds must be at least 2");
            }
            if cluster.snapshot_interval_seconds == 0 {
                return invalid("cluster.snapshot_interval_seconds must be positive");
            }
            if !(1..=5).contains(&cluster.replicas) {
                return invalid("cluster.replicas must be 1 to 5");
            }
        }
        if self.server.primary_site_id == 0 {
            return invalid("server.primary_site_id must be positive");
        }
        if self.limits.max_body_bytes < 1024 {
            return invalid("limits.max_body_bytes must be at least 1024");
        }
        if self.limits.max_push_records == 0 || self.limits.max_pull_limit == 0 {
            return invalid("limits.max_push_records and limits.max_pull_limit must be positive");
        }
        if self.server.max_connections == 0 || self.server.read_threads == 0 {
            return invalid("server.max_connections and server.read_threads must be positive");
        }
        if self.server.header_read_timeout_seconds == 0 {
            return invalid("server.header_read_timeout_seconds must be positive");
        }
        if self.v1.shared_user.is_some() != self.v1.shared_password_hash.is_some() {
            return invalid("v1.shared_user and v1.shared_password_hash go together: set both or neither");
        }
        if self.v5.min_sync_version > self.v5.max_sync_version {
            return invalid("v5.min_sync_version must not be above v5.max_sync_version");
        }
        if let Some(version) = &self.v5.min_app_version {
            if crate::domain::versions::parse(version).is_none() {
                return invalid("v5.min_app_version must be dotted numbers, such as 2.3.0");
            }
        }
        let patient = &self.patient;
        if !patient.base_path.starts_with('/') || patient.base_path.len() < 2 || patient.base_path.ends_with('/') {
            return invalid("patient.base_path must start with / and not end with one, such as /resource/sync");
        }
        if ["/sync/", "/api/"]
            .iter()
            .any(|taken| patient.base_path.starts_with(taken))
        {
            return invalid("patient.base_path must not be under /sync/ or /api/, which the satellite API uses");
        }
        if patient.wait_limit_seconds == 0 || patient.source_timeout_seconds == 0 || patient.max_concurrent_fetches == 0
        {
            return invalid(
                "patient.wait_limit_seconds, patient.source_timeout_seconds and patient.max_concurrent_fetches must be positive",
            );
        }
        for url in [&patient.dod_url, &patient.hdr_url, &patient.vler_url]
            .into_iter()
            .flatten()
        {
            if !url.starts_with("http://") {
                return invalid("patient.dod_url, hdr_url and vler_url must be http:// URLs");
            }
        }
        for permission in &patient.site_permissions {
            if !crate::domain::permissions::ALL.contains(&permission.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "patient.site_permissions: unknown permission {permission:?} (known: {})",
                    crate::domain::permissions::ALL.join(", ")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `configs/satsync.toml` writes out the defaults an operator starts from; the code holds
    /// them once, in the `Default` impls and `for_data_dir`. The two must not drift apart.
    #[test]
    fn the_shipped_configuration_states_the_defaults() {
        let shipped = Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/satsync.toml")).unwrap();
        let defaults = Config::for_data_dir(shipped.server.listen.unwrap(), shipped.storage.data_dir.clone());
        let server = |c: &Config| {
            let s = &c.server;
            (
                s.primary_site_id,
                s.server_version,
                s.max_connections,
                s.read_threads,
                s.header_read_timeout_seconds,
            )
        };
        assert_eq!(server(&shipped), server(&defaults));
        assert_eq!(shipped.storage.block_cache_mib, defaults.storage.block_cache_mib);
        let limits = |l: &Limits| (l.max_body_bytes, l.max_push_records, l.max_pull_limit);
        assert_eq!(limits(&shipped.limits), limits(&defaults.limits));
        let v5 = |v: &V5Config| (v.min_sync_version, v.min_app_version.clone(), v.central_url.clone());
        assert_eq!(v5(&shipped.v5), v5(&defaults.v5));
        let patient = |p: &PatientConfig| {
            (
                p.base_path.clone(),
                p.wait_limit_seconds,
                p.source_timeout_seconds,
                p.expiry_seconds,
                p.max_concurrent_fetches,
                p.site_permissions.clone(),
            )
        };
        assert_eq!(patient(&shipped.patient), patient(&defaults.patient));
        assert_eq!(shipped.admin.listen, defaults.admin.listen);
    }

    #[test]
    fn the_admin_listener_is_an_address_or_off() {
        let load = |admin: &str| {
            let text = format!("[server]\nlisten = \"127.0.0.1:1\"\n[storage]\ndata_dir = \"x\"\n{admin}");
            toml::from_str::<Config>(&text).map(|c| c.admin.listen)
        };
        assert_eq!(load("").unwrap(), Some(SocketAddr::from(([127, 0, 0, 1], 2049))));
        assert_eq!(load("[admin]\nlisten = \"off\"").unwrap(), None);
        assert_eq!(
            load("[admin]\nlisten = \"0.0.0.0:9\"").unwrap(),
            Some(SocketAddr::from(([0, 0, 0, 0], 9)))
        );
        assert!(load("[admin]\nlisten = \"nowhere\"").is_err());
    }

    #[test]
    fn the_plain_listener_may_be_off_when_tls_serves_the_satellites() {
        let dir = tempfile::tempdir().unwrap();
        let load = |text: &str| {
            let path = dir.path().join("satsync.toml");
            std::fs::write(&path, format!("[storage]\ndata_dir = \"data\"\n{text}")).unwrap();
            Config::load(&path)
        };
        let tls = "[tls]\nlisten = \"0.0.0.0:443\"\ncertificate = \"chain.pem\"\nkey = \"key.pem\"\n";
        let config = load(&format!("[server]\nlisten = \"off\"\n{tls}")).unwrap();
        assert_eq!(config.server.listen, None);
        let tls = config.tls.unwrap();
        assert_eq!(tls.certificate, dir.path().join("chain.pem"), "relative to the file");
        assert_eq!(tls.key, dir.path().join("key.pem"));
        let neither = load("[server]\nlisten = \"off\"\n").unwrap_err();
        assert!(neither.to_string().contains("[tls]"), "{neither}");
    }
}
