//! Liveness and readiness, for load balancers and orchestrators, on both listeners and without
//! credentials (they say nothing about any site). `GET /healthz`: the process answers.
//! `GET /readyz`: it can serve, meaning its writer takes commands, its database answers a read,
//! it was not told to stop, and in a cluster its replica has caught up with the log; otherwise 503 with the reason, so that a balancer sends new
//! satellites elsewhere while the requests in flight finish.

use std::sync::atomic::Ordering;

use http::StatusCode;

use crate::primary::Primary;
use crate::store::LogReads;
use crate::wire::json::health_body;

pub const LIVE: &str = "/healthz";
pub const READY: &str = "/readyz";

/// The answer to `path` when it is one of the two, as (status, JSON body).
pub fn answer(primary: &Primary, path: &str) -> Option<(StatusCode, Vec<u8>)> {
    match path {
        LIVE => Some((StatusCode::OK, health_body("ok", None))),
        READY => Some(match unready(primary) {
            None => (StatusCode::OK, health_body("ready", None)),
            Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, health_body("unready", Some(&reason))),
        }),
        _ => None,
    }
}

/// Why the primary cannot take new work, if it cannot.
fn unready(primary: &Primary) -> Option<String> {
    if primary.stopping.load(Ordering::Relaxed) {
        return Some("the primary is stopping".into());
    }
    if !primary.engine.writer_alive() {
        return Some("the writer has stopped".into());
    }
    if primary.cluster.as_ref().is_some_and(|cluster| !cluster.has_caught_up()) {
        return Some(format!(
            "this replica is catching up with the cluster's log ({} applied)",
            primary
                .engine
                .replication()
                .map_or(0, |replication| replication.applied())
        ));
    }
    primary
        .engine
        .storage()
        .next_seq()
        .err()
        .map(|error| format!("the database does not answer: {error}"))
}
