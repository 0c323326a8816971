//! The hyper server: accepts connections (bounded, with a header time-out), routes each request
//! through the one route table to the API handlers, and writes their responses, an error in the
//! shape of the API its path is under. Two surfaces, each on its own listener: the satellites'
//! (the sync APIs and the patient API) and the operators' (the admin API), each a [`Surface`] of [`run`];
//! neither serves the other's paths. No business rule lives here. `http` calls `api`; nothing
//! in `api` or below imports `http`.

mod access_log;
pub mod compression;
mod dashboard;
mod login_guard;
mod per_address;
mod request_names;
pub mod router;
pub mod streamed;
pub mod tls;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::Watcher;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::api::call::{Call, OverTls};
use crate::api::endpoint::Api;
use crate::api::error::ApiError;
use crate::api::v2::RecordFormat;
use crate::primary::{Primary, ServeError};
use streamed::Streamed;

/// What a listener serves.
#[derive(Debug, Clone, Copy)]
pub enum Surface {
    /// The sync APIs and the patient API.
    Satellites,
    /// The admin API (on the operators' own address).
    Admin,
}

impl Surface {
    /// As the access log names it.
    fn name(self) -> &'static str {
        match self {
            Surface::Satellites => "satellites",
            Surface::Admin => "admin",
        }
    }
}

/// Connections the kernel may hold waiting to be accepted. tokio's default, 128, overflows in a
/// burst (thousands of satellites after an outage, or every slot held by slow clients) and the
/// overflowing clients wait for SYN retries; the kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `address` with a backlog fit for a country's satellites.
pub fn bind(address: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // A restarted primary binds again at once, while its old connections are in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `surface` of `primary` as plain HTTP on `listener` until `shutdown` completes, then
/// lets open requests finish.
pub async fn run(
    primary: Arc<Primary>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    surface: Surface,
) -> Result<(), ServeError> {
    accept(primary, listener, None, shutdown, surface).await
}

/// Serves `surface` of `primary` as HTTPS on `listener` (see [`tls::Certificates::acceptor`]);
/// a plain HTTP request on it is answered 400, in the shape of the API it asked for.
pub async fn run_tls(
    primary: Arc<Primary>,
    listener: TcpListener,
    tls: TlsAcceptor,
    shutdown: impl Future<Output = ()>,
    surface: Surface,
) -> Result<(), ServeError> {
    accept(primary, listener, Some(tls), shutdown, surface).await
}

/// The accept loop: a connection is taken when the connection semaphore has room and its
/// address is under its cap, then served on its own task.
async fn accept(
    primary: Arc<Primary>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
    surface: Surface,
) -> Result<(), ServeError> {
    let connections = Arc::new(Semaphore::new(primary.config.server.max_connections));
    let logins = Arc::new(login_guard::LoginGuard::default());
    let per_address = per_address::PerAddress::new(primary.config.server.max_connections_per_address);
    // hyper arms it before a request's first byte and never extends it as bytes trickle in, so it
    // bounds how long a slow, stalled or silent client holds one of `connections`.
    let header_read_timeout = Duration::from_secs(primary.config.server.header_read_timeout_seconds);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = per_address.admit(peer.ip()) else {
            tracing::debug!(address = %peer.ip(), "connection refused: the address holds its limit");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            primary: primary.clone(),
            logins: logins.clone(),
            surface,
            peer: peer.ip(),
            header_read_timeout,
        };
        let (tls, watcher) = (tls.clone(), graceful.watcher());
        tokio::spawn(async move {
            match tls {
                None => connection.serve(stream, false, watcher).await,
                Some(tls) => connection.serve_tls(stream, tls, watcher).await,
            }
            drop((permit, slot));
        });
    }
    let grace = Duration::from_secs(primary.config.server.shutdown_grace_seconds);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            seconds = grace.as_secs(),
            "requests still in flight after the shutdown grace: their connections are closed"
        );
    }
    Ok(())
}

/// One accepted connection and what serving it needs.
struct Connection {
    primary: Arc<Primary>,
    logins: Arc<login_guard::LoginGuard>,
    surface: Surface,
    peer: IpAddr,
    /// How long a request's head (or the TLS handshake) may take to arrive.
    header_read_timeout: Duration,
}

impl Connection {
    /// Serves HTTP/1.1 on `io` until the client closes, or the server stops (then the request in
    /// flight finishes first).
    async fn serve<IO>(self, io: IO, over_tls: bool, watcher: Watcher)
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            primary,
            logins,
            surface,
            peer,
            header_read_timeout,
        } = self;
        let service = service_fn(move |mut request: Request<Incoming>| {
            let (primary, logins) = (primary.clone(), logins.clone());
            async move {
                if over_tls {
                    request.extensions_mut().insert(OverTls);
                }
                let access = access_log::Access::begin(&request, surface);
                let mut response = respond(&primary, &logins, surface, request, Some(peer), access.presented()).await;
                access.end(&primary, &mut response);
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(TokioIo::new(io), service);
        let _ = watcher.watch(connection).await;
    }

    /// The TLS handshake (bounded like a request's headers), then [`Connection::serve`]. A client
    /// that speaks plain HTTP instead (its first byte is not a TLS handshake record) is answered
    /// 400 in plain HTTP, so that it reads why instead of a reset.
    async fn serve_tls(self, stream: TcpStream, tls: TlsAcceptor, watcher: Watcher) {
        const TLS_HANDSHAKE_RECORD: u8 = 0x16;
        let mut first = [0u8; 1];
        match tokio::time::timeout(self.header_read_timeout, stream.peek(&mut first)).await {
            Ok(Ok(1)) if first[0] == TLS_HANDSHAKE_RECORD => {}
            Ok(Ok(1)) => return self.refuse_plain_http(stream).await,
            _ => return,
        }
        match tokio::time::timeout(self.header_read_timeout, tls.accept(stream)).await {
            Ok(Ok(stream)) => self.serve(stream, true, watcher).await,
            Ok(Err(error)) => tracing::debug!(address = %self.peer, %error, "TLS handshake failed"),
            Err(_) => tracing::debug!(address = %self.peer, "TLS handshake timed out"),
        }
    }

    /// Answers each plain HTTP request on the TLS port with 400, then closes.
    async fn refuse_plain_http(self, stream: TcpStream) {
        let (primary, surface) = (self.primary, self.surface);
        let service = service_fn(move |request: Request<Incoming>| {
            let error = ApiError::BadRequest("this port speaks HTTPS (TLS): use an https:// address".into());
            let response = refusal(&primary, surface, request.uri().path(), &error);
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        let _ = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .keep_alive(false)
            .serve_connection(TokioIo::new(stream), service)
            .await;
    }
}

/// The answer to one request: health and readiness first, then an address refused for its
/// failed logins, then the surface's own handling, a failed login held as the guard says.
async fn respond(
    primary: &Arc<Primary>,
    logins: &login_guard::LoginGuard,
    surface: Surface,
    request: Request<Incoming>,
    peer: Option<IpAddr>,
    presented: Option<&str>,
) -> Response<AdminBody> {
    let limits = &primary.config.limits;
    let encoding = compression::negotiate(request.headers());
    if let Some((status, body)) = crate::api::health::answer(primary, request.uri().path()) {
        return json_response(status, body).map(Either::Left);
    }
    if let Some(retry_after) = logins.refused(limits, peer) {
        let error = ApiError::TooManyLogins(retry_after);
        let mut refused = refusal(primary, surface, request.uri().path(), &error);
        refused
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(retry_after));
        return refused.map(Either::Left);
    }
    let response = match surface {
        Surface::Satellites => handle(primary, request, peer).await.map(Either::Left),
        Surface::Admin => handle_admin(primary, request, peer).await,
    };
    if response.status() == StatusCode::UNAUTHORIZED {
        tokio::time::sleep(logins.failed(limits, presented, peer)).await;
    }
    compressed(response, encoding).await
}

/// `response` compressed in `encoding` when its body is whole and large enough (see
/// [`compression`]); streamed exports and small replies go as they are.
async fn compressed(response: Response<AdminBody>, encoding: Option<compression::Encoding>) -> Response<AdminBody> {
    use http_body_util::BodyExt;
    use hyper::body::Body;
    let (mut parts, body) = response.into_parts();
    let Either::Left(whole) = body else {
        return Response::from_parts(parts, body);
    };
    let size = whole.size_hint().exact().unwrap_or(0) as usize;
    if size < compression::MIN_BYTES || parts.headers.contains_key(http::header::CONTENT_ENCODING) {
        return Response::from_parts(parts, Either::Left(whole));
    }
    // Caches between a client and the primary must not give one client's encoding to another.
    parts
        .headers
        .append(http::header::VARY, HeaderValue::from_static("accept-encoding"));
    if encoding.is_none() {
        return Response::from_parts(parts, Either::Left(whole));
    }
    let bytes = match whole.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let (bytes, content_encoding) = compression::compress(encoding, bytes).await;
    if let Some(content_encoding) = content_encoding {
        parts.headers.insert(http::header::CONTENT_ENCODING, content_encoding);
    }
    Response::from_parts(parts, Either::Left(Full::new(bytes)))
}

async fn handle(primary: &Arc<Primary>, request: Request<Incoming>, peer: Option<IpAddr>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    // In a cluster, whatever any instance answered this satellite before, this one applies
    // first (at once otherwise). A cluster whose log does not answer cannot say what is current.
    if primary.engine.caught_up().await.is_err() {
        let (status, body) = match router::api(&path) {
            Some(Api::V5 | Api::V6) => ApiError::ClusterBusy.v5_response(),
            _ => (ApiError::ClusterBusy.status(), ApiError::ClusterBusy.body()),
        };
        return json_response(status, body);
    }
    if let Some(rest) = path.strip_prefix(primary.config.patient.base_path.as_str()) {
        if rest.is_empty() || rest.starts_with('/') {
            let call = Call::new(request, primary.config.limits.max_body_bytes, peer);
            let (status, body) = crate::api::patient::handle(primary, rest, call).await;
            return json_response(status, body);
        }
    }
    let result = match router::route(&path) {
        None => Err(ApiError::NotFound(path.clone())),
        Some((api, endpoint)) => {
            let call = Call::new(request, primary.config.limits.max_body_bytes, peer);
            match api {
                Api::V1 => crate::api::v2::handle(primary, RecordFormat::Numbered, endpoint, call).await,
                Api::V2 => crate::api::v2::handle(primary, RecordFormat::Named, endpoint, call).await,
                Api::V4 => crate::api::v4::handle(primary, endpoint, call).await,
                Api::V5 => crate::api::v5::handle(primary, endpoint, call).await,
                Api::V6 => crate::api::v6::handle(primary, endpoint, call).await,
            }
        }
    };
    match (result, router::api(&path)) {
        (Ok(body), _) => json_response(StatusCode::OK, body),
        (Err(error), Some(Api::V5 | Api::V6)) => {
            let (status, body) = error.v5_response();
            json_response(status, body)
        }
        (Err(error), _) => json_response(error.status(), error.body()),
    }
}

/// A reply of the admin listener: whole, or streamed (an export).
type AdminBody = Either<Full<Bytes>, Streamed>;

async fn handle_admin(primary: &Arc<Primary>, request: Request<Incoming>, peer: Option<IpAddr>) -> Response<AdminBody> {
    if request.method() == http::Method::GET && request.uri().path() == crate::api::admin::EXPORT_PATH {
        let call = Call::new(request, primary.config.limits.max_body_bytes, peer);
        return match crate::api::admin::export(primary, call).await {
            Ok(lines) => {
                let mut response = Response::new(Either::Right(Streamed(lines)));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-ndjson"),
                );
                response
            }
            Err((status, body)) => json_response(status, body).map(Either::Left),
        };
    }
    if request.method() == http::Method::GET && request.uri().path() == crate::api::metrics::PATH {
        let call = Call::new(request, primary.config.limits.max_body_bytes, peer);
        return match crate::api::metrics::scrape(primary, &call).await {
            Ok(text) => {
                let mut response = Response::new(Either::Left(Full::new(Bytes::from(text))));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static(crate::api::metrics::CONTENT_TYPE),
                );
                response
            }
            Err(error) => {
                let (status, body) = error.admin_response();
                json_response(status, body).map(Either::Left)
            }
        };
    }
    if request.method() == http::Method::GET {
        if let Some((content_type, body)) = dashboard::asset(request.uri().path()) {
            let mut response = Response::new(Either::Left(Full::new(Bytes::from_static(body.as_bytes()))));
            let headers = response.headers_mut();
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            // The page runs only its own script and style, and is never framed elsewhere.
            headers.insert(
                http::header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
            );
            return response;
        }
    }
    let call = Call::new(request, primary.config.limits.max_body_bytes, peer);
    let (status, body) = crate::api::admin::handle(primary, call).await;
    json_response(status, body).map(Either::Left)
}

/// `error`, refused before the request is handled, in the shape of the API `path` is under.
fn refusal(primary: &Primary, surface: Surface, path: &str, error: &ApiError) -> Response<Full<Bytes>> {
    let (status, body) = match surface {
        Surface::Admin => error.admin_response(),
        Surface::Satellites if path.starts_with(primary.config.patient.base_path.as_str()) => {
            crate::api::patient::refusal(error)
        }
        Surface::Satellites => match router::api(path) {
            Some(Api::V5 | Api::V6) => error.v5_response(),
            _ => (error.status(), error.body()),
        },
    };
    json_response(status, body)
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
