//! Where the satellites send their requests: one primary, or every instance of a cluster.
//!
//! Over a cluster each satellite alternates between the instances request by request (its first
//! request to instance `number % N`), as behind a load balancer that picks a server per request.
//! That is the harder case for the cluster: a satellite that pushed through one instance counts
//! and pulls through another at once, so every round exercises the read rule (an instance waits
//! until its replica has applied what the log held before it answers) and the forwarding of
//! changes to the writer. A satellite pinned to one instance would exercise neither.
//!
//! During a failover (`retry_for`) a request that fails (a killed instance refuses the
//! connection or drops it, an instance without a writer answers 503) is sent again, unchanged, to
//! the next instance, as a real satellite sends the same push again (same SyncIDs) until it is
//! answered. Every failed attempt still counts as an error in the metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When a push that succeeded was sent and answered.
#[derive(Debug, Clone, Copy)]
pub struct PushAnswered {
    pub sent: Instant,
    pub answered: Instant,
}

#[derive(Clone)]
pub struct Endpoints {
    urls: Arc<[String]>,
    /// How long a failing request keeps being tried on the next instance; `None`: not at all.
    retry_for: Option<Duration>,
    /// Attempts that failed and were made again.
    retries: Arc<AtomicU64>,
    /// Every successful push attempt (kept while retrying, for the failover's write pauses).
    pushes: Arc<Mutex<Vec<PushAnswered>>>,
    /// The failed attempts that were retried, described (the first few thousand), for the
    /// failover's record of what the satellites saw.
    failed: Arc<Mutex<Vec<String>>>,
    /// When the endpoints were made: the failed attempts' times count from it.
    since: Instant,
}

/// How many failed attempts are described at most.
const FAILED_KEPT: usize = 5000;

impl Endpoints {
    /// One primary at `url`: every request goes there, a failure is final.
    pub fn single(url: String) -> Endpoints {
        Endpoints::spread(vec![url], None)
    }

    /// Every instance of a cluster, each request to the next; with `retry_for`, failed requests
    /// are tried again on the next instance for that long.
    pub fn spread(urls: Vec<String>, retry_for: Option<Duration>) -> Endpoints {
        assert!(!urls.is_empty(), "at least one URL");
        Endpoints {
            urls: urls.into(),
            retry_for,
            retries: Default::default(),
            pushes: Default::default(),
            failed: Default::default(),
            since: Instant::now(),
        }
    }

    /// The same instances with no retry (the latency probe, whose failures do not matter).
    pub fn without_retry(&self) -> Endpoints {
        Endpoints::spread(self.urls.to_vec(), None)
    }

    pub fn first(&self) -> &str {
        &self.urls[0]
    }

    pub fn len(&self) -> usize {
        self.urls.len()
    }

    /// The URL of a satellite's `turn`-th request.
    pub fn url(&self, turn: u64) -> &str {
        &self.urls[(turn % self.urls.len() as u64) as usize]
    }

    pub fn retry_for(&self) -> Option<Duration> {
        self.retry_for
    }

    /// A failed attempt of `kind` sent at `sent` to `url`, to be made again.
    pub fn note_retry(&self, kind: &str, url: &str, sent: Instant, error: &anyhow::Error) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        let mut failed = self.failed.lock().expect("failed lock");
        if failed.len() < FAILED_KEPT {
            failed.push(format!(
                "{:9.3} s  {kind:<12} {url:<24} after {:7.3} s: {error:#}",
                sent.duration_since(self.since).as_secs_f64(),
                sent.elapsed().as_secs_f64()
            ));
        }
    }

    /// The failed attempts retried, one line each.
    pub fn failed(&self) -> Vec<String> {
        self.failed.lock().expect("failed lock").clone()
    }

    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    pub fn note_push(&self, sent: Instant) {
        if self.retry_for.is_some() {
            let answered = Instant::now();
            self.pushes
                .lock()
                .expect("pushes lock")
                .push(PushAnswered { sent, answered });
        }
    }

    /// Every successful push so far (recorded only while retrying is on).
    pub fn pushes(&self) -> Vec<PushAnswered> {
        self.pushes.lock().expect("pushes lock").clone()
    }

    /// Whether a push sent at `at` or later has succeeded yet.
    pub fn pushed_since(&self, at: Instant) -> bool {
        // Answers are appended in order: the recent end holds any such push.
        self.pushes
            .lock()
            .expect("pushes lock")
            .iter()
            .rev()
            .take_while(|push| push.answered >= at)
            .any(|push| push.sent >= at)
    }
}
