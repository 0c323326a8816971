//! The replicated log on JetStream: one stream, one message per writer group, appended with
//! fencing (`Nats-Expected-Last-Sequence`: refused if anything was appended since the group's
//! base) and made idempotent by `Nats-Msg-Id` (the writer's epoch and the group's base), so that
//! an append retried after a lost acknowledgement is answered as a duplicate, never stored twice.
//! Changes for the writer are forwarded to it by NATS request/reply.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::header::{NATS_EXPECTED_LAST_SEQUENCE, NATS_MESSAGE_ID};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::HeaderMap;
use parking_lot::RwLock;

use crate::sync::replication::{AppendError, BoxFuture, ReplicatedLog};

/// How long an append keeps trying through a stream leader's election (about 5 s when a NATS
/// server dies) before the group is refused as unavailable.
const APPEND_FOR: Duration = Duration::from_secs(15);
/// How long a forwarded change waits for the writer's answer: a group of large pushes.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a forwarded change still unanswered checks that the lease names the same writer.
const WRITER_CHECK_EVERY: Duration = Duration::from_millis(100);

pub struct NatsLog {
    pub(super) client: async_nats::Client,
    pub(super) jetstream: async_nats::jetstream::Context,
    pub(super) stream: String,
    /// The subject the log's messages are published on.
    pub(super) subject: String,
    /// Forwarded changes go to `{forward_prefix}{instance}`.
    pub(super) forward_prefix: String,
    /// The writer's epoch (the revision of the lease it took), part of every message id.
    pub(super) epoch: AtomicU64,
    /// The instance the lease names now, as the lease loop last read it (shared with the
    /// forwarded changes waiting for an answer).
    pub(super) writer: Arc<RwLock<Option<String>>>,
    pub(super) runtime: tokio::runtime::Handle,
}

impl NatsLog {
    /// [`log_stream`] of this log.
    pub(super) async fn stream(&self) -> Result<async_nats::jetstream::stream::Stream, String> {
        log_stream(&self.jetstream, &self.stream).await
    }

    async fn append_async(&self, after: u64, message: Vec<u8>) -> Result<u64, AppendError> {
        let payload = bytes::Bytes::from(message);
        let id = format!("{}.{after}", self.epoch.load(Ordering::Acquire));
        let started = Instant::now();
        loop {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, id.as_str());
            headers.insert(NATS_EXPECTED_LAST_SEQUENCE, after.to_string());
            let sent = self
                .jetstream
                .publish_with_headers(self.subject.clone(), headers, payload.clone())
                .await;
            let outcome = match sent {
                Ok(acknowledgement) => acknowledgement.await,
                Err(error) => Err(error),
            };
            let error = match outcome {
                // A duplicate is this very group, stored by an attempt whose answer was lost.
                Ok(ack) => return Ok(ack.sequence),
                Err(error) => error,
            };
            match error.kind() {
                PublishErrorKind::WrongLastSequence => return Err(AppendError::Fenced),
                // No stream leader (an election), no answer in time, the connection broken:
                // the same message id makes the next attempt safe.
                PublishErrorKind::StreamNotFound
                | PublishErrorKind::TimedOut
                | PublishErrorKind::BrokenPipe
                | PublishErrorKind::MaxAckPending
                    if started.elapsed() < APPEND_FOR =>
                {
                    tracing::debug!(%error, "append to the log failed; trying again");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                _ => return Err(AppendError::Unavailable(error.to_string())),
            }
        }
    }
}

/// The log's stream, with its state as the server answered just now.
pub(super) async fn log_stream(
    jetstream: &async_nats::jetstream::Context,
    name: &str,
) -> Result<async_nats::jetstream::stream::Stream, String> {
    jetstream
        .get_stream(name)
        .await
        .map_err(|error| format!("the log stream {name}: {error}"))
}

impl ReplicatedLog for NatsLog {
    fn append(&self, after: u64, message: Vec<u8>) -> Result<u64, AppendError> {
        self.runtime.block_on(self.append_async(after, message))
    }

    fn max_message(&self) -> usize {
        // The stream's limit counts the subject and the headers too.
        super::MAX_MESSAGE_BYTES - 64 * 1024
    }

    fn last_position(&self) -> BoxFuture<Result<u64, String>> {
        let (jetstream, stream) = (self.jetstream.clone(), self.stream.clone());
        Box::pin(async move { Ok(log_stream(&jetstream, &stream).await?.cached_info().state.last_sequence) })
    }

    fn forward(&self, request: Vec<u8>) -> BoxFuture<Result<Vec<u8>, String>> {
        let named = self.writer.clone();
        let writer = named.read().clone();
        let (client, prefix) = (self.client.clone(), self.forward_prefix.clone());
        Box::pin(async move {
            let writer = writer.ok_or_else(|| "no instance holds the writer's lease".to_string())?;
            let request = async_nats::Request::new()
                .payload(request.into())
                .timeout(Some(FORWARD_TIMEOUT));
            let mut reply = std::pin::pin!(client.send_request(format!("{prefix}{writer}"), request));
            // A writer killed with the change in hand never answers, and nothing tells the
            // sender: it stops waiting once the lease names another instance, or none (the dead
            // writer's lease expired), rather than for the whole FORWARD_TIMEOUT, and the caller
            // sends the change again to the writer it finds. That is what the timeout led to
            // already, sooner: a change the dead writer appended is in the log, and the change
            // sent again is applied as any change sent twice (a push of the same records).
            loop {
                tokio::select! {
                    reply = &mut reply => {
                        let reply = reply.map_err(|error| format!("forwarding to {writer}: {error}"))?;
                        return Ok(reply.payload.to_vec());
                    }
                    () = tokio::time::sleep(WRITER_CHECK_EVERY) => {
                        if named.read().as_deref() != Some(writer.as_str()) {
                            return Err(format!("{writer} lost the writer's lease before answering a forwarded change"));
                        }
                    }
                }
            }
        })
    }
}
