//! The run's chart, drawn with plotters into an SVG file: one panel per figure over the run's
//! seconds, records per second (pushed, delivered) above and p99 latency below, each with its
//! axes, ticks and units.

use std::path::Path;

use plotters::prelude::*;

use super::Report;
use crate::metrics::SecondSummary;

const SIZE: (u32, u32) = (960, 720);
const FONT: &str = "sans-serif";
const DELIVERED: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const PUSHED: RGBColor = RGBColor(0xff, 0x7f, 0x0e);
const LATENCY: RGBColor = RGBColor(0xd6, 0x27, 0x28);

/// Time along both panels.
pub const TIME_AXIS: &str = "time since the start (s)";
pub const THROUGHPUT_AXIS: &str = "records per second";
pub const LATENCY_AXIS: &str = "p99 latency, all calls (ms)";

/// Writes the chart of `report` to `path`.
pub fn write_svg(report: &Report, path: &Path) -> anyhow::Result<()> {
    // The last second is cut short by the end of the run: drawn as a whole one, it would look
    // like a collapse of throughput, so only whole seconds are drawn (all of a run shorter).
    let whole = report.summary.seconds.floor() as usize;
    let timeline = &report.summary.timeline[..report.summary.timeline.len().min(whole.max(1))];
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "satsync loadtest: {} over {} ({} sites, {} records)",
        report.scenario, report.api, report.sites, report.records
    );
    let root = root.titled(&title, (FONT, 20))?;
    let panels = root.split_evenly((2, 1));
    // Second i covers [i, i + 1); the axis spans the whole run even when it lasted one second.
    let seconds = timeline.len().max(2) as f64 - 1.0;

    let delivered: Vec<(f64, f64)> = series(timeline, |s| Some(s.records_delivered as f64));
    let pushed: Vec<(f64, f64)> = series(timeline, |s| Some(s.records_pushed as f64));
    let most = delivered.iter().chain(&pushed).map(|&(_, v)| v).fold(0.0, f64::max);
    let mut throughput = panel(&panels[0], "Throughput", seconds, most, THROUGHPUT_AXIS)?;
    throughput
        .draw_series(LineSeries::new(delivered, DELIVERED.stroke_width(2)))?
        .label("delivered (pulled and acknowledged)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], DELIVERED.stroke_width(2)));
    throughput
        .draw_series(LineSeries::new(pushed, PUSHED.stroke_width(2)))?
        .label("pushed")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], PUSHED.stroke_width(2)));
    throughput
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 13))
        .draw()?;

    // A second without a call has no latency: it is left out rather than drawn as 0 ms.
    let latency = series(timeline, |s| (s.calls > 0).then_some(s.p99_ms));
    let most = latency.iter().map(|&(_, v)| v).fold(0.0, f64::max);
    let mut latencies = panel(&panels[1], "Latency", seconds, most, LATENCY_AXIS)?;
    latencies.draw_series(LineSeries::new(latency, LATENCY.stroke_width(2)))?;

    root.present()?;
    Ok(())
}

/// The points of one figure: (second, value) for each second that has a value.
fn series(timeline: &[SecondSummary], value: impl Fn(&SecondSummary) -> Option<f64>) -> Vec<(f64, f64)> {
    timeline
        .iter()
        .filter_map(|second| value(second).map(|v| (second.second as f64, v)))
        .collect()
}

type Panel<'a> = ChartContext<
    'a,
    SVGBackend<'a>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A panel titled `caption`: time from 0 to `seconds` across, 0 to a third over `most` up,
/// with its grid, ticks and axis names.
fn panel<'a>(
    area: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    caption: &str,
    seconds: f64,
    most: f64,
    y_axis: &str,
) -> anyhow::Result<Panel<'a>> {
    // Headroom above the highest point, where the legend goes without hiding a line; a flat
    // run of zeros still gets an axis.
    let top = if most > 0.0 { most * 1.3 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 16))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(78)
        .build_cartesian_2d(0.0..seconds, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc(TIME_AXIS)
        .y_desc(y_axis)
        .x_labels(12)
        .y_labels(8)
        .x_label_formatter(&|s| format!("{s:.0}"))
        .y_label_formatter(&|v| short(*v))
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.15))
        .draw()?;
    Ok(chart)
}

/// A tick's value, short: 250k rather than 250000, and decimals only where they matter.
fn short(value: f64) -> String {
    if value >= 1_000_000.0 {
        format!("{:.1}M", value / 1_000_000.0)
    } else if value >= 100_000.0 || (value >= 10_000.0 && value % 1_000.0 == 0.0) {
        format!("{:.0}k", value / 1_000.0)
    } else if value >= 10_000.0 {
        format!("{:.1}k", value / 1_000.0)
    } else if value >= 10.0 || value == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}
