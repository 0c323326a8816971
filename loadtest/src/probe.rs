//! The `count` latency probe: on a thread and runtime of its own, so that the harness's busy
//! satellites (parsing large pull replies) do not delay reading its replies, it asks `count` for
//! one satellite after another every 10 ms and records the latency as `count_probe`. That is the
//! primary's `count` latency while the scenario keeps it busy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::client::{Http, Satellite};
use crate::scenarios::Context;

const INTERVAL: Duration = Duration::from_millis(10);

pub struct Probe {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

pub fn start(ctx: &Context) -> Probe {
    let stop = Arc::new(AtomicBool::new(false));
    // The probe measures the primary, not the simulated link: it is never paced.
    let link = crate::link::LinkOptions {
        kbps: None,
        ..ctx.link.clone()
    };
    // Over a cluster it asks each instance in turn, and never retries: a failed count is
    // recorded as an error, not made again.
    let (api, endpoints, metrics, sites, flag) = (
        ctx.api,
        ctx.endpoints.without_retry(),
        ctx.metrics.clone(),
        ctx.spec.sites.max(1),
        stop.clone(),
    );
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a probe runtime");
        runtime.block_on(async move {
            let http = Http::new(&link).expect("the probe's client");
            let mut n = 0;
            while !flag.load(Ordering::Relaxed) {
                let satellite = Satellite::new(n % sites, api, &endpoints, http.clone(), metrics.clone());
                let _ = satellite.count_as("count_probe").await;
                n += 1;
                tokio::time::sleep(INTERVAL).await;
            }
        });
    });
    Probe {
        stop,
        thread: Some(thread),
    }
}

impl Probe {
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
