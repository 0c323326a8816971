//! The end of a run: a table on the terminal, a JSON report, and an SVG chart of throughput and
//! p99 latency over time (drawn in `chart.rs`).

mod chart;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::metrics::Summary;

pub use chart::write_svg;

#[derive(Serialize)]
pub struct Report {
    pub scenario: String,
    /// The API driven (`v3`, `v1` or `v5`), and how each call the report names was made over it.
    pub api: String,
    pub api_calls: BTreeMap<String, String>,
    pub sites: usize,
    pub records: usize,
    pub seed: u64,
    pub concurrency: usize,
    pub batch: usize,
    /// The instances of the local cluster run against (with three NATS nodes); none: one primary.
    pub cluster_instances: Option<usize>,
    pub integrity_ok: bool,
    pub failures: Vec<String>,
    pub primary_rss_max_mib: Option<f64>,
    pub database_growth_mib: Option<f64>,
    pub figures: serde_json::Map<String, serde_json::Value>,
    pub summary: Summary,
}

pub fn print_table(report: &Report) {
    let s = &report.summary;
    println!();
    println!(
        "scenario {} over {} — {} sites, {} records, {:.1} s",
        report.scenario, report.api, report.sites, report.records, s.seconds
    );
    match report.cluster_instances {
        Some(n) => println!("against a cluster of {n} satsync instances (3 NATS nodes), requests alternating"),
        None => println!("against one primary"),
    }
    println!(
        "{:<14} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9}",
        "call", "calls", "errors", "calls/s", "p50 ms", "p99 ms", "max ms"
    );
    for (name, c) in &s.calls {
        println!(
            "{name:<14} {:>9} {:>7} {:>10.0} {:>9.2} {:>9.2} {:>9.2}",
            c.calls, c.errors, c.per_second, c.p50_ms, c.p99_ms, c.max_ms
        );
    }
    // v5 has no count and no user call: say what those rows timed.
    if report.api == "v5" {
        for name in ["count", "user"] {
            if let Some(request) = report.api_calls.get(name) {
                println!("  {name} over v5: {request}");
            }
        }
    }
    println!(
        "records pushed    {:>12} ({:.0}/s)",
        s.records_pushed, s.pushed_per_second
    );
    println!(
        "records delivered {:>12} ({:.0}/s, pulled and acknowledged)",
        s.records_delivered, s.delivered_per_second
    );
    for (name, value) in &report.figures {
        println!("{name:<32} {value}");
    }
    if let Some(rss) = report.primary_rss_max_mib {
        println!("primary resident memory, max     {rss:.0} MiB");
    }
    if let Some(growth) = report.database_growth_mib {
        println!("database growth                  {growth:.1} MiB");
    }
    if report.integrity_ok {
        println!("integrity: OK");
    } else {
        println!("integrity: FAILED ({} problems)", report.failures.len());
        for failure in report.failures.iter().take(20) {
            println!("  {failure}");
        }
    }
}

pub fn write_json(report: &Report, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(report)?)?;
    Ok(())
}
