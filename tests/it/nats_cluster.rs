//! The NATS JetStream cluster of issue 17, on a real 3-node cluster (support/nats.rs): the test
//! support itself, and a record of the async-nats behaviours the satsync cluster relies on —
//! fenced appends to the log stream (`Nats-Expected-Last-Sequence`) made idempotent by
//! `Nats-Msg-Id`, large messages, the log's survival of its leader's SIGKILL, the writer lease in
//! a KV bucket, a node's return with its disk, and the object store. Each behaviour is asserted,
//! so an upgrade of the server or of async-nats that changes one fails here first.

use std::time::{Duration, Instant};

use async_nats::header::{NATS_EXPECTED_LAST_SEQUENCE, NATS_MESSAGE_ID, NATS_MESSAGE_TTL};
use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::kv::{CreateErrorKind, UpdateErrorKind};
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::stream::{self, StorageType};
use async_nats::jetstream::{self, ErrorCode};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures_util::StreamExt;

use crate::support::nats::NatsCluster;

/// The deadline of every wait on the cluster (a leader elected, a key expired, a node caught up):
/// far above what they take, so that only a broken behaviour, not a busy machine, fails a test.
const DEADLINE: Duration = Duration::from_secs(30);

/// The log's max_msg_size: JetStream's file store refuses a record (payload, headers, subject and
/// 30 bytes of framing) over 32 MiB whatever max_payload and max_msg_size say (nats-server's
/// `rlBadThresh`, not a setting), so the stream is set to refuse larger messages itself, with a
/// clear error and before they are replicated. Our largest push body (32 MiB) does not fit in one
/// message: see `nats_messages_up_to_32_mib_less_their_headers_fit_in_one_log_message`.
const MAX_MESSAGE: i32 = 32 * 1024 * 1024;

/// A client of the whole cluster (it picks a node and fails over to the others).
async fn connect_all(cluster: &NatsCluster) -> async_nats::Client {
    async_nats::connect(cluster.url_list()).await.unwrap()
}

/// A JetStream context whose requests wait long enough for a Raft group being created on a busy
/// machine (the default 5 s timed out here while other tests ran).
fn context(client: async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new().timeout(DEADLINE).build(client)
}

/// The log stream as the product creates it: file storage, three replicas, messages up to our
/// largest push, the default duplicate window.
/// Waits until the new stream has a leader: a publish before that finds no responder (on a busy
/// machine the election takes seconds).
async fn create_log(cluster: &NatsCluster, js: &jetstream::Context, name: &str) -> stream::Stream {
    let stream = js
        .create_stream(stream::Config {
            name: name.to_string(),
            subjects: vec![format!("{name}.>")],
            num_replicas: 3,
            storage: StorageType::File,
            max_message_size: MAX_MESSAGE,
            ..Default::default()
        })
        .await
        .unwrap();
    cluster
        .wait_stream_leader(name, DEADLINE)
        .await
        .expect("the new stream has a leader");
    stream
}

/// Appends `payload` to the log only if its last sequence is `expected_last`, with `msg_id` as
/// its idempotency key, and waits for the acknowledgement of its storage on a quorum.
async fn append(
    js: &jetstream::Context,
    subject: &str,
    msg_id: &str,
    expected_last: u64,
    payload: Bytes,
) -> Result<PublishAck, PublishError> {
    let mut headers = HeaderMap::new();
    headers.insert(NATS_MESSAGE_ID, msg_id);
    headers.insert(NATS_EXPECTED_LAST_SEQUENCE, expected_last.to_string());
    js.publish_with_headers(subject.to_string(), headers, payload)
        .await?
        .await
}

/// The JetStream API error behind a publish error, if the server sent one.
fn api_error(error: &PublishError) -> Option<&jetstream::Error> {
    std::error::Error::source(error)?.downcast_ref::<jetstream::Error>()
}

/// Bytes that do not compress (a xorshift sequence), so sizes on the wire are what they say.
fn noise(len: usize, seed: u64) -> Bytes {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_fenced_appends_are_refused_on_a_stale_sequence_and_deduplicated_by_msg_id() {
    let cluster = NatsCluster::start(3).await;
    let js = context(connect_all(&cluster).await);
    let mut log = create_log(&cluster, &js, "LOG").await;
    let info = log.info().await.unwrap().clone();
    assert_eq!(info.config.num_replicas, 3);
    assert_eq!(info.config.storage, StorageType::File);
    assert_eq!(
        info.config.duplicate_window,
        Duration::from_secs(120),
        "the default window"
    );
    let replicas = info.cluster.as_ref().unwrap().replicas.len();
    assert_eq!(replicas, 2, "a leader and two followers");

    // An empty stream's last sequence is 0.
    let first = append(&js, "LOG.g1", "g1-1", 0, "one".into()).await.unwrap();
    assert_eq!((first.sequence, first.duplicate), (1, false));
    let second = append(&js, "LOG.g1", "g1-2", 1, "two".into()).await.unwrap();
    assert_eq!((second.sequence, second.duplicate), (2, false));

    // A writer that missed an append (the fencing of a deposed writer) is refused.
    let stale = append(&js, "LOG.g1", "g1-3", 1, "three".into()).await.unwrap_err();
    assert_eq!(stale.kind(), PublishErrorKind::WrongLastSequence, "{stale:?}");
    let code = api_error(&stale).map(jetstream::Error::error_code);
    assert_eq!(code, Some(ErrorCode::STREAM_WRONG_LAST_SEQUENCE), "err_code 10071");

    // The retry of an append whose acknowledgement was lost, headers unchanged (its expected last
    // sequence is stale by now: the append itself moved it): the msg-id check comes first, so the
    // retry is acknowledged as a duplicate of the stored message rather than refused.
    let retry = append(&js, "LOG.g1", "g1-2", 1, "two".into()).await.unwrap();
    assert_eq!((retry.sequence, retry.duplicate), (2, true));
    // The same with the current expected sequence.
    let retry = append(&js, "LOG.g1", "g1-2", 2, "two".into()).await.unwrap();
    assert_eq!((retry.sequence, retry.duplicate), (2, true));
    // A new msg-id on a stale sequence stays refused after all that.
    let stale = append(&js, "LOG.g1", "g1-3", 1, "three".into()).await.unwrap_err();
    assert_eq!(stale.kind(), PublishErrorKind::WrongLastSequence);

    let state = log.info().await.unwrap().state.clone();
    assert_eq!((state.messages, state.last_sequence), (2, 2), "nothing stored twice");
    let stored = log.get_raw_message(2).await.unwrap();
    assert_eq!(stored.payload, "two");
    assert_eq!(stored.headers.get(NATS_MESSAGE_ID).unwrap().as_str(), "g1-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_messages_up_to_32_mib_less_their_headers_fit_in_one_log_message() {
    let cluster = NatsCluster::start(3).await;
    let client = connect_all(&cluster).await;
    // The client learns the server's max_payload (64MB = 67,108,864 bytes) from its INFO, and
    // checks each publish against it: nothing to set on the client's side.
    assert_eq!(client.server_info().max_payload, 64 * 1024 * 1024);
    let js = context(client);
    let log = create_log(&cluster, &js, "BIG").await;

    // 4 MiB, over the server's default max_payload of 1MB; and the largest that fits, with a
    // kilobyte left for the subject, the headers and the file store's framing.
    for (n, size) in [4 * 1024 * 1024, 32 * 1024 * 1024 - 1024].into_iter().enumerate() {
        let payload = noise(size, n as u64 + 7);
        let id = format!("big-{n}");
        let ack = append(&js, "BIG.g1", &id, n as u64, payload.clone()).await.unwrap();
        assert_eq!(ack.sequence, n as u64 + 1);
        let stored = log.get_raw_message(ack.sequence).await.unwrap();
        assert_eq!(stored.payload.len(), size);
        assert!(stored.payload == payload, "the {size}-byte message read back differs");
    }

    // A 32 MiB payload (our largest push body) and its headers: over the stream's max_msg_size.
    let body = noise(32 * 1024 * 1024, 9);
    let refused = append(&js, "BIG.g1", "big-2", 2, body.clone()).await.unwrap_err();
    assert_eq!(refused.kind(), PublishErrorKind::Other, "{refused:?}");
    let code = api_error(&refused).map(jetstream::Error::error_code);
    assert_eq!(code, Some(ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM), "err_code 10054");

    // Without a max_msg_size (the default, unlimited) the file store refuses it itself:
    // "message too large", err_code 10077. The stream stays usable.
    let unlimited = js
        .create_stream(stream::Config {
            name: "HUGE".into(),
            subjects: vec!["HUGE.>".into()],
            num_replicas: 3,
            storage: StorageType::File,
            ..Default::default()
        })
        .await
        .unwrap();
    let refused = append(&js, "HUGE.g1", "huge-1", 0, body).await.unwrap_err();
    assert_eq!(refused.kind(), PublishErrorKind::Other, "{refused:?}");
    let api = api_error(&refused).expect("an API error");
    assert_eq!(
        api.error_code(),
        ErrorCode::STREAM_STORE_FAILED,
        "err_code 10077: {api}"
    );
    assert!(api.to_string().contains("message too large"), "{api}");
    let ack = append(&js, "HUGE.g1", "huge-2", 0, "small".into()).await.unwrap();
    assert_eq!(ack.sequence, 1, "nothing was stored of the refused message");
    assert_eq!(unlimited.get_raw_message(1).await.unwrap().payload, "small");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_the_log_survives_its_leaders_sigkill_and_takes_fenced_appends_again() {
    let mut cluster = NatsCluster::start(3).await;
    let js = context(connect_all(&cluster).await);
    create_log(&cluster, &js, "FAIL").await;
    let acknowledged = 20;
    for n in 1..=acknowledged {
        let ack = append(&js, "FAIL.g1", &format!("m{n}"), n - 1, format!("record {n}").into())
            .await
            .unwrap();
        assert_eq!(ack.sequence, n);
    }
    let leader = cluster
        .wait_stream_leader("FAIL", DEADLINE)
        .await
        .expect("a stream leader");
    drop(js);

    let killed_at = Instant::now();
    cluster.kill(leader);
    let survivor = (leader + 1) % cluster.len();
    let client = async_nats::connect(cluster.url(survivor)).await.unwrap();
    // Short API time-outs, so that a publish sent while no leader is elected fails soon and is
    // retried. Each retry carries the same msg-id and expected sequence, so an attempt that was
    // stored but whose acknowledgement was lost comes back as a duplicate, not a second copy.
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(client);
    // What the attempts failed with while the group had no leader, and how often. (While no
    // replica leads, nothing answers the publish: async-nats reports the "no responders" status as
    // StreamNotFound, so to a writer that knows its stream exists, that kind is transient.)
    let mut failures: std::collections::BTreeMap<String, usize> = Default::default();
    let ack = loop {
        match append(&js, "FAIL.g1", "m21", acknowledged, "record 21".into()).await {
            Ok(ack) => break ack,
            Err(error) => {
                *failures.entry(format!("{:?}", error.kind())).or_default() += 1;
                assert!(
                    killed_at.elapsed() < DEADLINE,
                    "no append within {DEADLINE:?}: {failures:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let failover = killed_at.elapsed();
    assert_eq!(ack.sequence, acknowledged + 1);
    let new_leader = cluster
        .wait_stream_leader("FAIL", DEADLINE)
        .await
        .expect("a new leader");
    assert_ne!(new_leader, leader);
    eprintln!(
        "failover: the append after the leader n{leader}'s SIGKILL acknowledged after {failover:?} \
         (failed attempts: {failures:?}); n{new_leader} leads"
    );

    // The whole log replayed from the survivor by an ordered consumer, as a node catching up
    // reads it: every acknowledged append, in order, once. (Through a context with the long
    // time-out: just after an election a busy machine answers the consumer's creation late.)
    let replay = context(async_nats::connect(cluster.url(survivor)).await.unwrap());
    let stream = replay.get_stream("FAIL").await.unwrap();
    // Just after an election the new leader may not take a consumer yet, and a request lost in
    // it is never answered: each attempt is given 5 s, and asked again until twice the deadline
    // (one attempt alone failed CI on a machine busy with failover runs).
    let started = Instant::now();
    let consumer = loop {
        let attempt = tokio::time::timeout(
            Duration::from_secs(5),
            stream.create_consumer(jetstream::consumer::pull::OrderedConfig::default()),
        )
        .await;
        match attempt {
            Ok(Ok(consumer)) => break consumer,
            Ok(Err(error)) => assert!(started.elapsed() < 2 * DEADLINE, "no consumer: {error}"),
            Err(_) => assert!(started.elapsed() < 2 * DEADLINE, "no consumer: every attempt timed out"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut messages = consumer.messages().await.unwrap();
    for n in 1..=acknowledged + 1 {
        let message = tokio::time::timeout(DEADLINE, messages.next())
            .await
            .expect("the replay stalled")
            .unwrap()
            .unwrap();
        assert_eq!(message.info().unwrap().stream_sequence, n);
        assert_eq!(message.payload, format!("record {n}"));
        assert_eq!(
            message.headers.as_ref().unwrap().get(NATS_MESSAGE_ID).unwrap().as_str(),
            format!("m{n}")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_the_kv_writer_lease_is_taken_once_and_updated_only_at_its_revision() {
    let cluster = NatsCluster::start(3).await;
    let js = context(connect_all(&cluster).await);
    let lease = js
        .create_key_value(jetstream::kv::Config {
            bucket: "lease".into(),
            history: 1,
            num_replicas: 3,
            storage: StorageType::File,
            ..Default::default()
        })
        .await
        .unwrap();

    let taken = lease.create("writer", "node-a".into()).await.unwrap();
    let second = lease.create("writer", "node-b".into()).await.unwrap_err();
    assert_eq!(second.kind(), CreateErrorKind::AlreadyExists);

    let renewed = lease.update("writer", "node-a".into(), taken).await.unwrap();
    assert!(renewed > taken);
    let stale = lease.update("writer", "node-b".into(), taken).await.unwrap_err();
    assert_eq!(stale.kind(), UpdateErrorKind::WrongLastRevision);
    let entry = lease.entry("writer").await.unwrap().unwrap();
    assert_eq!(entry.value, "node-a");
    assert_eq!(entry.revision, renewed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_a_lease_that_is_not_renewed_expires_by_bucket_max_age_or_per_key_ttl() {
    let cluster = NatsCluster::start(3).await;
    let js = context(connect_all(&cluster).await);
    let ttl = Duration::from_secs(2);

    // 1. The bucket's max_age: each write is a new message, so renewing (update) restarts the
    // clock, and a key not written for max_age is removed.
    let aged = js
        .create_key_value(jetstream::kv::Config {
            bucket: "lease_aged".into(),
            history: 1,
            num_replicas: 3,
            max_age: ttl,
            ..Default::default()
        })
        .await
        .unwrap();
    let written = Instant::now();
    aged.create("writer", "node-a".into()).await.unwrap();
    assert!(aged.get("writer").await.unwrap().is_some());
    let expired = wait_until_gone(&aged, "writer").await;
    assert!(expired >= ttl, "gone after {expired:?}, before max_age");
    eprintln!(
        "KV max_age {ttl:?}: the key was gone {:?} after its write",
        written.elapsed()
    );
    aged.create("writer", "node-b".into())
        .await
        .expect("the expired lease is free again");

    // 2. A TTL per key (server 2.11+: the bucket's limit_markers sets allow_msg_ttl and the TTL
    // of the delete marker left when a key expires). async-nats has create_with_ttl but no
    // update with a TTL: a renewal that must keep a TTL publishes on the key's subject itself,
    // with Nats-TTL and the expected revision.
    let keyed = js
        .create_key_value(jetstream::kv::Config {
            bucket: "lease_ttl".into(),
            history: 1,
            num_replicas: 3,
            limit_markers: Some(Duration::from_secs(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    let stream = js.get_stream("KV_lease_ttl").await.unwrap();
    assert!(
        stream.cached_info().config.allow_message_ttl,
        "limit_markers turns on allow_msg_ttl"
    );
    let taken = keyed.create_with_ttl("writer", "node-a".into(), ttl).await.unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Expected-Last-Subject-Sequence", taken.to_string());
    headers.insert(NATS_MESSAGE_TTL, "2s");
    let renewal = js
        .publish_with_headers("$KV.lease_ttl.writer", headers, "node-a".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let renewed_at = Instant::now();
    assert!(renewal.sequence > taken);
    let entry = keyed.entry("writer").await.unwrap().unwrap();
    assert_eq!(entry.revision, renewal.sequence, "the renewal is the key's revision");
    let expired = wait_until_gone(&keyed, "writer").await;
    assert!(expired >= ttl - Duration::from_millis(100), "gone after {expired:?}");
    eprintln!(
        "KV per-key TTL {ttl:?}: the renewed key was gone {:?} after its renewal",
        renewed_at.elapsed()
    );
    keyed
        .create("writer", "node-b".into())
        .await
        .expect("the expired lease is free again");
}

/// Polls `key` until it has no value; returns how long that took.
async fn wait_until_gone(bucket: &jetstream::kv::Store, key: &str) -> Duration {
    let start = Instant::now();
    while bucket.get(key).await.unwrap().is_some() {
        assert!(start.elapsed() < DEADLINE, "{key} still there after {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_a_killed_node_restarted_on_its_disk_catches_up_and_the_stream_is_r3_again() {
    let mut cluster = NatsCluster::start(3).await;
    let js = context(connect_all(&cluster).await);
    let mut log = create_log(&cluster, &js, "BACK").await;
    for n in 1..=10 {
        append(&js, "BACK.g1", &format!("m{n}"), n - 1, format!("record {n}").into())
            .await
            .unwrap();
    }
    // A follower: the stream keeps its leader and a quorum of two while it is down.
    let leader = cluster
        .wait_stream_leader("BACK", DEADLINE)
        .await
        .expect("a stream leader");
    let down = (leader + 1) % cluster.len();
    assert_eq!(cluster.stream_state(down, "BACK").await, Some((10, 10)));
    cluster.kill(down);
    for n in 11..=20 {
        append(&js, "BACK.g1", &format!("m{n}"), n - 1, format!("record {n}").into())
            .await
            .unwrap();
    }
    let restarted_at = Instant::now();
    cluster.restart(down).await;
    let healthy = restarted_at.elapsed();

    // Every replica current again, as the leader reports them.
    loop {
        let info = log.info().await.unwrap();
        let replicas = &info.cluster.as_ref().unwrap().replicas;
        if replicas.len() == 2 && replicas.iter().all(|peer| peer.current && !peer.offline) {
            break;
        }
        assert!(restarted_at.elapsed() < DEADLINE, "replicas not current: {replicas:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "restart: n{down} healthy {healthy:?} after its start, all replicas current after {:?}",
        restarted_at.elapsed()
    );
    // On the restarted node's own disk: what it had, and what it missed while down.
    assert_eq!(cluster.stream_state(down, "BACK").await, Some((20, 20)));
    let client = async_nats::connect(cluster.url(down)).await.unwrap();
    let stream = context(client).get_stream("BACK").await.unwrap();
    assert_eq!(stream.get_raw_message(20).await.unwrap().payload, "record 20");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_a_20_mib_object_is_stored_in_an_r3_object_store_and_read_back() {
    use tokio::io::AsyncReadExt;
    let cluster = NatsCluster::start(3).await;
    let js = context(connect_all(&cluster).await);
    let bucket = js
        .create_object_store(jetstream::object_store::Config {
            bucket: "snapshots".into(),
            num_replicas: 3,
            storage: StorageType::File,
            ..Default::default()
        })
        .await
        .unwrap();
    let size = 20 * 1024 * 1024;
    let data = noise(size, 42);
    let info = bucket.put("snapshot-1", &mut data.as_ref()).await.unwrap();
    assert_eq!(info.size, size);
    // Stored in chunks of 128 KiB, each a message of the bucket's stream.
    assert_eq!(info.chunks, size / (128 * 1024));
    let mut object = bucket.get("snapshot-1").await.unwrap();
    let mut read = Vec::with_capacity(size);
    object.read_to_end(&mut read).await.unwrap();
    assert_eq!(read.len(), size);
    assert!(read == data, "the object read back differs");
}
