//! A fake secondary source (DOD, HDR or VLER) in the test's runtime: a hyper server on an ephemeral
//! port answering `GET /patient-sync?pid=…` as each test sets it up, and recording what it was
//! asked and how many requests it held at once. A pid nobody set up gets 404 (nothing held).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

#[derive(Default)]
struct SourceState {
    /// pid → (status, body).
    answers: Mutex<HashMap<String, (u16, String)>>,
    delays: Mutex<HashMap<String, Duration>>,
    requests: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running fake source, stopped (with its connections) when dropped.
pub struct FakeSource {
    address: SocketAddr,
    state: Arc<SourceState>,
    task: JoinHandle<()>,
}

impl FakeSource {
    pub async fn start() -> FakeSource {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(SourceState::default());
        let serving = state.clone();
        let task = tokio::spawn(async move {
            // Owned here, so that aborting this task also ends every connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = serving.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request| respond(state.clone(), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        FakeSource { address, state, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// 200 with `item` (an ingest item) for `pid`.
    pub fn answer(&self, pid: &str, item: &Value) {
        self.answer_raw(pid, 200, &item.to_string());
    }

    /// Any status and body for `pid`.
    pub fn answer_raw(&self, pid: &str, status: u16, body: &str) {
        self.state
            .answers
            .lock()
            .insert(pid.to_string(), (status, body.to_string()));
    }

    /// 404: the source holds nothing for `pid`.
    pub fn nothing(&self, pid: &str) {
        self.answer_raw(pid, 404, "");
    }

    /// 500 for `pid`.
    pub fn fail(&self, pid: &str) {
        self.answer_raw(pid, 500, r#"{"error":"internal"}"#);
    }

    /// Holds every request for `pid` for `delay` before answering it.
    pub fn delay(&self, pid: &str, delay: Duration) {
        self.state.delays.lock().insert(pid.to_string(), delay);
    }

    /// The pids asked for, in the order the requests arrived.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().clone()
    }

    /// The most requests the source held at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for FakeSource {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts a request in flight until it is answered or dropped (a client that timed out closes the
/// connection, and hyper drops the request's future).
struct InFlight(Arc<SourceState>);

impl InFlight {
    fn enter(state: &Arc<SourceState>) -> InFlight {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn respond(state: Arc<SourceState>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: u16, body: String| {
        Ok(Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap())
    };
    let pid = request.uri().query().and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "pid")
            .map(|(_, value)| value.into_owned())
    });
    let (Some(pid), "/patient-sync") = (pid, request.uri().path()) else {
        return reply(400, r#"{"error":"GET /patient-sync?pid=… only"}"#.to_string());
    };
    state.requests.lock().push(pid.clone());
    let _in_flight = InFlight::enter(&state);
    let delay = state.delays.lock().get(&pid).copied();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let answer = state.answers.lock().get(&pid).cloned();
    let (status, body) = answer.unwrap_or((404, String::new()));
    reply(status, body)
}
