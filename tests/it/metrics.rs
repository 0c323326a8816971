//! The Prometheus metrics on the admin listener, read by a real parser of the text exposition
//! format: sites by state and by flag (a satellite the test makes stuck on a record), the
//! records counters moving with a satellite's cycle; requests by API, endpoint and status with
//! their latency histograms, the writer's groups, the queues' total, the sites seen, RocksDB's
//! pressure; an operator's credential required; no label names a site.

use prometheus_parse::{HistogramCount, Scrape, Value};

use crate::support::admin::{call, plain_basic, with_operator_and_units_configured, OPERATOR, PASSWORD};
use crate::support::client::fetch_text;

/// The metrics, parsed, as an operator scrapes them; and their raw text.
pub async fn scrape(admin: &str) -> (Scrape, String) {
    let operator = plain_basic(OPERATOR, PASSWORD);
    let (status, headers, text) = fetch_text(&format!("{admin}/metrics"), Some(&operator)).await;
    assert_eq!(status, 200, "{text}");
    let kind = headers[http::header::CONTENT_TYPE].to_str().unwrap();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let lines = text.lines().map(|line| Ok(line.to_string()));
    (Scrape::parse(lines).expect("the text exposition format"), text)
}

/// The value of `name` whose labels include `labels`.
pub fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("no {name} {labels:?}"));
    match sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        _ => panic!("{name} is neither a counter nor a gauge"),
    }
}

/// The buckets of histogram `name` whose labels include `labels` (none yet: empty).
fn buckets(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Vec<HistogramCount> {
    let found = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)));
    match found.map(|sample| &sample.value) {
        None => Vec::new(),
        Some(Value::Histogram(buckets)) => buckets.clone(),
        Some(other) => panic!("{name} is not a histogram: {other:?}"),
    }
}

/// Checks that the buckets are cumulative (each holds at least the one before), end at `+Inf`
/// and that `+Inf` holds `count`.
fn assert_cumulative(buckets: &[HistogramCount], count: f64) {
    assert!(
        buckets
            .windows(2)
            .all(|pair| pair[0].less_than < pair[1].less_than && pair[0].count <= pair[1].count),
        "{buckets:?}"
    );
    let last = buckets.last().expect("buckets");
    assert_eq!(last.less_than, f64::INFINITY);
    assert_eq!(last.count, count, "+Inf holds every observation");
}

/// The value of `name` with `labels`, 0 when no such sample is there (a label set not seen yet).
fn value_or_zero(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let present = scrape
        .samples
        .iter()
        .any(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)));
    if present {
        value(scrape, name, labels)
    } else {
        0.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_count_requests_writer_groups_queues_sites_seen_and_rocksdb_pressure() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units_configured(dir.path(), 3, |_| {}).await;
    let admin = server.admin_url();
    let pulls = [("api", "v3"), ("endpoint", "queued_records"), ("status", "200")];
    let (before, _) = scrape(&admin).await;
    assert_eq!(value_or_zero(&before, "satsync_requests_total", &pulls), 0.0);
    assert_eq!(value(&before, "satsync_sites_seen_last_hour", &[]), 0.0);
    assert_eq!(
        value(&before, "satsync_queued_records", &[]),
        9.0,
        "the three units imported, in each of three queues"
    );
    let groups = value(&before, "satsync_writer_groups_total", &[]);
    assert!(groups >= 1.0, "the import was written");

    // Two of the three satellites sync: one takes its three records and acknowledges them, one
    // pulls without acknowledging. The third never calls.
    let synced = server.satellite(&logins[0], "v3").not_mobile();
    assert_eq!(synced.drain(50).await.len(), 3);
    let pulling = server.satellite(&logins[1], "v3").not_mobile();
    assert_eq!(pulling.pull_records(2).await.len(), 2);
    let wrong = crate::support::SiteLogin {
        password: "not the password".into(),
        ..logins[2].clone()
    };
    assert_eq!(server.satellite(&wrong, "v3").pull(1).await.status, 401);

    let (after, text) = scrape(&admin).await;
    let pulled = value(&after, "satsync_requests_total", &pulls);
    assert!(
        pulled >= 3.0,
        "the drain pulls twice at least, the other satellite once: {pulled}"
    );
    let acknowledged = [("api", "v3"), ("endpoint", "acknowledged_records"), ("status", "200")];
    assert!(value(&after, "satsync_requests_total", &acknowledged) >= 1.0);
    let refused = [("api", "v3"), ("endpoint", "queued_records"), ("status", "401")];
    assert_eq!(value(&after, "satsync_requests_total", &refused), 1.0);
    let latencies = buckets(&after, "satsync_request_duration_seconds", &pulls);
    assert_eq!(
        value(&after, "satsync_request_duration_seconds_count", &pulls),
        pulled,
        "the histogram counts what the counter does"
    );
    assert_cumulative(&latencies, pulled);
    assert!(
        latencies.iter().any(|b| b.less_than == 0.0005) && latencies.iter().any(|b| b.less_than == 30.0),
        "buckets from 0.5 ms to 30 s: {latencies:?}"
    );
    assert!(value(&after, "satsync_request_duration_seconds_sum", &pulls) > 0.0);

    assert_eq!(
        value(&after, "satsync_sites_seen_last_hour", &[]),
        2.0,
        "the two that synced; a failed login is not a request seen"
    );
    assert_eq!(
        value(&after, "satsync_queued_records", &[]),
        3.0 + 3.0,
        "the drained queue is empty; what was pulled without an acknowledgement still waits"
    );

    let groups_after = value(&after, "satsync_writer_groups_total", &[]);
    assert!(
        groups_after > groups,
        "the acknowledgements were written: {groups} → {groups_after}"
    );
    let sizes = buckets(&after, "satsync_writer_group_commands", &[]);
    let sized = value(&after, "satsync_writer_group_commands_count", &[]);
    assert!(sized >= groups_after, "every group committed has its size: {sized}");
    assert_cumulative(&sizes, sized);
    assert!(
        value(&after, "satsync_writer_group_commands_sum", &[]) >= sized,
        "a group holds a command at least"
    );
    let commits = buckets(&after, "satsync_writer_commit_duration_seconds", &[]);
    assert_cumulative(
        &commits,
        value(&after, "satsync_writer_commit_duration_seconds_count", &[]),
    );

    assert!(value(&after, "satsync_rocksdb_pending_compaction_bytes", &[]) >= 0.0);
    assert_eq!(value(&after, "satsync_rocksdb_write_stopped", &[]), 0.0);
    assert!(value(&after, "satsync_rocksdb_delayed_write_rate", &[]) >= 0.0);
    for kind in ["delay", "stop"] {
        assert!(value(&after, "satsync_rocksdb_write_stalls_total", &[("kind", kind)]) >= 0.0);
    }
    assert!(
        text.contains("# TYPE satsync_rocksdb_write_stalls_total counter"),
        "{text}"
    );
    assert_eq!(value(&after, "satsync_patient_loads_started_total", &[]), 0.0);
    assert_eq!(value(&after, "satsync_patient_jobs_open", &[("state", "created")]), 0.0);
    assert_eq!(
        value(&after, "satsync_patient_jobs_finished_total", &[("state", "error")]),
        0.0
    );

    // The scrape itself is counted under the admin API, and a refused one under its status.
    assert_eq!(call(&admin, "GET", "/metrics", None).await.status, 401);
    let (last, text) = scrape(&admin).await;
    let scrapes = [("api", "admin"), ("endpoint", "metrics")];
    assert!(
        value(
            &last,
            "satsync_requests_total",
            &[scrapes[0], scrapes[1], ("status", "200")]
        ) >= 2.0
    );
    assert_eq!(
        value(
            &last,
            "satsync_requests_total",
            &[scrapes[0], scrapes[1], ("status", "401")]
        ),
        1.0
    );
    for sample in &last.samples {
        for login in &logins {
            let named = sample.labels.values().any(|v| v.contains(&login.name));
            assert!(!named, "no label names a site: {sample:?}");
        }
    }
    for login in &logins {
        assert!(!text.contains(&login.name), "no label names a site: {text}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_count_sites_flags_and_records_as_a_satellite_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units_configured(dir.path(), 2, |config| {
        config.admin.stuck_after_deliveries = 2;
    })
    .await;
    let admin = server.admin_url();
    let (before, text) = scrape(&admin).await;
    assert_eq!(value(&before, "satsync_sites", &[("state", "new")]), 2.0);
    assert_eq!(value(&before, "satsync_sites_flagged", &[("flag", "stuck")]), 0.0);
    assert_eq!(value(&before, "satsync_patient_jobs_in_flight", &[]), 0.0);
    assert!(value(&before, "satsync_database_size_bytes", &[]) > 0.0);
    let delivered = value(&before, "satsync_records_delivered_total", &[]);
    let acknowledged = value(&before, "satsync_records_acknowledged_total", &[]);
    assert!(
        text.contains("# TYPE satsync_records_delivered_total counter"),
        "{text}"
    );

    // One satellite takes its three records and acknowledges them; the other is given its first
    // record twice without acknowledging it: stuck.
    let synced = server.satellite(&logins[1], "v3").not_mobile();
    assert_eq!(synced.drain(50).await.len(), 3);
    let stuck = server.satellite(&logins[0], "v3").not_mobile();
    stuck.pull_records(1).await;
    stuck.pull_records(1).await;

    let (after, text) = scrape(&admin).await;
    assert_eq!(value(&after, "satsync_records_delivered_total", &[]), delivered + 5.0);
    assert_eq!(
        value(&after, "satsync_records_acknowledged_total", &[]),
        acknowledged + 3.0
    );
    assert_eq!(value(&after, "satsync_sites_flagged", &[("flag", "stuck")]), 1.0);
    assert_eq!(value(&after, "satsync_sites_flagged", &[("flag", "silent")]), 0.0);
    for login in &logins {
        assert!(!text.contains(&login.name), "no label names a site: {text}");
    }

    // Only for operators, on the admin listener only.
    let anonymous = call(&admin, "GET", "/metrics", None).await;
    assert_eq!(anonymous.status, 401);
    let site = crate::support::client::basic(&logins[0].name, &logins[0].password);
    assert_eq!(call(&admin, "GET", "/metrics", Some(&site)).await.status, 401);
    let elsewhere = call(
        &server.base_url(),
        "GET",
        "/metrics",
        Some(&plain_basic(OPERATOR, PASSWORD)),
    )
    .await;
    assert_eq!(elsewhere.status, 404, "not where satellites connect");
    server.stop().await;
}
