//! `reinit`: every satellite calls `initial_dump` at once, then drains its queue. Reports the
//! time of each `initial_dump` call, the time until every satellite holds a complete and correct
//! copy, and records delivered per second; integrity: each copy equals the site's expected
//! holdings.

use std::time::Instant;

use super::{drain, Context, DrainOptions, Outcome};
use crate::holdings::Expected;
use crate::judging::JudgeAs;

pub async fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    let expected = Expected::of(&ctx.spec, ctx.api);
    let sites: Vec<usize> = (0..ctx.spec.sites).collect();
    ctx.progress
        .set_length(sites.iter().map(|n| expected.site(*n).records).sum());

    let started = Instant::now();
    let queued = ctx
        .each(
            sites.clone(),
            |satellite| async move { satellite.initial_dump(true).await },
        )
        .await;
    outcome.figure("initial_dump_phase_seconds", started.elapsed().as_secs_f64());
    for (n, result) in queued.into_iter().enumerate() {
        match result {
            Ok(count) if count == expected.queued(n) => {}
            Ok(count) => outcome.failures.push(format!(
                "site {n}: initial_dump queued {count}, expected {}",
                expected.queued(n)
            )),
            Err(error) => outcome.failures.push(format!("site {n}: initial_dump failed: {error}")),
        }
    }

    let (batch, drop_one) = (ctx.batch, ctx.drop_one_record);
    let metrics = ctx.metrics.clone();
    let progress = ctx.progress.clone();
    let judging = ctx.judging.clone();
    let drained = ctx
        .each(sites, move |satellite| {
            let (metrics, progress, judging) = (metrics.clone(), progress.clone(), judging.clone());
            async move {
                let options = DrainOptions {
                    batch,
                    quiescent: true,
                    drop_one: drop_one && satellite.number == 0,
                    save: None,
                    defer_digest: false,
                    judge: Some(JudgeAs {
                        judging: judging.clone(),
                        rank: satellite.number,
                        fresh: true,
                    }),
                };
                drain(&satellite, &metrics, &options, |_| progress.inc(1)).await
            }
        })
        .await;
    outcome.figure("complete_seconds", started.elapsed().as_secs_f64());
    for (n, result) in drained.into_iter().enumerate() {
        match result {
            Ok(got) if got.digest == expected.site(n) => {}
            Ok(got) => outcome.failures.push(format!(
                "site {n}: holds {} records (digest {:016x}), expected {} (digest {:016x})",
                got.digest.records,
                got.digest.sum,
                expected.site(n).records,
                expected.site(n).sum
            )),
            Err(error) => outcome.failures.push(format!("site {n}: drain failed: {error}")),
        }
    }
    Ok(outcome)
}
