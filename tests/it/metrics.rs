//! The Prometheus metrics on the admin listener, read by a real parser of the text exposition
//! format: sites by state and by flag (a satellite the test makes stuck on a record), the
//! records counters moving with a satellite's cycle; an operator's credential required; no label
//! names a site.

use prometheus_parse::{Scrape, Value};

use crate::support::admin::{call, plain_basic, with_operator_and_units_configured, OPERATOR, PASSWORD};
use crate::support::client::fetch_text;

/// The metrics, parsed, as an operator scrapes them; and their raw text.
async fn scrape(admin: &str) -> (Scrape, String) {
    let operator = plain_basic(OPERATOR, PASSWORD);
    let (status, headers, text) = fetch_text(&format!("{admin}/metrics"), Some(&operator)).await;
    assert_eq!(status, 200, "{text}");
    let kind = headers[http::header::CONTENT_TYPE].to_str().unwrap();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let lines = text.lines().map(|line| Ok(line.to_string()));
    (Scrape::parse(lines).expect("the text exposition format"), text)
}

/// The value of `name` whose labels include `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
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
