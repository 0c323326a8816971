//! Prometheus metrics (`GET /metrics` on the admin listener), in the text exposition format
//! (0.0.4) through `prometheus-client`. Everything here is read at scrape time from what the
//! primary already keeps: the census of sites, the activity counters, the requests' and the
//! writer's histograms (recorded on their paths with atomic adds), the sites' health, RocksDB's
//! estimates and stall counters, the index of patient jobs in flight, and every satellite's
//! queue counted (bitmap arithmetic per site: the one part of a scrape that grows with the
//! sites, see [`crate::sync::SyncEngine::queued_in_every_queue`]). Labels are few and fixed (a
//! state, a flag kind, an API, an endpoint as the route table names it, a status): never a
//! site. Like every call on the admin listener, a scrape authenticates as an operator (a bearer
//! token in Prometheus's `authorization` setting).

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::admin::overview::census;
use super::auth::authenticate_operator;
use super::call::Call;
use super::error::ApiError;
use super::request_metrics::RequestLabels;
use crate::histogram::{HistogramSnapshot, MICROS_PER_SECOND};
use crate::patient::jobs::JobState;
use crate::primary::Primary;
use crate::store::WritePressure;

pub const PATH: &str = "/metrics";

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// "Sites seen recently" is over this window.
const SEEN_WITHIN_SECONDS: u64 = 3600;

/// The metrics as text, for an operator; read on the pulls' pool (the census may count queues).
pub async fn scrape(primary: &Arc<Primary>, call: &Call) -> Result<String, ApiError> {
    authenticate_operator(&primary.engine, &call.headers)?;
    super::run_pull(primary, |primary| {
        let mut registry = Registry::with_prefix("satsync");
        registry.register_collector(Box::new(Snapshot::of(primary)?));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .expect("writing to a String cannot fail");
        Ok(text)
    })
    .await
}

/// What one scrape reports, read before it is encoded.
#[derive(Debug)]
struct Snapshot {
    sites_by_state: [(&'static str, u64); 3],
    sites_disabled: u64,
    sites_flagged: Vec<(&'static str, u64)>,
    pushed: u64,
    delivered: u64,
    acknowledged: u64,
    records_stored: u64,
    database_bytes: u64,
    patient_jobs_in_flight: u64,
    /// Jobs in flight by state (created, started), from the same index.
    patient_jobs_open: [(&'static str, u64); 2],
    /// Since start: loads that started a sync; jobs finished (completed, error).
    patient_loads_started: u64,
    patient_jobs_finished: [(&'static str, u64); 2],
    requests: Vec<(RequestLabels, HistogramSnapshot)>,
    writer_groups: u64,
    writer_group_sizes: HistogramSnapshot,
    writer_commit_micros: HistogramSnapshot,
    queued_records: u64,
    sites_seen_last_hour: u64,
    rocksdb: WritePressure,
    /// In a cluster: whether this instance is the writer, the log position its replica applied,
    /// and the groups its tail has yet to apply.
    cluster: Option<ClusterFigures>,
}

#[derive(Debug)]
struct ClusterFigures {
    writer: bool,
    applied: u64,
    behind: u64,
    read_rule_asking: HistogramSnapshot,
    read_rule_applying: HistogramSnapshot,
    read_rule_questions: u64,
}

impl Snapshot {
    fn of(primary: &Primary) -> crate::sync::Result<Snapshot> {
        let engine = &primary.engine;
        let census = census(engine);
        let (pushed, delivered, acknowledged) = engine.activity().totals();
        let (records_stored, database_bytes) = engine.storage().size();
        let (mut created, mut started, mut in_flight) = (0, 0, 0);
        engine.storage().visit_open_patient_jobs(|job| {
            in_flight += 1;
            match job.state {
                JobState::Created => created += 1,
                JobState::Started => started += 1,
                // The index holds open jobs only.
                JobState::Completed | JobState::Error { .. } => {}
            }
        })?;
        let tally = primary.patients.tally.totals();
        let writer = engine.writer_stats();
        Ok(Snapshot {
            sites_by_state: [
                ("new", census.sites.new),
                ("initialising", census.sites.initialising),
                ("initialised", census.sites.initialised),
            ],
            sites_disabled: census.sites.disabled,
            sites_flagged: census.flags,
            pushed,
            delivered,
            acknowledged,
            records_stored,
            database_bytes,
            patient_jobs_in_flight: in_flight,
            patient_jobs_open: [("created", created), ("started", started)],
            patient_loads_started: tally.loads_started,
            patient_jobs_finished: [("completed", tally.completed), ("error", tally.failed)],
            requests: primary.requests.snapshot(),
            writer_groups: writer.groups(),
            writer_group_sizes: writer.sizes(),
            writer_commit_micros: writer.commit_micros(),
            queued_records: engine.queued_in_every_queue(),
            sites_seen_last_hour: engine.health().requested_within(SEEN_WITHIN_SECONDS),
            rocksdb: engine.storage().write_pressure(),
            cluster: primary
                .cluster
                .as_ref()
                .zip(engine.replication())
                .map(|(cluster, replication)| ClusterFigures {
                    writer: replication.is_writer(),
                    applied: replication.applied(),
                    behind: cluster.behind(),
                    read_rule_asking: replication.read_rule_asking.snapshot(),
                    read_rule_applying: replication.read_rule_applying.snapshot(),
                    read_rule_questions: replication.read_rule_questions(),
                }),
        })
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        if let Some(cluster) = &self.cluster {
            gauge(
                &mut encoder,
                "cluster_writer",
                "1 while this instance is the cluster's writer (holds the lease), else 0",
                None,
                u64::from(cluster.writer),
            )?;
            gauge(
                &mut encoder,
                "cluster_applied_position",
                "The position in the cluster's log of the last group this instance's replica applied",
                None,
                cluster.applied,
            )?;
            gauge(
                &mut encoder,
                "cluster_behind",
                "Groups of the cluster's log this instance's replica has yet to apply, as its tail last saw",
                None,
                cluster.behind,
            )?;
            histogram(
                &mut encoder,
                "cluster_read_rule_asking",
                "Time a satellite request waited for the log's last position (the read rule's question, shared by the requests that arrive before it is sent)",
                Some(&Unit::Seconds),
                &cluster.read_rule_asking,
                MICROS_PER_SECOND,
            )?;
            histogram(
                &mut encoder,
                "cluster_read_rule_applying",
                "Time a satellite request then waited for this instance's replica to apply up to that position",
                Some(&Unit::Seconds),
                &cluster.read_rule_applying,
                MICROS_PER_SECOND,
            )?;
            counter(
                &mut encoder,
                "cluster_read_rule_questions",
                "Questions the read rule sent to the log (requests that arrived while one was in flight shared the next)",
                cluster.read_rule_questions,
            )?;
        }
        gauges(
            &mut encoder,
            "sites",
            "Satellite sites by initialisation state",
            "state",
            &self.sites_by_state,
        )?;
        gauge(
            &mut encoder,
            "sites_disabled",
            "Satellite sites an operator disabled",
            None,
            self.sites_disabled,
        )?;
        gauges(
            &mut encoder,
            "sites_flagged",
            "Satellite sites flagged, by flag: stuck on a record, silent, acknowledgements stopped, failing logins",
            "flag",
            &self.sites_flagged,
        )?;
        counter(
            &mut encoder,
            "records_pushed",
            "Records pushed since the primary started (imports included)",
            self.pushed,
        )?;
        counter(
            &mut encoder,
            "records_delivered",
            "Records delivered to satellites since the primary started",
            self.delivered,
        )?;
        counter(
            &mut encoder,
            "records_acknowledged",
            "Records satellites acknowledged since the primary started",
            self.acknowledged,
        )?;
        gauge(
            &mut encoder,
            "records_stored",
            "Records stored (RocksDB's estimate)",
            None,
            self.records_stored,
        )?;
        gauge(
            &mut encoder,
            "database_size",
            "The database's files",
            Some(&Unit::Bytes),
            self.database_bytes,
        )?;
        gauge(
            &mut encoder,
            "patient_jobs_in_flight",
            "Patient sync jobs created or started and not yet finished",
            None,
            self.patient_jobs_in_flight,
        )?;
        gauges(
            &mut encoder,
            "patient_jobs_open",
            "Patient sync jobs not yet finished, by state",
            "state",
            &self.patient_jobs_open,
        )?;
        counter(
            &mut encoder,
            "patient_loads_started",
            "Patient loads that started a sync since the primary started (one joining a load in flight starts none)",
            self.patient_loads_started,
        )?;
        counters(
            &mut encoder,
            "patient_jobs_finished",
            "Patient sync jobs finished since the primary started, by how they ended",
            "state",
            &self.patient_jobs_finished,
        )?;
        self.encode_requests(&mut encoder)?;
        counter(
            &mut encoder,
            "writer_groups",
            "Groups of commands the writer committed, each with one synced write",
            self.writer_groups,
        )?;
        histogram(
            &mut encoder,
            "writer_group_commands",
            "Commands in each group the writer committed",
            None,
            &self.writer_group_sizes,
            1.0,
        )?;
        histogram(
            &mut encoder,
            "writer_commit_duration",
            "Time of each group's synced write",
            Some(&Unit::Seconds),
            &self.writer_commit_micros,
            MICROS_PER_SECOND,
        )?;
        gauge(
            &mut encoder,
            "queued_records",
            "Records waiting in satellites' queues, summed over every site (a record waiting for ten sites counts ten times)",
            None,
            self.queued_records,
        )?;
        gauge(
            &mut encoder,
            "sites_seen_last_hour",
            "Satellite sites that made a request within the last hour",
            None,
            self.sites_seen_last_hour,
        )?;
        self.encode_rocksdb(&mut encoder)
    }
}

impl Snapshot {
    /// Requests by API, endpoint and status: a counter, and the latency histogram.
    fn encode_requests(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        let statuses: Vec<String> = self
            .requests
            .iter()
            .map(|(labels, _)| labels.status.to_string())
            .collect();
        let label_set = |n: usize| {
            let labels = &self.requests[n].0;
            [
                ("api", labels.api),
                ("endpoint", labels.endpoint),
                ("status", statuses[n].as_str()),
            ]
        };
        let mut family = encoder.encode_descriptor(
            "requests",
            "Requests answered, by API, endpoint (as the route table names it) and HTTP status",
            None,
            MetricType::Counter,
        )?;
        for (n, (_, latencies)) in self.requests.iter().enumerate() {
            let labels = label_set(n);
            ConstCounter::new(latencies.count).encode(family.encode_family(&labels)?)?;
        }
        let mut family = encoder.encode_descriptor(
            "request_duration",
            "Time from a request's head read to its reply's head ready (a failed login's deliberate delay included)",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for (n, (_, latencies)) in self.requests.iter().enumerate() {
            let labels = label_set(n);
            let buckets = latencies.scaled_buckets(MICROS_PER_SECOND);
            family.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                latencies.sum as f64 / MICROS_PER_SECOND,
                latencies.count,
                &buckets,
                None,
            )?;
        }
        Ok(())
    }

    /// RocksDB's compaction backlog and write stalls.
    fn encode_rocksdb(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        let pressure = &self.rocksdb;
        gauge(
            encoder,
            "rocksdb_pending_compaction",
            "Bytes RocksDB's compactions are behind, over every column family (RocksDB slows writes as it grows)",
            Some(&Unit::Bytes),
            pressure.pending_compaction_bytes,
        )?;
        gauge(
            encoder,
            "rocksdb_delayed_write_rate",
            "The rate RocksDB holds writes to now, bytes per second; 0 when it does not slow them",
            None,
            pressure.delayed_write_rate,
        )?;
        gauge(
            encoder,
            "rocksdb_write_stopped",
            "1 while RocksDB stops writes (every commit waits for compactions), else 0",
            None,
            u64::from(pressure.write_stopped),
        )?;
        counters(
            encoder,
            "rocksdb_write_stalls",
            "Times RocksDB slowed (delay) or stopped (stop) writes since the database was opened, over every column family",
            "kind",
            &[("delay", pressure.stall_delays), ("stop", pressure.stall_stops)],
        )
    }
}

fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, unit: Option<&Unit>, value: u64) -> std::fmt::Result {
    let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
    gauge.encode(encoder.encode_descriptor(name, help, unit, gauge.metric_type())?)
}

/// One gauge per value of `label`.
fn gauges(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &'static str,
    values: &[(&'static str, u64)],
) -> std::fmt::Result {
    let gauge = |value: u64| ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
    labelled(encoder, name, help, MetricType::Gauge, label, values, gauge)
}

/// One metric of `kind` per value of `label`, each made by `metric`.
fn labelled<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    label: &'static str,
    values: &[(&'static str, u64)],
    metric: impl Fn(u64) -> M,
) -> std::fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, kind)?;
    for (value_label, value) in values {
        metric(*value).encode(family.encode_family(&[(label, *value_label)])?)?;
    }
    Ok(())
}

fn counter(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> std::fmt::Result {
    let counter = ConstCounter::new(value);
    counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)
}

/// One counter per value of `label`.
fn counters(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &'static str,
    values: &[(&'static str, u64)],
) -> std::fmt::Result {
    labelled(
        encoder,
        name,
        help,
        MetricType::Counter,
        label,
        values,
        ConstCounter::new,
    )
}

/// A histogram without labels, its observations `scale` to one of `unit`.
fn histogram(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    snapshot: &HistogramSnapshot,
    scale: f64,
) -> std::fmt::Result {
    let buckets = snapshot.scaled_buckets(scale);
    encoder
        .encode_descriptor(name, help, unit, MetricType::Histogram)?
        .encode_histogram::<NoLabelSet>(snapshot.sum as f64 / scale, snapshot.count, &buckets, None)
}
