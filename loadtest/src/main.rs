//! The satsync load-test harness: plays satellites against a primary over real HTTP (keep-alive,
//! Basic auth as the real clients send it, the hardware-id header), checks that nothing was lost,
//! duplicated or altered, and reports throughput and latency.
//!
//! Without `--url` it starts a primary itself on a temporary database loaded with the standard
//! data set (`satsync dataset`), so one command runs a whole scenario on a fresh machine; with
//! `--cluster N`, a local cluster instead (three NATS nodes and N instances from that database).

mod client;
mod cluster;
mod endpoints;
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
    /// sync against a local cluster (--cluster, 2 instances by default) whose writer instance
    /// and then whose log's NATS leader are killed and restarted; reports the write pauses and
    /// the changes lost.
    Failover,
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
    /// Run against a local cluster of N instances the harness starts (with three NATS nodes,
    /// from the same seed database); each satellite alternates between the instances.
    #[arg(long, value_name = "N", conflicts_with_all = ["url", "tls"])]
    cluster: Option<usize>,
    /// The cluster's writer lease, in seconds (satsync's default is 6): after a writer dies,
    /// changes wait about this long for another.
    #[arg(long, default_value_t = 6)]
    lease_ttl_seconds: u64,
    /// Keep the cluster's directory (every process's log, the stores and databases, the failed
    /// requests of a failover) after the run; it is kept anyway when the run fails.
    #[arg(long)]
    keep_cluster: bool,
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
    let failover = matches!(args.scenario, Scenario::Failover);
    let cluster_size = match (args.cluster, failover) {
        (Some(n), _) => Some(n),
        (None, true) => Some(2),
        (None, false) => None,
    };
    if failover && (args.url.is_some() || args.tls) {
        anyhow::bail!("failover starts its own cluster: no --url, no --tls");
    }
    let satsync = args.satsync.clone().unwrap_or_else(primary::default_satsync);
    let cluster = match cluster_size {
        Some(n) => Some(Arc::new(tokio::sync::Mutex::new(
            cluster::LocalCluster::start(&satsync, &spec, n, args.lease_ttl_seconds).await?,
        ))),
        None => None,
    };
    let spawned = match &args.url {
        Some(_) => None,
        None if cluster.is_some() => None,
        None if matches!(args.scenario, Scenario::Static) => anyhow::bail!("static needs --url"),
        None => Some(primary::spawn(&satsync, &spec, args.tls).await?),
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
    // During a failover a failed request is sent again to the next instance, for longer than
    // the cluster takes to elect a writer or a NATS leader.
    let endpoints = match (&args.url, &spawned, &cluster) {
        (Some(url), _, _) => endpoints::Endpoints::single(url.clone()),
        (None, Some(spawned), _) => endpoints::Endpoints::single(spawned.url.clone()),
        (None, None, Some(cluster)) => {
            endpoints::Endpoints::spread(cluster.lock().await.urls(), failover.then_some(Duration::from_secs(90)))
        }
        (None, None, None) => unreachable!("a URL, a spawned primary or a cluster"),
    };
    // The database's growth: the primary's, or the first instance's of a cluster.
    let data_dir = match (&spawned, &cluster) {
        (Some(s), _) => Some(s.data_dir.clone()),
        (None, Some(cluster)) => Some(cluster.lock().await.data_dir(0)),
        (None, None) => None,
    };
    let size_before = data_dir.as_deref().map(primary::dir_size);

    // The primary's resident memory, or the largest of the cluster's instances.
    let rss_max = Arc::new(std::sync::Mutex::new(None::<f64>));
    let sampler = (spawned.is_some() || cluster.is_some()).then(|| {
        let (pid, cluster, rss_max) = (spawned.as_ref().map(|s| s.pid), cluster.clone(), rss_max.clone());
        tokio::spawn(async move {
            loop {
                let pids = match (&cluster, pid) {
                    // Skipped while the failover holds the cluster (a kill or restart).
                    (Some(cluster), _) => cluster.try_lock().map(|c| c.instance_pids()).unwrap_or_default(),
                    (None, pid) => pid.into_iter().collect(),
                };
                for rss in pids.into_iter().filter_map(primary::rss_mib) {
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
        endpoints,
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
        hold: Default::default(),
        count_losses: failover,
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
        Scenario::Failover => {
            let cluster = cluster.clone().expect("failover runs on a cluster");
            scenarios::failover::run(&ctx, cluster).await
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    probe.stop();
    ticker.abort();
    progress.finish_and_clear();
    // Stopped and awaited: it holds the cluster, which the end of the run takes back.
    if let Some(sampler) = sampler {
        sampler.abort();
        let _ = sampler.await;
    }
    let mut outcome = match (outcome, &cluster) {
        (Ok(outcome), _) => outcome,
        (Err(error), Some(cluster)) => {
            // The cluster's logs say why; the processes are killed, the directory kept.
            if let Some(cluster) = Arc::into_inner(cluster.clone()) {
                eprintln!(
                    "the cluster's logs and data are kept in {}",
                    cluster.into_inner().keep().display()
                );
            }
            return Err(error);
        }
        (Err(error), None) => return Err(error),
    };
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
    let growth = match (&data_dir, size_before) {
        (Some(dir), Some(before)) => Some((primary::dir_size(dir) as f64 - before as f64) / (1024.0 * 1024.0)),
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
        cluster_instances: cluster_size,
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
    if let Some(cluster) = cluster {
        let cluster = Arc::into_inner(cluster)
            .expect("the run is over: nothing else holds the cluster")
            .into_inner();
        if report.integrity_ok && !args.keep_cluster {
            cluster.stop().await?;
        } else if report.integrity_ok {
            let dir = cluster.stop_and_keep().await?;
            println!("the cluster's logs and data are kept in {}", dir.display());
        } else {
            // Every process's log, for finding out what went wrong.
            println!("the cluster's logs and data are kept in {}", cluster.keep().display());
        }
    }
    if !report.integrity_ok {
        std::process::exit(2);
    }
    Ok(())
}
