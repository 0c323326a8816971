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
        &["reinit", "--sites", "6", "--records", "4000", "--concurrency", "3"],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(report["integrity_ok"], true);
    assert_eq!(report["summary"]["calls"]["initial_dump"]["calls"], 6);
    assert!(
        report["summary"]["records_delivered"].as_u64().unwrap() > 4000,
        "every site gets the central data"
    );
    assert!(report["primary_rss_max_mib"].as_f64().unwrap() > 0.0);
    let svg = std::fs::read_to_string(dir.path().join("chart.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
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
        report["figures"]["dump_pulls"].as_u64().unwrap() as usize,
        std::fs::read_dir(&bodies).unwrap().count()
    );
}
