//! Prometheus metrics (`GET /metrics` on the admin listener), in the text exposition format
//! (0.0.4) through `prometheus-client`. Everything here is read at scrape time from what the
//! primary already keeps (the census of sites, the activity counters, RocksDB's estimates, the
//! index of patient jobs in flight): a scrape costs one pass over the sites' in-memory state and
//! nothing on the sync paths. Labels are few and fixed (a state, a flag kind): never a site.
//! Like every call on the admin listener, a scrape authenticates as an operator (a bearer token
//! in Prometheus's `authorization` setting).

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::admin::overview::census;
use super::auth::authenticate_operator;
use super::call::Call;
use super::error::ApiError;
use crate::primary::Primary;

pub const PATH: &str = "/metrics";

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

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
}

impl Snapshot {
    fn of(primary: &Primary) -> crate::sync::Result<Snapshot> {
        let engine = &primary.engine;
        let census = census(engine);
        let (pushed, delivered, acknowledged) = engine.activity().totals();
        let (records_stored, database_bytes) = engine.storage().size();
        let (patient_jobs, _) = engine.storage().open_patient_jobs(0)?;
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
            patient_jobs_in_flight: patient_jobs as u64,
        })
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
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
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (value_label, value) in values {
        let gauge = ConstGauge::new(i64::try_from(*value).unwrap_or(i64::MAX));
        gauge.encode(family.encode_family(&[(label, *value_label)])?)?;
    }
    Ok(())
}

fn counter(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> std::fmt::Result {
    let counter = ConstCounter::new(value);
    counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)
}
