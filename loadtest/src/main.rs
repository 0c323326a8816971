//! The satsync load-test harness: plays satellites against a primary over real HTTP (keep-alive,
//! Basic auth as the real clients send it, the hardware-id header), checks that nothing was lost,
//! duplicated or altered, and reports throughput and latency.
//!
//! Without `--url` it starts a primary itself on a temporary database loaded with the standard
//! data set (`satsync dataset`), so one command runs a whole scenario on a fresh machine.

mod client;
mod formats;
mod holdings;
mod judging;
mod link;
mod metrics;
mod primary;
mod probe;
mod report;
mod scenarios;
mod static_files;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use satsync::admin::dataset::DatasetSpec;

use metrics::Metrics;
use report::Report;
use scenarios::Context;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scenario {
    /// Steady state: push own changes, drain, central changes injected meanwhile.
    Sync,
    /// Every satellite re-initialises at once, then drains.
    Reinit,
    /// One satellite pulls a full dump as fast as it can.
    Dump,
    /// Every satellite calls count and user once in the run.
    Idle,
    /// Clinicians load patients (each load waits until synced) while satellites answer.
    Patients,
    /// Fetch the bodies a dump saved (--save-bodies) from a static server at --url (nginx).
    Static,
}

#[derive(Parser)]
#[command(about = "Load-test harness for satsync")]
struct Args {
    #[arg(value_enum)]
    scenario: Scenario,
    /// A running primary loaded with the same data set; without it the harness starts one.
    #[arg(long)]
    url: Option<String>,
    /// The satsync binary used to start a primary (default: beside this one).
    #[arg(long)]
    satsync: Option<PathBuf>,
    /// The API the satellites speak: v3 (mSupply Mobile), v1 (numbered tables and fields; the
    /// numbering compiled into satsync) or v5 (open-mSupply). The scenarios and their integrity
    /// checks are the same over each.
    #[arg(long, value_enum, default_value_t = formats::Api::V3)]
    api: formats::Api,
    #[command(flatten)]
    spec: DatasetSpec,
    /// Satellites working at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds, for sync and idle.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Records per pull.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Records per push (sync).
    #[arg(long, default_value_t = 100)]
    push_batch: usize,
    #[arg(long, default_value = "loadtest-report.json")]
    report: PathBuf,
    #[arg(long, default_value = "loadtest-report.svg")]
    chart: PathBuf,
    /// Keep the reply bodies of the dump scenario in this directory (for the nginx comparison).
    #[arg(long)]
    save_bodies: Option<PathBuf>,
    /// Fault injection, for the harness's own tests: satellite 0 loses one record it received.
    #[arg(long, hide = true)]
    drop_one_record: bool,
    /// Judge what one draining satellite in N receives as mSupply Mobile would (over v3; the
    /// first always): every record it would not take fails the scenario. 1 judges all, 0 none.
    #[arg(long, default_value_t = 50)]
    judge_every: usize,
    /// Speak HTTPS. To a primary the harness starts, with a certificate from an authority it
    /// makes for the run; to one at `--url`, trusting the authority given by `--ca`.
    #[arg(long)]
    tls: bool,
    /// The authority (a PEM file) whose certificates `--tls` trusts, for a primary at `--url`.
    #[arg(long, value_name = "PEM_FILE", requires = "tls")]
    ca: Option<PathBuf>,
    /// A new connection for every call (over HTTPS a full handshake each time), as phones that
    /// do not keep connections across sync rounds.
    #[arg(long)]
    fresh_connections: bool,
    /// Each satellite connection paced to this many kilobits per second in both directions.
    #[arg(long, value_name = "N")]
    link_kbps: Option<u32>,
    /// Sent as Accept-Encoding (e.g. gzip, as mSupply Mobile does); replies are decoded.
    #[arg(long, value_name = "OFFER")]
    accept_encoding: Option<String>,
}

fn main() -> anyhow::Result<()> {
    // The simulated satellites share the machine with the primary, which real ones do not: their
    // threads run niced, like the primary's pull threads, so that the primary's async workers
    // (and the count probe, on a thread of its own) are not measured waiting behind the
    // harness's own parsing. The main thread, which starts the primary, keeps its priority.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(satsync::priority::lower_current_thread)
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let spec = args.spec;
    let spawned = match &args.url {
        Some(_) => None,
        None if matches!(args.scenario, Scenario::Static) => anyhow::bail!("static needs --url"),
        None => Some(
            primary::spawn(
                &args.satsync.clone().unwrap_or_else(primary::default_satsync),
                &spec,
                args.tls,
            )
            .await?,
        ),
    };
    let trusted = match (args.tls, &spawned, &args.ca) {
        (false, _, _) => None,
        (true, Some(spawned), _) => spawned.authority.clone(),
        (true, None, Some(file)) => {
            Some(std::fs::read(file).map_err(|e| anyhow::anyhow!("--ca {}: {e}", file.display()))?)
        }
        (true, None, None) => anyhow::bail!("--tls with --url needs --ca, the authority to trust"),
    };
    let link = link::LinkOptions {
        trusted,
        fresh_connections: args.fresh_connections,
        kbps: args.link_kbps,
        accept_encoding: args.accept_encoding.clone(),
    };
    let url = args
        .url
        .clone()
        .or_else(|| spawned.as_ref().map(|s| s.url.clone()))
        .expect("a URL or a spawned primary");
    let size_before = spawned.as_ref().map(|s| primary::dir_size(&s.data_dir));

    let rss_max = Arc::new(std::sync::Mutex::new(None::<f64>));
    let sampler = spawned.as_ref().map(|s| {
        let (pid, rss_max) = (s.pid, rss_max.clone());
        tokio::spawn(async move {
            loop {
                if let Some(rss) = primary::rss_mib(pid) {
                    let mut max = rss_max.lock().expect("rss lock");
                    *max = Some(max.unwrap_or(0.0).max(rss));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    });

    let metrics = Arc::new(Metrics::new());
    let progress = indicatif::ProgressBar::new(0);
    progress.set_style(indicatif::ProgressStyle::with_template(
        "{spinner} {elapsed} [{bar:30}] {pos}/{len} {msg}",
    )?);
    let ctx = Context {
        url,
        api: args.api,
        http: client::Http::new(&link)?,
        link: link.clone(),
        metrics: metrics.clone(),
        spec,
        concurrency: args.concurrency,
        duration: Duration::from_secs(args.duration),
        batch: args.batch,
        push_batch: args.push_batch,
        save_bodies: args.save_bodies.clone(),
        drop_one_record: args.drop_one_record,
        progress: progress.clone(),
        judging: Arc::new(judging::Judging::new(args.api, args.judge_every)),
        central_cursors: client::central_cursors(spec.sites),
    };
    let ticker = {
        let (metrics, progress) = (metrics.clone(), progress.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let (pushed, delivered, errors) = metrics.totals();
                let seconds = started.elapsed().as_secs_f64();
                progress.set_message(format!(
                    "{:.0} pushed/s, {:.0} delivered/s, {errors} errors",
                    pushed as f64 / seconds,
                    delivered as f64 / seconds
                ));
            }
        })
    };
    let probe = probe::start(&ctx);
    let started = Instant::now();
    let outcome = match args.scenario {
        Scenario::Sync => scenarios::sync::run(&ctx).await,
        Scenario::Reinit => scenarios::reinit::run(&ctx).await,
        Scenario::Dump => scenarios::dump::run(&ctx).await,
        Scenario::Idle => scenarios::idle::run(&ctx).await,
        Scenario::Patients => scenarios::patients::run(&ctx).await,
        Scenario::Static => static_files::run(&ctx).await,
    };
    let seconds = started.elapsed().as_secs_f64();
    probe.stop();
    ticker.abort();
    progress.finish_and_clear();
    let mut outcome = outcome?;
    ctx.judging.conclude(&mut outcome);
    // What the satellites' link carried: reply bytes as received (compressed when they came
    // so) and decoded, and how the link was set up.
    let wire = ctx.http.wire_bytes.load(std::sync::atomic::Ordering::Relaxed);
    let decoded = ctx.http.decoded_bytes.load(std::sync::atomic::Ordering::Relaxed);
    outcome.figures.insert("reply_bytes_on_the_wire".into(), wire.into());
    outcome.figures.insert("reply_bytes_decoded".into(), decoded.into());
    outcome.figures.insert(
        "link".into(),
        serde_json::json!({
            "tls": args.tls,
            "fresh_connections": args.fresh_connections,
            "kbps": args.link_kbps,
            "accept_encoding": args.accept_encoding,
        }),
    );
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    let growth = match (&spawned, size_before) {
        (Some(s), Some(before)) => Some((primary::dir_size(&s.data_dir) as f64 - before as f64) / (1024.0 * 1024.0)),
        _ => None,
    };
    let report = Report {
        scenario: format!("{:?}", args.scenario).to_lowercase(),
        api: args.api.name().to_string(),
        api_calls: args
            .api
            .calls()
            .into_iter()
            .map(|(call, request)| (call.to_string(), request))
            .collect(),
        sites: spec.sites,
        records: spec.records,
        seed: spec.seed,
        concurrency: args.concurrency,
        batch: args.batch,
        integrity_ok: outcome.failures.is_empty(),
        failures: outcome.failures,
        primary_rss_max_mib: *rss_max.lock().expect("rss lock"),
        database_growth_mib: growth,
        figures: outcome.figures,
        summary: metrics.summary(seconds),
    };
    report::print_table(&report);
    report::write_json(&report, &args.report)?;
    report::write_svg(&report, &args.chart)?;
    println!("report: {}  chart: {}", args.report.display(), args.chart.display());
    if let Some(spawned) = spawned {
        spawned.stop().await?;
    }
    if !report.integrity_ok {
        std::process::exit(2);
    }
    Ok(())
}
