//! The harness's own tests: small scenarios end to end against a real primary it starts itself,
//! and an integrity failure detected when a record is deliberately dropped.

use std::path::Path;
use std::process::{Command, Output};

fn loadtest(dir: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let report = dir.join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args(args)
        .arg("--report")
        .arg(&report)
        .arg("--chart")
        .arg(dir.join("chart.svg"))
        .output()
        .unwrap();
    let report = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or_else(|_| {
            panic!(
                "no report; stdout: {} stderr: {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
    (output, report)
}

#[test]
fn reinit_end_to_end_reports_and_checks_integrity() {
    let dir = tempfile::tempdir().unwrap();
    let (output, report) = loadtest(
        dir.path(),
        &[
            "reinit",
            "--sites",
            "6",
            "--records",
            "4000",
            "--concurrency",
            "3",
            "--judge-every",
            "1",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(report["integrity_ok"], true);
    assert_eq!(report["summary"]["calls"]["initial_dump"]["calls"], 6);
    // Every record delivered was judged as mSupply Mobile would, and all would be taken.
    let figures = &report["figures"];
    assert_eq!(figures["validator_satellites_judged"], 6);
    assert_eq!(
        figures["validator_records_judged"],
        report["summary"]["records_delivered"]
    );
    assert_eq!(
        figures["validator_records_accepted"],
        figures["validator_records_judged"]
    );
    assert!(
        report["summary"]["records_delivered"].as_u64().unwrap() > 4000,
        "every site gets the central data"
    );
    assert!(report["primary_rss_max_mib"].as_f64().unwrap() > 0.0);
    check_chart(&std::fs::read_to_string(dir.path().join("chart.svg")).unwrap());
}

/// The chart is well-formed SVG: a panel per figure, each titled, its axes named with their
/// units and marked with ticks, its series drawn as lines and named in a legend.
fn check_chart(svg: &str) {
    let document = roxmltree::Document::parse(svg).expect("the chart is well-formed XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = document
        .descendants()
        .filter(|node| node.has_tag_name("text"))
        .map(|node| node.text().unwrap_or("").trim())
        .collect();
    for label in [
        "Throughput",
        "Latency",
        "time since the start (s)",
        "records per second",
        "p99 latency, all calls (ms)",
        "delivered (pulled and acknowledged)",
        "pushed",
    ] {
        assert!(
            texts.contains(&label),
            "{label:?} is not among the chart's texts {texts:?}"
        );
    }
    assert_eq!(
        texts.iter().filter(|&&t| t == "time since the start (s)").count(),
        2,
        "both panels have a time axis"
    );
    let ticks = texts
        .iter()
        .filter(|t| t.trim_end_matches(['k', 'M']).parse::<f64>().is_ok())
        .count();
    assert!(ticks >= 8, "both panels' axes carry numbered ticks: {texts:?}");
    let lines = document
        .descendants()
        .filter(|node| node.has_tag_name("polyline"))
        .count();
    assert!(lines >= 3, "delivered, pushed and latency are drawn as lines ({lines})");
}

#[test]
fn a_dropped_record_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (output, report) = loadtest(
        dir.path(),
        &["reinit", "--sites", "3", "--records", "3000", "--drop-one-record"],
    );
    assert_eq!(output.status.code(), Some(2), "integrity failures exit non-zero");
    assert_eq!(report["integrity_ok"], false);
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].as_str().unwrap().starts_with("site 0:"));
}

/// The dump scenario digests what it received only after its clock stops: a record lost there
/// must fail the run just the same.
#[test]
fn a_dropped_record_fails_the_dump_too() {
    let dir = tempfile::tempdir().unwrap();
    let (output, report) = loadtest(
        dir.path(),
        &[
            "dump",
            "--sites",
            "2",
            "--records",
            "3000",
            "--batch",
            "700",
            "--drop-one-record",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "integrity failures exit non-zero");
    assert_eq!(report["integrity_ok"], false);
    let failures = report["failures"].as_array().unwrap();
    assert!(
        failures[0].as_str().unwrap().starts_with("the dump holds"),
        "{failures:?}"
    );
}

#[test]
fn sync_and_dump_run_clean() {
    let dir = tempfile::tempdir().unwrap();
    let (output, report) = loadtest(
        dir.path(),
        &[
            "sync",
            "--sites",
            "4",
            "--records",
            "3000",
            "--duration",
            "2",
            "--concurrency",
            "2",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(report["summary"]["records_pushed"].as_u64().unwrap() > 0);
    assert!(report["summary"]["records_delivered"].as_u64().unwrap() > 0);
    let judged = report["figures"]["validator_records_judged"].as_u64().unwrap();
    assert!(judged > 0 && report["figures"]["validator_records_accepted"] == judged);
    let bodies = dir.path().join("bodies");
    let (output, report) = loadtest(
        dir.path(),
        &[
            "dump",
            "--sites",
            "2",
            "--records",
            "3000",
            "--batch",
            "300",
            "--save-bodies",
            bodies.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(
        report["figures"]["validator_records_accepted"], report["summary"]["records_delivered"],
        "the dump's satellite is judged whole"
    );
    assert_eq!(
        report["figures"]["dump_pulls"].as_u64().unwrap() as usize,
        std::fs::read_dir(&bodies).unwrap().count()
    );
}

/// Runs a scenario that must pass its integrity checks; returns its report.
fn passes(dir: &Path, args: &[&str]) -> serde_json::Value {
    let (output, report) = loadtest(dir, args);
    assert!(
        output.status.success() && report["integrity_ok"] == true,
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    report
}

/// The same scenarios over another API: the client translates at its boundary (v1's numbered
/// text values, v5's envelopes), and the checks still hold.
fn dump_and_sync_over(api: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--api", api, "--records", "3000"];
    let dump = passes(
        dir.path(),
        &[&["dump", "--sites", "2", "--batch", "700"], &common[..]].concat(),
    );
    assert_eq!(dump["api"], api);
    assert_eq!(
        dump["summary"]["records_delivered"], 2003,
        "the central records and store 0's"
    );
    if api == "v5" {
        // open-mSupply's translators judge every record the initialising site received.
        for figure in ["validator_records_judged", "validator_records_accepted"] {
            assert_eq!(dump["figures"][figure], 2003, "{figure}");
        }
    }
    let sync = passes(
        dir.path(),
        &[
            &["sync", "--sites", "3", "--duration", "2", "--concurrency", "2"],
            &common[..],
        ]
        .concat(),
    );
    assert!(sync["summary"]["records_pushed"].as_u64().unwrap() > 0);
    assert!(
        sync["summary"]["records_delivered"].as_u64().unwrap() > 0,
        "the injected items reach the other sites"
    );
    dir
}

#[test]
fn dump_and_sync_over_v1_pass_their_integrity_checks() {
    dump_and_sync_over("v1");
}

#[test]
fn dump_sync_and_idle_over_v5_pass_their_integrity_checks() {
    let dir = dump_and_sync_over("v5");
    let idle = passes(
        dir.path(),
        &[
            "idle",
            "--api",
            "v5",
            "--sites",
            "4",
            "--records",
            "2000",
            "--duration",
            "1",
        ],
    );
    assert_eq!(
        idle["summary"]["calls"]["user"]["calls"], 4,
        "site_status stands in for user"
    );
    assert_eq!(idle["api_calls"]["user"], "GET /sync/v5/site_status");
}

/// v1 changes the data on the way (text values): the expectation is changed the same way, and a
/// record lost is still caught.
#[test]
fn a_dropped_record_fails_a_v1_dump_too() {
    let dir = tempfile::tempdir().unwrap();
    let (output, report) = loadtest(
        dir.path(),
        &[
            "dump",
            "--api",
            "v1",
            "--sites",
            "2",
            "--records",
            "3000",
            "--batch",
            "700",
            "--drop-one-record",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "integrity failures exit non-zero");
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0]
            .as_str()
            .unwrap()
            .starts_with("the dump holds 2002 records, expected 2003"),
        "{failures:?}"
    );
}

#[test]
fn patients_loads_complete_with_every_event_stored() {
    let dir = tempfile::tempdir().unwrap();
    let report = passes(
        dir.path(),
        &[
            "patients",
            "--sites",
            "4",
            "--records",
            "2000",
            "--concurrency",
            "3",
            "--duration",
            "2",
        ],
    );
    let loads = report["figures"]["loads"].as_u64().unwrap();
    assert!(loads >= 3, "each clinician completed a load: {report}");
    assert_eq!(report["summary"]["calls"]["load"]["calls"], loads);
    assert_eq!(report["summary"]["calls"]["load"]["errors"], 0);
    assert!(report["figures"]["source_answers"].as_u64().unwrap() >= loads);
}

#[test]
fn a_dump_over_tls_on_a_slow_link_with_gzip_passes_and_counts_the_bytes_on_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let report = passes(
        dir.path(),
        &[
            "dump",
            "--sites",
            "1",
            "--records",
            "1500",
            "--tls",
            "--link-kbps",
            "4000",
            "--accept-encoding",
            "gzip",
        ],
    );
    let figures = &report["figures"];
    assert_eq!(figures["link"]["tls"], true, "{figures}");
    assert_eq!(figures["link"]["kbps"], 4000);
    let (wire, decoded) = (
        figures["reply_bytes_on_the_wire"].as_f64().unwrap(),
        figures["reply_bytes_decoded"].as_f64().unwrap(),
    );
    assert!(decoded > 1_000_000.0, "the dump's replies: {decoded} bytes");
    assert!(wire * 3.0 < decoded, "gzip on the wire: {wire} of {decoded} bytes");
    // 1.5 MB of replies alone would take 3 s at 4,000 kbit/s; compressed, well under.
    assert!(figures["dump_seconds"].as_f64().unwrap() > 0.0);
}

#[test]
fn idle_with_a_new_connection_per_call_over_tls_passes() {
    let dir = tempfile::tempdir().unwrap();
    let report = passes(
        dir.path(),
        &[
            "idle",
            "--sites",
            "20",
            "--records",
            "500",
            "--duration",
            "2",
            "--tls",
            "--fresh-connections",
        ],
    );
    assert_eq!(report["figures"]["link"]["fresh_connections"], true);
    assert_eq!(report["integrity_ok"], true);
}

/// `--cluster 2`: the same sync scenario against a local cluster the harness starts (three NATS
/// nodes, two instances from one seed), each satellite alternating between the instances.
#[test]
fn sync_against_a_cluster_of_two_passes() {
    let dir = tempfile::tempdir().unwrap();
    let report = passes(
        dir.path(),
        &[
            "sync",
            "--cluster",
            "2",
            "--sites",
            "4",
            "--records",
            "3000",
            "--duration",
            "2",
            "--concurrency",
            "2",
        ],
    );
    assert_eq!(report["cluster_instances"], 2);
    assert!(report["summary"]["records_pushed"].as_u64().unwrap() > 0);
    assert!(
        report["summary"]["records_delivered"].as_u64().unwrap() > 0,
        "the injected items reach the other sites through either instance"
    );
    assert_eq!(report["summary"]["calls"]["push"]["errors"], 0);
}

/// `failover`: the writer and then the log's NATS leader are killed and restarted during a
/// short sync run; nothing answered is lost and the integrity check holds.
#[test]
fn failover_loses_nothing_answered() {
    let dir = tempfile::tempdir().unwrap();
    let report = passes(
        dir.path(),
        &[
            "failover",
            "--sites",
            "4",
            "--records",
            "2000",
            "--duration",
            "2",
            "--concurrency",
            "2",
            "--lease-ttl-seconds",
            "2",
        ],
    );
    let figures = &report["figures"];
    assert_eq!(report["cluster_instances"], 2);
    assert!(figures["pushes_answered"].as_u64().unwrap() > 0, "{figures}");
    assert_eq!(figures["pushes_lost"], 0, "{figures}");
    assert_eq!(figures["records_lost"], 0, "{figures}");
    for kill in ["writer_kill", "stream_leader_kill"] {
        let pause = figures[kill]["write_pause_s"].as_f64();
        assert!(pause.is_some_and(|p| p > 0.0), "{kill}: {figures}");
    }
    assert!(figures["writer_kill"]["process"]
        .as_str()
        .unwrap()
        .starts_with("instance-"));
    assert!(figures["stream_leader_kill"]["process"]
        .as_str()
        .unwrap()
        .starts_with('n'));
}
