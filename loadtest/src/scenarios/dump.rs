//! `dump`: one satellite pulls a full dump of its view as fast as it can. Reports records/s and
//! MB/s; with `--save-bodies` keeps every reply body, so that the nginx comparison serves the
//! very same bytes.

use std::time::Instant;

use super::{drain, Context, DrainOptions, Outcome};
use crate::holdings::Expected;
use crate::judging::JudgeAs;

pub async fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    let holdings = Expected::of(&ctx.spec, ctx.api);
    let expected = holdings.site(0);
    ctx.progress.set_length(expected.records);
    let satellite = ctx.satellite(0);
    let queued = satellite.initial_dump(true).await?;
    if let Some(dir) = &ctx.save_bodies {
        std::fs::create_dir_all(dir)?;
    }
    let started = Instant::now();
    let options = DrainOptions {
        batch: ctx.batch,
        quiescent: true,
        drop_one: ctx.drop_one_record,
        save: ctx.save_bodies.as_deref(),
        defer_digest: true,
        judge: Some(JudgeAs {
            judging: ctx.judging.clone(),
            rank: 0,
            fresh: true,
        }),
    };
    let mut got = drain(&satellite, &ctx.metrics, &options, |_| ()).await?;
    let seconds = started.elapsed().as_secs_f64();
    // Digested after the clock stopped (see DrainOptions::defer_digest).
    got.digest_held(|_| ctx.progress.inc(1))?;
    outcome.figure("dump_seconds", seconds);
    outcome.figure("dump_records_per_second", got.digest.records as f64 / seconds);
    outcome.figure("dump_megabytes_per_second", got.bytes as f64 / seconds / 1e6);
    outcome.figure("dump_bytes", got.bytes);
    outcome.figure("dump_pulls", got.pulls);
    let expected_queued = holdings.queued(0);
    if queued != expected_queued {
        outcome
            .failures
            .push(format!("initial_dump queued {queued}, expected {expected_queued}"));
    }
    if got.digest != expected {
        outcome.failures.push(format!(
            "the dump holds {} records, expected {} (or their data differs)",
            got.digest.records, expected.records
        ));
    }
    Ok(outcome)
}
