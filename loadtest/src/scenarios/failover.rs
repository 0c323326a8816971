//! `failover`: the sync scenario against a local cluster while its processes crash. After a
//! quarter of the run's duration (2 s at least) the writer instance, as the lease names it, is
//! killed with SIGKILL; once writes go on without it, it is started again on its database; later
//! the NATS node leading the log's stream is killed the same way, and started again on its store.
//! The run lasts until the faults are over and its duration has passed.
//!
//! The satellites retry a failed request on the next instance (`Endpoints`), a push with the
//! same body and so the same SyncIDs, as a real satellite does: an error during the failover is
//! not a loss. Reported per kill: the time without writes (from the last push answered with
//! success before the kill to the first answered among those sent after it), when the process
//! came back; and from the sync scenario, the pushes answered with success whose changes never
//! reached the satellites that should have them (must be 0) and its integrity check.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;
use tokio::sync::Mutex;

use super::{sync, Context, Outcome};
use crate::cluster::LocalCluster;
use crate::endpoints::Endpoints;

/// How long a fault step may take (writes resuming, a leader found) before the run fails.
const STEP_WITHIN: Duration = Duration::from_secs(90);

/// One process killed and restarted, for the report.
struct Kill {
    what: &'static str,
    process: String,
    at: Instant,
    restarted: Instant,
    ready: Instant,
}

pub async fn run(ctx: &Context, cluster: Arc<Mutex<LocalCluster>>) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    ctx.hold.hold();
    let faults = async {
        let kills = faults(ctx, &cluster).await;
        ctx.hold.release();
        kills
    };
    let (load, kills) = tokio::join!(sync::run(ctx), faults);
    let mut outcome = load?;
    let kills = kills?;
    let pushes = ctx.endpoints.pushes();
    for kill in &kills {
        let since = |at: Instant| at.duration_since(started).as_secs_f64();
        let last_before = pushes
            .iter()
            .filter(|p| p.answered <= kill.at)
            .map(|p| p.answered)
            .max();
        let first_after = pushes.iter().filter(|p| p.sent >= kill.at).map(|p| p.answered).min();
        let pause = match (last_before, first_after) {
            (Some(before), Some(after)) => Some(after.duration_since(before).as_secs_f64()),
            _ => None,
        };
        if pause.is_none() {
            outcome
                .failures
                .push(format!("{}: no push answered on both sides of the kill", kill.what));
        }
        outcome.figure(
            kill.what,
            json!({
                "process": kill.process,
                "killed_at_s": since(kill.at),
                "write_pause_s": pause,
                "last_push_before_s": last_before.map(since),
                "first_push_after_s": first_after.map(since),
                "restarted_at_s": since(kill.restarted),
                "back_at_s": since(kill.ready),
            }),
        );
    }
    outcome.figure("retried_requests", ctx.endpoints.retries());
    // What the satellites saw, beside the processes' logs.
    let failed = cluster.lock().await.dir().join("failed-requests.txt");
    std::fs::write(&failed, ctx.endpoints.failed().join("\n") + "\n")?;
    Ok(outcome)
}

/// Kills the writer, restarts it, kills the log's stream leader, restarts it.
async fn faults(ctx: &Context, cluster: &Mutex<LocalCluster>) -> anyhow::Result<Vec<Kill>> {
    let settle = (ctx.duration / 4).max(Duration::from_secs(2));
    let mut kills = Vec::new();

    tokio::time::sleep(settle).await;
    let writer = within("the lease to name a writer", || async {
        cluster.lock().await.writer().await
    })
    .await?;
    let at = Instant::now();
    cluster.lock().await.kill_instance(writer).await?;
    eprintln!("failover: killed the writer, instance-{writer}");
    writes_resume(&ctx.endpoints, at).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let restarted = Instant::now();
    cluster.lock().await.restart_instance(writer).await?;
    kills.push(Kill {
        what: "writer_kill",
        process: format!("instance-{writer}"),
        at,
        restarted,
        ready: Instant::now(),
    });

    tokio::time::sleep(settle).await;
    let leader = within("a leader of the log's stream", || async {
        cluster.lock().await.stream_leader().await
    })
    .await?;
    let at = Instant::now();
    let name = {
        let mut cluster = cluster.lock().await;
        cluster.kill_nats(leader).await?;
        cluster.nats_name(leader).to_string()
    };
    eprintln!("failover: killed the log's stream leader, NATS node {name}");
    writes_resume(&ctx.endpoints, at).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let restarted = Instant::now();
    cluster.lock().await.restart_nats(leader).await?;
    kills.push(Kill {
        what: "stream_leader_kill",
        process: name,
        at,
        restarted,
        ready: Instant::now(),
    });
    tokio::time::sleep(settle).await;
    Ok(kills)
}

/// Waits until a push sent after `at` has succeeded.
async fn writes_resume(endpoints: &Endpoints, at: Instant) -> anyhow::Result<()> {
    within("a push to succeed after the kill", || async {
        endpoints.pushed_since(at).then_some(())
    })
    .await
}

/// Polls `probe` until it gives a value, for up to [`STEP_WITHIN`].
async fn within<T, F, Fut>(what: &str, probe: F) -> anyhow::Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + STEP_WITHIN;
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("failover: no {what} within {STEP_WITHIN:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
