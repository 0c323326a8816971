//! `static`: fetches, in order and one at a time like the dump scenario, the reply bodies a dump
//! saved, from a static file server (nginx) — the same bytes over the same loopback, for the
//! ratio of our dump throughput to the physical limit.

use std::time::Instant;

use anyhow::{bail, Context as _};
use bytes::Bytes;
use http_body_util::Full;

use crate::scenarios::{Context, Outcome};

pub async fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    let dir = ctx
        .save_bodies
        .as_ref()
        .context("static needs --save-bodies, the directory the dump saved")?;
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    ctx.progress.set_length(names.len() as u64);
    let started = Instant::now();
    let mut bytes = 0u64;
    for name in &names {
        let request = http::Request::get(format!("{}/{name}", ctx.endpoints.first())).body(Full::new(Bytes::new()))?;
        let call = Instant::now();
        let (status, body) = ctx.http.send(request).await?;
        ctx.metrics.call("static_get", call.elapsed(), status.is_success());
        if !status.is_success() {
            bail!("{name}: HTTP {status}");
        }
        bytes += body.len() as u64;
        ctx.progress.inc(1);
    }
    let seconds = started.elapsed().as_secs_f64();
    outcome.figure("static_files", names.len());
    outcome.figure("static_bytes", bytes);
    outcome.figure("static_seconds", seconds);
    outcome.figure("static_megabytes_per_second", bytes as f64 / seconds / 1e6);
    Ok(outcome)
}
