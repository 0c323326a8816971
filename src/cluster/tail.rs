//! The replica's tail: an ordered consumer of the log from the group after the last one this
//! database applied, each group handed to the sync engine's writer thread, which applies it as the
//! writer did and records its position in the same batch. The consumer is made again after any
//! failure (a NATS server lost, a gap, a consumer that stopped delivering while the log holds
//! more), from the position applied then.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use futures_util::StreamExt;

use super::Cluster;
use crate::sync::SyncEngine;

/// The longest a pull of the tail's consumer waits on the server (its idle heartbeat is half).
const TAIL_PULL_EXPIRES: Duration = Duration::from_secs(2);
/// How long the tail waits for the consumer's next group before it asks the stream whether this
/// replica is behind. async-nats (0.52) does not always notice that an ordered consumer died with
/// its NATS server: after a missed heartbeat nothing wakes the stream again, and after a
/// reconnect it asks for the dead consumer's info six times (5 s each, 15 s of back-off) before
/// it gives up, reading nothing meanwhile. `loadtest failover` saw this replica stall for 45 s,
/// and every request on its instance wait with it.
const TAIL_STALL_CHECK: Duration = Duration::from_secs(3);

pub async fn run<P: AsRef<SyncEngine> + Send + Sync + 'static>(cluster: Arc<Cluster>, primary: Arc<P>) {
    let engine = (*primary).as_ref();
    let Some(replication) = engine.replication().cloned() else {
        return;
    };
    loop {
        match follow(&cluster, engine, replication.applied() + 1).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, applied = replication.applied(), "reading the log; starting again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Applies the log from `start` on; returns `Ok` only when the engine stopped.
async fn follow(cluster: &Cluster, engine: &SyncEngine, start: u64) -> Result<(), String> {
    let log = &cluster.log;
    let stream = log.stream().await?;
    if stream.cached_info().state.last_sequence < start {
        // Nothing to read yet: this replica holds the whole log.
        note_behind(cluster, 0);
    }
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: start },
            // The consumer is an R1 ephemeral on one NATS node; when that node dies the client
            // learns it from missed idle heartbeats, when it does (see TAIL_STALL_CHECK).
            // async-nats's defaults (pulls expiring after 30 s, heartbeats every 15 s) left this
            // replica applying nothing, and every read here waiting, for about 30 s; pulls that
            // expire after 2 s bring heartbeats every second.
            max_expires: TAIL_PULL_EXPIRES,
            ..Default::default()
        })
        .await
        .map_err(|error| error.to_string())?;
    let mut messages = consumer.messages().await.map_err(|error| error.to_string())?;
    loop {
        let message = match tokio::time::timeout(TAIL_STALL_CHECK, messages.next()).await {
            Ok(Some(message)) => message.map_err(|error| error.to_string())?,
            Ok(None) => return Err("the log's consumer ended".into()),
            Err(_) => {
                // Nothing delivered for a while: the log is idle, or the consumer died with its
                // NATS server. When the log holds groups this replica has not applied, a new
                // consumer (the caller's loop, from the position applied) reads them.
                let last = log.stream().await?.cached_info().state.last_sequence;
                let applied = engine.replication().map_or(0, |replication| replication.applied());
                if last > applied {
                    return Err(format!(
                        "the log's consumer delivered nothing for {TAIL_STALL_CHECK:?}; the log holds {last}, this replica applied {applied}"
                    ));
                }
                continue;
            }
        };
        let (position, pending) = {
            let info = message.info().map_err(|error| error.to_string())?;
            (info.stream_sequence, info.pending)
        };
        if engine.replicated(position, message.payload.to_vec()).await.is_err() {
            // The writer stopped: the process is ending, or this replica cannot follow (logged).
            return Ok(());
        }
        note_behind(cluster, pending);
    }
}

fn note_behind(cluster: &Cluster, pending: u64) {
    cluster.behind.store(pending, Ordering::Release);
    if pending == 0 {
        cluster.tail_reached_end.store(true, Ordering::Release);
    }
}
