//! `idle`: a country at rest. Every satellite calls `count` and `user` once per (compressed)
//! ten minutes, at a random moment of the run. Reports the request rate held and the latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::{Context, Outcome};

/// Most requests in flight at once (a real country's satellites are not synchronised).
const IN_FLIGHT: usize = 2048;

fn offset(seed: u64, n: usize, span_ms: u64) -> u64 {
    let mut z = seed.wrapping_add((n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % span_ms.max(1)
}

pub async fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    let span_ms = ctx.duration.as_millis() as u64;
    let mut schedule: Vec<(u64, usize)> = (0..ctx.spec.sites)
        .map(|n| (offset(ctx.spec.seed, n, span_ms), n))
        .collect();
    schedule.sort_unstable();
    ctx.progress.set_length(ctx.spec.sites as u64);
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let started = tokio::time::Instant::now();
    let wall = Instant::now();
    let mut tasks = Vec::with_capacity(schedule.len());
    for (at, n) in schedule {
        tokio::time::sleep_until(started + Duration::from_millis(at)).await;
        let permit = in_flight.clone().acquire_owned().await?;
        let satellite = ctx.satellite(n);
        let progress = ctx.progress.clone();
        tasks.push(tokio::spawn(async move {
            let result = async {
                satellite.count().await?;
                satellite.user().await
            }
            .await;
            drop(permit);
            progress.inc(1);
            result.map_err(|e| format!("site {n}: {e}"))
        }));
    }
    for task in tasks {
        if let Err(failure) = task.await? {
            outcome.failures.push(failure);
        }
    }
    outcome.figure(
        "requests_per_second_held",
        2.0 * ctx.spec.sites as f64 / wall.elapsed().as_secs_f64(),
    );
    Ok(outcome)
}
