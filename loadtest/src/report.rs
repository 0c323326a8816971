//! The end of a run: a table on the terminal, a JSON report, and an SVG chart of throughput and
//! p99 latency over time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use crate::metrics::Summary;

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

/// Two panels over the run's seconds: records per second (pushed, delivered) and p99 latency.
pub fn write_svg(report: &Report, path: &Path) -> anyhow::Result<()> {
    let timeline = &report.summary.timeline;
    let (width, panel, left, top) = (900.0, 200.0, 70.0, 40.0);
    let seconds = timeline.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + (width - left - 20.0) * i as f64 / seconds;
    let mut svg = String::new();
    let height = top + 2.0 * panel + 90.0;
    writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    )?;
    writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#)?;
    writeln!(
        svg,
        r#"<text x="{left}" y="20" font-size="15">satsync loadtest: {} over {} ({} sites, {} records)</text>"#,
        report.scenario, report.api, report.sites, report.records
    )?;
    let series: [(&str, Vec<f64>, &str, f64); 3] = [
        (
            "records delivered/s",
            timeline.iter().map(|s| s.records_delivered as f64).collect(),
            "#1f77b4",
            top,
        ),
        (
            "records pushed/s",
            timeline.iter().map(|s| s.records_pushed as f64).collect(),
            "#ff7f0e",
            top,
        ),
        (
            "p99 latency (ms)",
            timeline.iter().map(|s| s.p99_ms).collect(),
            "#d62728",
            top + panel + 40.0,
        ),
    ];
    let throughput_max = series[0]
        .1
        .iter()
        .chain(series[1].1.iter())
        .cloned()
        .fold(1.0, f64::max);
    let latency_max = series[2].1.iter().cloned().fold(1.0, f64::max);
    for (panel_top, max, label) in [
        (top, throughput_max, "records/s"),
        (top + panel + 40.0, latency_max, "p99 ms"),
    ] {
        let bottom = panel_top + panel;
        writeln!(
            svg,
            r##"<line x1="{left}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="#444"/>"##,
            width - 20.0
        )?;
        writeln!(
            svg,
            r##"<line x1="{left}" y1="{panel_top}" x2="{left}" y2="{bottom}" stroke="#444"/>"##
        )?;
        writeln!(svg, r#"<text x="5" y="{}">{max:.0}</text>"#, panel_top + 10.0)?;
        writeln!(svg, r#"<text x="5" y="{bottom}">0</text>"#)?;
        writeln!(svg, r#"<text x="5" y="{}">{label}</text>"#, panel_top + panel / 2.0)?;
        writeln!(
            svg,
            r#"<text x="{}" y="{}">{} s</text>"#,
            width - 60.0,
            bottom + 15.0,
            timeline.len()
        )?;
    }
    for (legend, (name, values, color, panel_top)) in series.iter().enumerate() {
        let max = if *panel_top == top { throughput_max } else { latency_max };
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), panel_top + panel - panel * v / max))
            .collect();
        writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
            points.join(" ")
        )?;
        writeln!(
            svg,
            r#"<text x="{}" y="{}" fill="{color}">{name}</text>"#,
            left + 10.0 + 170.0 * legend as f64,
            height - 15.0
        )?;
    }
    writeln!(svg, "</svg>")?;
    std::fs::write(path, svg)?;
    Ok(())
}
