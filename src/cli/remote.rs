//! The command line's way to a running primary: its admin API, at the configuration's
//! `[admin] listen`, as an operator. Used when the database is held by a running server (RocksDB
//! lets one process open it), for the commands the API covers; their output is the same as with
//! the server stopped.
//!
//! The operator is named by `SATSYNC_OPERATOR`; the password comes from
//! `SATSYNC_OPERATOR_PASSWORD`, else from a prompt when standard input is a terminal (never an
//! argument, and never standard input otherwise: a command may be reading a site's password there).

use anyhow::{bail, Context};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;

use satsync::config::Config;
use satsync::http::streamed::Streamed;

/// A request's body: whole (a JSON call) or sent as it is read (an import).
type RequestBody = Either<Full<Bytes>, Streamed>;

/// The bytes read from an import's input per chunk sent.
const CHUNK_BYTES: usize = 256 * 1024;

pub const OPERATOR_VARIABLE: &str = "SATSYNC_OPERATOR";
pub const PASSWORD_VARIABLE: &str = "SATSYNC_OPERATOR_PASSWORD";

/// The admin API of the primary running on the configuration's database.
pub struct Remote {
    base: String,
    authorization: String,
    runtime: tokio::runtime::Runtime,
    client: Client<HttpConnector, RequestBody>,
}

impl Remote {
    /// The admin API `config` names, as the operator the environment names.
    pub fn connect(config: &Config) -> anyhow::Result<Remote> {
        let Some(listen) = config.admin.listen else {
            bail!("the server is running and its admin API is off ([admin] listen): stop it first");
        };
        let operator = std::env::var(OPERATOR_VARIABLE).with_context(|| {
            format!("the server is running: name an operator of its admin API in ${OPERATOR_VARIABLE}")
        })?;
        let password = match std::env::var(PASSWORD_VARIABLE) {
            Ok(password) => password,
            Err(_) if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
                rpassword::prompt_password(format!("password of operator {operator}: "))?
            }
            Err(_) => bail!("give the operator's password in ${PASSWORD_VARIABLE}"),
        };
        let pair = format!("{operator}:{password}");
        // A wildcard listen address is reached on loopback.
        let host = if listen.ip().is_unspecified() {
            std::net::SocketAddr::from(([127, 0, 0, 1], listen.port()))
        } else {
            listen
        };
        Ok(Remote {
            base: format!("http://{host}/admin/v1"),
            authorization: format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)),
            runtime: tokio::runtime::Builder::new_current_thread().enable_all().build()?,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// `GET` of `path` (under `/admin/v1`), its JSON reply.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        self.call("POST", path, body)
    }

    pub fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call("PUT", path, Some(body))
    }

    pub fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.call("DELETE", path, None)
    }

    /// `GET` of `path`, its body written to `out` as it arrives (an export); the bytes written.
    pub fn get_to(&self, path: &str, mut out: impl std::io::Write) -> anyhow::Result<u64> {
        let request = self.request("GET", path, whole(Bytes::new()))?;
        self.runtime.block_on(async {
            let response = self.send(request).await?;
            let status = response.status();
            let mut body = response.into_body();
            if !status.is_success() {
                let bytes = body.collect().await?.to_bytes();
                return Err(refused(status, &serde_json::from_slice(&bytes).unwrap_or_default()));
            }
            let mut written = 0u64;
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame?.into_data() {
                    out.write_all(&data)?;
                    written += data.len() as u64;
                }
            }
            out.flush()?;
            Ok(written)
        })
    }

    /// `POST` of `input` to `path`, sent as it is read (an import: the primary applies it as it
    /// arrives, so it may be far larger than memory), with a progress bar over `total_bytes`;
    /// the JSON reply. A read error ends the body there and is the error returned, after the
    /// primary's answer to what it received.
    pub fn post_stream(
        &self,
        path: &str,
        mut input: impl std::io::Read + Send + 'static,
        total_bytes: u64,
    ) -> anyhow::Result<Value> {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let progress = indicatif::ProgressBar::new(total_bytes);
        let shown = progress.clone();
        let reader = std::thread::spawn(move || -> std::io::Result<()> {
            loop {
                let mut chunk = vec![0; CHUNK_BYTES];
                let read = input.read(&mut chunk)?;
                if read == 0 {
                    return Ok(());
                }
                chunk.truncate(read);
                shown.inc(read as u64);
                if sender.blocking_send(Bytes::from(chunk)).is_err() {
                    return Ok(()); // The primary answered before the end: its reply says why.
                }
            }
        });
        let request = self.request("POST", path, Either::Right(Streamed(receiver)))?;
        let answer = self.runtime.block_on(self.reply(request));
        progress.finish_and_clear();
        let read = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reading thread failed"))?;
        read.context("reading the input")?;
        answer
    }

    fn request(&self, method: &str, path: &str, body: RequestBody) -> anyhow::Result<http::Request<RequestBody>> {
        Ok(http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(http::header::AUTHORIZATION, &self.authorization)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)?)
    }

    async fn send(&self, request: http::Request<RequestBody>) -> anyhow::Result<http::Response<hyper::body::Incoming>> {
        self.client
            .request(request)
            .await
            .with_context(|| format!("reaching the admin API at {}", self.base))
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = self.request(method, path, whole(Bytes::from(body)))?;
        self.runtime.block_on(self.reply(request))
    }

    /// The JSON reply to `request`, or the API's refusal.
    async fn reply(&self, request: http::Request<RequestBody>) -> anyhow::Result<Value> {
        let response = self.send(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let reply: Value = serde_json::from_slice(&bytes).context("the admin API's reply is not JSON")?;
        if !status.is_success() {
            return Err(refused(status, &reply));
        }
        Ok(reply)
    }
}

fn whole(body: Bytes) -> RequestBody {
    Either::Left(Full::new(body))
}

/// The admin API's refusal, with its message.
fn refused(status: http::StatusCode, reply: &Value) -> anyhow::Error {
    let message = reply["error"]["message"].as_str().unwrap_or("no message");
    anyhow::anyhow!("the admin API refused: {message} ({status})")
}

/// A site's name as one path segment.
pub fn segment(name: &str) -> String {
    utf8_percent_encode(name, NON_ALPHANUMERIC).to_string()
}

/// Whether opening the database failed because another process (a running server) holds it:
/// RocksDB's "While lock file: <dir>/LOCK: Resource temporarily unavailable", and nothing else.
pub fn held_by_a_server(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let text = cause.to_string();
        text.contains("lock file") && text.contains("/LOCK")
    })
}
