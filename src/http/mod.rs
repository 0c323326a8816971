//! The hyper server: accepts connections (bounded), reads requests with a body limit, routes them
//! through the one route table to the API handlers, and turns errors into responses through the
//! one error table. No business rule lives here.

pub mod auth;
pub mod error;
pub mod priority;
pub mod router;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::api::v2::RecordFormat;
use crate::primary::{Primary, ServeError};
use error::ApiError;

/// A client has this long to send a request's headers (slow or stalled clients are dropped).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// One request as the handlers see it.
pub struct Call {
    pub method: http::Method,
    /// The request's path, for the handlers that serve several API versions.
    pub path: String,
    pub headers: http::HeaderMap,
    pub query: HashMap<String, String>,
    body: Incoming,
    body_limit: usize,
}

impl Call {
    /// The body, refused with 413 past the configured limit. An oversized body is still read
    /// (and dropped) up to a bound, so that the client, which is still sending it, reads the 413
    /// instead of a reset connection; past that bound the connection is cut.
    pub async fn body(self) -> Result<Vec<u8>, ApiError> {
        let limit = self.body_limit;
        let drain_bound = limit.saturating_mul(4).max(1 << 20);
        let declared = self
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > drain_bound) {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let mut body = self.body;
        let mut kept = Vec::with_capacity(declared.unwrap_or(0).min(limit));
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen <= limit {
                    kept.extend_from_slice(&data);
                } else if seen > drain_bound {
                    break;
                }
            }
        }
        if seen > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        Ok(kept)
    }
}

/// Serves `primary` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn run(
    primary: Arc<Primary>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let connections = Arc::new(Semaphore::new(primary.config.server.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let primary = primary.clone();
        let service = service_fn(move |request| {
            let primary = primary.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(&primary, request).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    graceful.shutdown().await;
    Ok(())
}

async fn handle(primary: &Arc<Primary>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    if let Some(rest) = path.strip_prefix(primary.config.patient.base_path.as_str()) {
        if rest.is_empty() || rest.starts_with('/') {
            let call = call_of(primary, request);
            let (status, body) = crate::api::patient::handle(primary, rest, call).await;
            return json_response(status, body);
        }
    }
    let result = match router::route(&path) {
        None => Err(ApiError::NotFound(path.clone())),
        Some((api, endpoint)) => {
            let call = call_of(primary, request);
            match api {
                router::Api::V1 => crate::api::v2::handle(primary, RecordFormat::Numbered, endpoint, call).await,
                router::Api::V2 => crate::api::v2::handle(primary, RecordFormat::Named, endpoint, call).await,
                router::Api::V4 => crate::api::v4::handle(primary, endpoint, call).await,
                router::Api::V5 => crate::api::v5::handle(primary, endpoint, call).await,
                router::Api::V6 => crate::api::v6::handle(primary, endpoint, call).await,
            }
        }
    };
    match (result, router::api(&path)) {
        (Ok(body), _) => json_response(StatusCode::OK, body),
        (Err(error), Some(router::Api::V5 | router::Api::V6)) => {
            let (status, body) = error.v5_response();
            json_response(status, body)
        }
        (Err(error), _) => json_response(error.status(), error.body()),
    }
}

/// The request as the handlers see it: method, headers, decoded query, and the unread body.
fn call_of(primary: &Primary, request: Request<Incoming>) -> Call {
    let query = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let path = request.uri().path().to_string();
    let (parts, body) = request.into_parts();
    Call {
        method: parts.method,
        path,
        headers: parts.headers,
        query,
        body,
        body_limit: primary.config.limits.max_body_bytes,
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
