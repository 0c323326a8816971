//! The writer thread: the only place that changes the log, the queues and the directory, and the
//! only holder of the database's [`WriteRight`]: patient sync's changes come here to be written
//! too.
//!
//! It takes every command waiting (up to a bound), applies them in order to one [`Group`], writes
//! the group with one synced RocksDB write, updates the in-memory state under the write lock, and
//! only then replies. Concurrent pushes therefore share one fsync, and a reply always means
//! durable. Entries superseded by a group are deleted by the next group, once no reader can still
//! be reading them.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

use super::activity::Activity;
use super::dump_progress::{unix_seconds_now, DumpProgress};
use super::group::{Group, GroupOutcome, IndexOp};
use super::push::{apply_push, PushOutcome};
use super::queue_view::{acknowledge, QueueView};
use super::replication::{AppendError, Replication};
use super::site_queue::{ClientKind, DumpState, OutgoingId};
use super::write_op::{decode_answer, decode_group, encode_forwarded, Answer, GroupMessage, WriteOp};
use super::writer_stats::WriterStats;
use super::{Catalogues, DirectoryPlan, Result, SyncError, SyncState};
use crate::domain::directory::DirectoryChange;
use crate::domain::ids::SiteId;
use crate::domain::record::PushedRecord;
use crate::store::{DirectoryWrites, LogWrites, PatientWrites, StoreError, SyncStorage, WriteRight};

/// Commands waiting beyond this make senders wait (back-pressure on pushes).
const QUEUE_BOUND: usize = 1024;
/// Most commands written in one group.
const GROUP_MAX: usize = 256;
/// In a cluster, a group takes no more pushes once they hold this many bytes of rows: its
/// message must fit in the log (32 MiB), and one push is always one group at most.
const CLUSTER_GROUP_BYTES: usize = 8 * 1024 * 1024;

enum Command {
    /// A change, and where its answer goes.
    Op { op: WriteOp, reply: ReplyTo },
    /// An operator's act on the directory, decided against the directory as the group leaves it.
    Plan {
        plan: DirectoryPlan,
        reply: oneshot::Sender<Result<Vec<DirectoryChange>>>,
    },
    /// A group the cluster's writer put in the log at `position`, for this replica to apply.
    Replicated { position: u64, message: Vec<u8> },
    /// Finish the commands sent before this one, then end. Sent by [`WriterHandle::stop`]:
    /// waiting for the channel to close instead would wait on every request still holding a
    /// sender, and a request suspended on the thread that stops never lets go of it.
    Stop,
}

/// Where a command's answer goes, sent after the commit.
pub enum ReplyTo {
    Push(oneshot::Sender<Result<PushOutcome>>),
    Done(oneshot::Sender<Result<()>>),
    Directory(oneshot::Sender<Result<Vec<DirectoryChange>>>),
    /// A command another instance forwarded: the answer with its group's log position.
    Forwarded(oneshot::Sender<(Answer, u64)>),
}

pub struct WriterHandle {
    sender: Mutex<Option<mpsc::Sender<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    replication: Option<Arc<Replication>>,
}

/// What the writer works with: the storage it alone commits to, the state it alone changes.
pub struct WriterParts<S: SyncStorage> {
    pub storage: Arc<S>,
    pub right: WriteRight,
    pub state: Arc<RwLock<SyncState>>,
    pub catalogues: Arc<Catalogues>,
    pub next_seq: u64,
    pub activity: Arc<Activity>,
    pub stats: Arc<WriterStats>,
    /// In a cluster: the log each group goes through, and the replica's place in it.
    pub replication: Option<Arc<Replication>>,
}

/// Starts the writer thread, which takes the database's write right with it.
pub fn start<S: SyncStorage>(parts: WriterParts<S>) -> WriterHandle {
    let (sender, receiver) = mpsc::channel(QUEUE_BOUND);
    let replication = parts.replication.clone();
    let thread = std::thread::Builder::new()
        .name("satsync-writer".into())
        .spawn(move || {
            let shared = Shared {
                state: &parts.state,
                catalogues: &parts.catalogues,
                activity: &parts.activity,
                stats: &parts.stats,
                replication: parts.replication.as_deref(),
            };
            run(receiver, &*parts.storage, &parts.right, shared, parts.next_seq)
        })
        .expect("spawning the writer thread");
    WriterHandle {
        sender: Mutex::new(Some(sender)),
        thread: Mutex::new(Some(thread)),
        replication,
    }
}

impl WriterHandle {
    async fn send_local(&self, command: Command) -> Result<()> {
        let sender = self.sender.lock().clone().ok_or(SyncError::WriterStopped)?;
        sender.send(command).await.map_err(|_| SyncError::WriterStopped)
    }

    /// Applies `op` through this instance's writer, or in a cluster through the instance that is
    /// the writer now; in both cases answered once this replica has applied it.
    async fn apply(&self, op: WriteOp) -> Result<Answer> {
        let Some(replication) = &self.replication else {
            return self.apply_here(op).await;
        };
        let deadline = tokio::time::Instant::now() + replication.find_writer_for();
        loop {
            let answer = if replication.is_writer() {
                self.apply_here(op.clone()).await?
            } else {
                match replication.log().forward(encode_forwarded(&op)).await {
                    Ok(reply) => {
                        let (answer, position) = decode_answer(&reply).map_err(SyncError::Invalid)?;
                        replication.applied_up_to(position).await;
                        answer
                    }
                    Err(unreachable) => {
                        tracing::debug!(%unreachable, "no writer answered a forwarded change");
                        Answer::Done(Err(SyncError::NotWriter))
                    }
                }
            };
            let not_writer = matches!(
                answer,
                Answer::Push(Err(SyncError::NotWriter))
                    | Answer::Done(Err(SyncError::NotWriter))
                    | Answer::Directory(Err(SyncError::NotWriter))
            );
            if !not_writer || tokio::time::Instant::now() >= deadline {
                return Ok(answer);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Applies `op` through this instance's own writer thread.
    async fn apply_here(&self, op: WriteOp) -> Result<Answer> {
        let (answer, _) = self.apply_here_at(op).await?;
        Ok(answer)
    }

    /// [`WriterHandle::apply_here`], with the log position of the group that holds the change.
    async fn apply_here_at(&self, op: WriteOp) -> Result<(Answer, u64)> {
        let (reply, answer) = oneshot::channel();
        self.send_local(Command::Op {
            op,
            reply: ReplyTo::Forwarded(reply),
        })
        .await?;
        answer.await.map_err(|_| SyncError::WriterStopped)
    }

    /// Applies a command another instance forwarded to this one, the cluster's writer: its
    /// answer and the log position of its group. Refused when this instance is not the writer.
    pub async fn apply_forwarded(&self, op: WriteOp) -> (Answer, u64) {
        if !self.replication.as_ref().is_some_and(|r| r.is_writer()) {
            return (Answer::Done(Err(SyncError::NotWriter)), 0);
        }
        self.apply_here_at(op)
            .await
            .unwrap_or_else(|error| (Answer::Done(Err(error)), 0))
    }

    /// Hands a group of the replicated log to the writer thread, which applies them in order.
    pub async fn replicated(&self, position: u64, message: Vec<u8>) -> Result<()> {
        self.send_local(Command::Replicated { position, message }).await
    }

    /// Sends `op` and waits for its typed answer. Without a cluster the answer comes straight
    /// back on its own channel, as it always did (nothing is encoded, nothing cloned).
    async fn send_typed<T>(
        &self,
        op: WriteOp,
        local: impl FnOnce(oneshot::Sender<Result<T>>) -> ReplyTo,
        typed: impl FnOnce(Answer) -> Option<Result<T>>,
    ) -> Result<T> {
        if self.replication.is_none() {
            let (reply, answer) = oneshot::channel();
            self.send_local(Command::Op {
                op,
                reply: local(reply),
            })
            .await?;
            return answer.await.map_err(|_| SyncError::WriterStopped)?;
        }
        let answer = self.apply(op).await?;
        match answer {
            Answer::Done(Err(error)) | Answer::Push(Err(error)) | Answer::Directory(Err(error)) => Err(error),
            other => typed(other).unwrap_or_else(|| Err(SyncError::Invalid("the writer answered another kind".into()))),
        }
    }

    async fn done(&self, op: WriteOp) -> Result<()> {
        self.send_typed(op, ReplyTo::Done, |answer| match answer {
            Answer::Done(result) => Some(result),
            _ => None,
        })
        .await
    }

    pub async fn push(&self, site: SiteId, records: Vec<PushedRecord>) -> Result<PushOutcome> {
        self.send_typed(WriteOp::Push { site, records }, ReplyTo::Push, |answer| match answer {
            Answer::Push(result) => Some(result),
            _ => None,
        })
        .await
    }

    pub async fn acknowledge(&self, site: SiteId, ids: Vec<OutgoingId>) -> Result<()> {
        self.done(WriteOp::Acknowledge { site, ids }).await
    }

    pub async fn initial_dump(&self, site: SiteId, mobile_only: bool, client: ClientKind) -> Result<()> {
        self.done(WriteOp::InitialDump {
            site,
            mobile_only,
            client,
        })
        .await
    }

    pub async fn set_client(&self, site: SiteId, client: ClientKind) -> Result<()> {
        self.done(WriteOp::SetClient { site, client }).await
    }

    pub async fn skip(&self, site: SiteId, id: OutgoingId, log_entry: String, at_micros: u64) -> Result<()> {
        self.done(WriteOp::Skip {
            site,
            id,
            log_entry,
            at_micros,
        })
        .await
    }

    /// Writes patient sync's changes with the next group, blocking this thread until they are
    /// durable: for the patient writer, a plain thread outside the async runtime.
    pub fn patient_writes_blocking(&self, writes: PatientWrites) -> Result<()> {
        let op = WriteOp::PatientWrites { writes };
        if let Some(replication) = &self.replication {
            return replication.runtime().block_on(self.done(op));
        }
        let sender = self.sender.lock().clone().ok_or(SyncError::WriterStopped)?;
        let (reply, answer) = oneshot::channel();
        sender
            .blocking_send(Command::Op {
                op,
                reply: ReplyTo::Done(reply),
            })
            .map_err(|_| SyncError::WriterStopped)?;
        answer.blocking_recv().map_err(|_| SyncError::WriterStopped)?
    }

    pub async fn put_health(&self, changed: Vec<(SiteId, Vec<u8>)>) -> Result<()> {
        self.done(WriteOp::Health { changed }).await
    }

    /// Carries out an operator's act. In a cluster, an instance that is not the writer decides
    /// the act against its own replica, caught up with the log first, and sends the changes.
    pub async fn change_directory(
        &self,
        plan: DirectoryPlan,
        state: &RwLock<SyncState>,
    ) -> Result<Vec<DirectoryChange>> {
        if let Some(replication) = self.replication.as_ref().filter(|r| !r.is_writer()) {
            replication.caught_up().await.map_err(|_| SyncError::NotWriter)?;
            let changes = plan(&state.read().directory).map_err(SyncError::Invalid)?;
            return self
                .send_typed(
                    WriteOp::ChangeDirectory { changes },
                    ReplyTo::Directory,
                    |answer| match answer {
                        Answer::Directory(result) => Some(result),
                        _ => None,
                    },
                )
                .await;
        }
        let (reply, answer) = oneshot::channel();
        self.send_local(Command::Plan { plan, reply }).await?;
        answer.await.map_err(|_| SyncError::WriterStopped)?
    }

    pub async fn bind_hardware(&self, site: SiteId, hardware_id: String) -> Result<()> {
        self.done(WriteOp::BindHardware { site, hardware_id }).await
    }

    /// Whether the writer takes commands: not stopped, and its thread still running (a thread
    /// that panicked has ended).
    pub fn is_alive(&self) -> bool {
        self.sender.lock().is_some() && self.thread.lock().as_ref().is_some_and(|thread| !thread.is_finished())
    }

    /// Refuses new commands, tells the writer to stop after what it already has, and waits for
    /// it. Requests sent after the stop get [`SyncError::WriterStopped`].
    pub fn stop(&self) {
        if let Some(sender) = self.sender.lock().take() {
            let mut stop = Command::Stop;
            // The writer drains the queue on its own thread, so a full queue frees up whatever
            // this thread is doing; `blocking_send` would refuse to run inside a runtime.
            while let Err(mpsc::error::TrySendError::Full(back)) = sender.try_send(stop) {
                stop = back;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
    }
}

/// What the writer shares with the engine.
struct Shared<'a> {
    state: &'a RwLock<SyncState>,
    catalogues: &'a Catalogues,
    activity: &'a Activity,
    stats: &'a WriterStats,
    replication: Option<&'a Replication>,
}

/// Where the writer is in the log and what the next group deletes.
struct Cursor {
    next_seq: u64,
    to_delete: Vec<u64>,
}

fn run<S: SyncStorage>(
    mut receiver: mpsc::Receiver<Command>,
    storage: &S,
    right: &WriteRight,
    shared: Shared<'_>,
    next_seq: u64,
) {
    let mut cursor = Cursor {
        next_seq,
        to_delete: Vec::new(),
    };
    let mut carried: Option<Command> = None;
    let mut stopping = false;
    while !stopping {
        let Some(first) = carried.take().or_else(|| receiver.blocking_recv()) else {
            break;
        };
        if let Command::Replicated { position, message } = first {
            if let Err(error) = apply_replicated(storage, right, &shared, &mut cursor, position, &message) {
                // The replica cannot follow the log any more: it stops taking changes, and
                // readiness says so, rather than serve a state that diverges from the others.
                tracing::error!(%error, position, "this replica cannot apply the log; its writer stops");
                break;
            }
            continue;
        }
        let mut commands = Vec::new();
        let mut bytes = 0;
        let group_bytes = match shared.replication {
            Some(_) => CLUSTER_GROUP_BYTES,
            None => usize::MAX,
        };
        let mut next = Some(first);
        while let Some(command) = next {
            match command {
                Command::Stop => {
                    stopping = true;
                    break;
                }
                Command::Replicated { .. } => {
                    carried = Some(command);
                    break;
                }
                command => {
                    bytes += pushed_bytes(&command);
                    commands.push(command);
                }
            }
            let room = commands.len() < GROUP_MAX && bytes < group_bytes;
            next = room.then(|| receiver.try_recv().ok()).flatten();
        }
        if !commands.is_empty() && !write_group(storage, right, &shared, &mut cursor, commands) {
            break;
        }
    }
}

/// The bytes of rows a command carries (pushes only: the rest are small).
fn pushed_bytes(command: &Command) -> usize {
    match command {
        Command::Op {
            op: WriteOp::Push { records, .. },
            ..
        } => records.iter().map(|r| r.record.data.len() + 64).sum(),
        _ => 0,
    }
}

/// Applies local commands as one group, appends it to the cluster's log when there is one,
/// commits it, updates memory and answers. Returns false when the writer must stop: the log has a
/// group this database could not commit.
fn write_group<S: SyncStorage>(
    storage: &S,
    right: &WriteRight,
    shared: &Shared<'_>,
    cursor: &mut Cursor,
    commands: Vec<Command>,
) -> bool {
    let now = unix_seconds_now();
    let guard = shared.state.read();
    let mut group = Group::new(storage, &guard, cursor.next_seq, now);
    let commands_in_group = commands.len();
    let mut message = shared.replication.map(|_| GroupMessage::new(now, commands_in_group));
    let replies: Vec<(ReplyTo, Answer)> = commands
        .into_iter()
        .map(|command| apply_command(&mut group, shared.catalogues, command, message.as_mut()))
        .collect();
    // A push that failed to read storage may have left part of its writes in the batch: the
    // whole group is dropped rather than committed half-applied. (A push refused for what it
    // holds wrote nothing.)
    let read_failure = replies.iter().find_map(|(_, answer)| match answer {
        Answer::Push(Err(SyncError::BadRecord(_))) => None,
        Answer::Push(Err(SyncError::Storage(cause))) => Some(SyncError::GroupFailed(cause.clone())),
        Answer::Push(Err(other)) => Some(SyncError::GroupFailed(StoreError::WriteFailed(other.to_string()))),
        _ => None,
    });
    let (batch, outcome) = close_group(group, &cursor.to_delete);
    let mut position = 0;
    let mut published = false;
    let committed = match (read_failure, shared.replication, message) {
        (Some(failure), _, _) => {
            drop(batch);
            Err(failure)
        }
        (None, Some(replication), Some(message)) => match append(replication, message) {
            Ok(appended) => {
                position = appended;
                published = true;
                let mut batch = batch;
                batch.put_log_position(position);
                commit(storage, right, shared, batch, commands_in_group)
            }
            Err(refused) => {
                drop(batch);
                Err(refused)
            }
        },
        (None, _, _) => commit(storage, right, shared, batch, commands_in_group),
    };
    drop(guard);
    match committed {
        Ok(()) => {
            let patient_changes = apply_outcome(shared.state, cursor, outcome);
            if let Some(replication) = shared.replication {
                note_applied(replication, position, patient_changes);
            }
            replies
                .into_iter()
                .for_each(|(reply, answer)| send_reply(reply, answer, position));
            true
        }
        Err(error) => {
            // Logged here, once for the group; its callers' errors say it was.
            tracing::error!(%error, commands = replies.len(), "group write failed; nothing of it was applied");
            for (reply, _) in replies {
                send_reply(reply, failed_answer(&error), position);
            }
            // A group in the log but not in this database: this replica no longer follows it.
            !published
        }
    }
}

/// Appends a group's message to the log, as the writer: refused without trying when this
/// instance no longer holds the lease, and fenced by the log when another instance wrote since.
fn append(replication: &Replication, message: GroupMessage) -> Result<u64> {
    if !replication.is_writer() {
        return Err(SyncError::NotWriter);
    }
    let message = message.finish();
    let limit = replication.log().max_message();
    if message.len() > limit {
        return Err(SyncError::Invalid(format!(
            "the change encodes to {} bytes, over the {limit} a message of the cluster's log may hold: push fewer records at a time",
            message.len()
        )));
    }
    replication
        .log()
        .append(replication.applied(), message)
        .map_err(|refused| match refused {
            AppendError::Fenced => SyncError::NotWriter,
            AppendError::Unavailable(cause) => SyncError::GroupFailed(StoreError::WriteFailed(cause)),
        })
}

fn commit<S: SyncStorage>(
    storage: &S,
    right: &WriteRight,
    shared: &Shared<'_>,
    batch: S::Batch<'_>,
    commands: usize,
) -> Result<()> {
    let started = std::time::Instant::now();
    let committed = storage.commit(right, batch);
    let micros = started.elapsed().as_micros() as u64;
    shared.activity.committed(micros);
    if committed.is_ok() {
        shared.stats.committed(commands, micros);
    }
    committed.map_err(SyncError::GroupFailed)
}

/// Applies a group of the log that another instance wrote, as that writer applied it.
fn apply_replicated<S: SyncStorage>(
    storage: &S,
    right: &WriteRight,
    shared: &Shared<'_>,
    cursor: &mut Cursor,
    position: u64,
    message: &[u8],
) -> std::result::Result<(), String> {
    let Some(replication) = shared.replication else {
        return Err("a replicated group on a primary that is not clustered".into());
    };
    let applied = replication.applied();
    if position <= applied {
        // This instance wrote it, or applied it before a restart.
        return Ok(());
    }
    if position != applied + 1 {
        return Err(format!("the log skips from {applied} to {position}"));
    }
    let decoded = decode_group(message)?;
    let guard = shared.state.read();
    let mut group = Group::new(storage, &guard, cursor.next_seq, decoded.now);
    let commands = decoded.ops.len();
    for op in decoded.ops {
        if let Answer::Push(Err(SyncError::Storage(cause))) = apply_op(&mut group, shared.catalogues, op) {
            return Err(format!("reading this replica: {cause}"));
        }
    }
    let (mut batch, outcome) = close_group(group, &cursor.to_delete);
    batch.put_log_position(position);
    commit(storage, right, shared, batch, commands).map_err(|error| error.to_string())?;
    drop(guard);
    let patient_changes = apply_outcome(shared.state, cursor, outcome);
    note_applied(replication, position, patient_changes);
    Ok(())
}

/// Tells the replica's watchers that it applied the group at `position`. In a cluster, patient
/// sync's changes applied here may come from another instance (or be waited on by loads of this
/// one that another instance's patient sync answers): this instance's waiting loads read their
/// patients again.
fn note_applied(replication: &Replication, position: u64, patient_changes: bool) {
    replication.note_applied(position);
    if patient_changes {
        replication.note_patient_changes();
    }
}

/// Adds the bookkeeping every group writes (the deletion of what the group before superseded,
/// what this one supersedes, the next sequence number) and splits the group into its batch and
/// what it changes in memory.
fn close_group<'a, S: SyncStorage>(mut group: Group<'a, S>, to_delete: &[u64]) -> (S::Batch<'a>, GroupOutcome) {
    for seq in to_delete {
        group.batch.delete_log(*seq);
    }
    group.batch.put_gc_pending(&group.superseded);
    group.batch.put_next_seq(group.next_seq);
    group.finish()
}

/// Updates the in-memory state once a group is durable; whether it changed patient sync's state.
fn apply_outcome(state: &RwLock<SyncState>, cursor: &mut Cursor, outcome: GroupOutcome) -> bool {
    let GroupOutcome {
        next_seq,
        superseded,
        index_ops,
        queues,
        sites,
        directory,
        removed,
        views,
        patient_generation,
    } = outcome;
    let mut state = state.write();
    let patient_changes = state.patient_generation != patient_generation;
    state.patient_generation = patient_generation;
    for op in index_ops {
        match op {
            IndexOp::Insert(seq, facts) => state.index.insert(seq, &facts),
            IndexOp::Remove(seq, facts) => state.index.remove(seq, &facts),
        }
    }
    for site in removed {
        state.queues.remove(&site);
    }
    state.queues.extend(queues);
    match directory {
        Some(directory) => state.directory = directory,
        None => sites.into_values().for_each(|site| state.directory.put_site(site)),
    }
    let SyncState { directory, index, .. } = &mut *state;
    for site in views {
        index.set_view(site, directory);
    }
    cursor.next_seq = next_seq;
    cursor.to_delete = superseded;
    patient_changes
}

fn failed_answer(error: &SyncError) -> Answer {
    let again = || match error {
        SyncError::NotWriter => SyncError::NotWriter,
        SyncError::Invalid(text) => SyncError::Invalid(text.clone()),
        SyncError::GroupFailed(cause) | SyncError::Storage(cause) => SyncError::GroupFailed(cause.clone()),
        other => SyncError::GroupFailed(StoreError::WriteFailed(other.to_string())),
    };
    Answer::Done(Err(again()))
}

fn send_reply(reply: ReplyTo, answer: Answer, position: u64) {
    // A caller that went away (connection closed) no longer needs its answer. A failure is an
    // `Answer::Done(Err(..))` whatever the command was.
    match (reply, answer) {
        (ReplyTo::Forwarded(tx), answer) => drop(tx.send((answer, position))),
        (ReplyTo::Push(tx), Answer::Push(result)) => drop(tx.send(result)),
        (ReplyTo::Push(tx), Answer::Done(result)) => drop(tx.send(result.map(|()| PushOutcome::default()))),
        (ReplyTo::Done(tx), Answer::Done(result)) => drop(tx.send(result)),
        (ReplyTo::Directory(tx), Answer::Directory(result)) => drop(tx.send(result)),
        (ReplyTo::Directory(tx), Answer::Done(result)) => drop(tx.send(result.map(|()| Vec::new()))),
        (ReplyTo::Done(tx), _) => drop(tx.send(Err(SyncError::Invalid("an answer of another kind".into())))),
        (ReplyTo::Push(tx), _) => drop(tx.send(Err(SyncError::Invalid("an answer of another kind".into())))),
        (ReplyTo::Directory(tx), _) => drop(tx.send(Err(SyncError::Invalid("an answer of another kind".into())))),
    }
}

/// Applies one command to the group, adding it to the group's message when the group goes to a
/// cluster's log (an operator's plan goes as the changes it decided).
fn apply_command<S: SyncStorage>(
    group: &mut Group<'_, S>,
    catalogues: &Catalogues,
    command: Command,
    message: Option<&mut GroupMessage>,
) -> (ReplyTo, Answer) {
    match command {
        Command::Op { op, reply } => {
            if let Some(message) = message {
                message.push(&op);
            }
            (reply, apply_op(group, catalogues, op))
        }
        Command::Plan { plan, reply } => {
            let decided = plan(group.directory()).map_err(SyncError::Invalid);
            let answer = match decided {
                Ok(changes) => {
                    let op = WriteOp::ChangeDirectory { changes };
                    if let Some(message) = message {
                        message.push(&op);
                    }
                    apply_op(group, catalogues, op)
                }
                Err(refused) => {
                    // Nothing applied; the group's message still holds as many commands as it
                    // said it would, so an empty directory change stands in for the refused one.
                    if let Some(message) = message {
                        message.push(&WriteOp::ChangeDirectory { changes: Vec::new() });
                    }
                    Answer::Directory(Err(refused))
                }
            };
            (ReplyTo::Directory(reply), answer)
        }
        Command::Replicated { .. } | Command::Stop => unreachable!("handled by the writer loop"),
    }
}

/// Applies one change to the group: the same code on the writer and on every replica.
fn apply_op<S: SyncStorage>(group: &mut Group<'_, S>, catalogues: &Catalogues, op: WriteOp) -> Answer {
    match op {
        WriteOp::Health { changed } => {
            for (site, health) in changed {
                if group.site(site).is_some() {
                    group.batch.put_site_health(site, &health);
                }
            }
            Answer::Done(Ok(()))
        }
        WriteOp::PatientWrites { writes } => Answer::Done(group.put_patient_writes(writes)),
        WriteOp::Push { site, records } => Answer::Push(apply_push(group, catalogues, site, records)),
        WriteOp::Acknowledge { site, ids } => {
            let mut queue = group.queue(site);
            acknowledge(&group.state.index, site, &mut queue, &ids);
            group.set_queue(site, queue);
            Answer::Done(Ok(()))
        }
        WriteOp::Skip {
            site,
            id,
            log_entry,
            at_micros,
        } => {
            let mut queue = group.queue(site);
            if !QueueView::new(&group.state.index, site, &queue).contains(id) {
                return Answer::Done(Err(SyncError::NotQueued(id.to_hex())));
            }
            acknowledge(&group.state.index, site, &mut queue, &[id]);
            group.set_queue(site, queue);
            group.batch.put_skip(site, at_micros, &log_entry);
            Answer::Done(Ok(()))
        }
        WriteOp::SetClient { site, client } => {
            let mut queue = group.queue(site);
            queue.client = client;
            group.set_queue(site, queue);
            Answer::Done(Ok(()))
        }
        WriteOp::InitialDump {
            site,
            mobile_only,
            client,
        } => {
            let mut queue = group.queue(site);
            let snapshot = group.next_seq - 1;
            let mut tables = catalogues
                .tables
                .dump_tables(group.tables().iter().map(String::as_str), mobile_only);
            if client == ClientKind::Mobile2017 {
                let withheld = catalogues.tables.not_for_mobile_2017();
                tables.retain(|t| !withheld.contains(t));
            }
            queue.client = client;
            let queued = group.dump_queued(site, client, &tables, snapshot);
            let empty = queued.iter().all(|(_, n)| *n == 0);
            queue.progress = Some(DumpProgress::started(queued, group.now));
            queue.dump_generation += 1;
            // A dump that queues nothing is complete at once (there is nothing to acknowledge
            // that would drain it); `set_queue` marks its progress so.
            queue.dump = (!empty).then(|| DumpState {
                generation: queue.dump_generation,
                snapshot,
                tables,
                table_pos: 0,
                after_seq: 0,
                acked: Default::default(),
            });
            queue.position = snapshot;
            queue.acked.clear();
            group.set_queue(site, queue);
            Answer::Done(Ok(()))
        }
        WriteOp::BindHardware { site, hardware_id } => {
            let result = match group.site(site) {
                None => Err(SyncError::UnknownSite(site)),
                Some(existing) => match &existing.hardware_id {
                    Some(bound) if *bound == hardware_id => Ok(()),
                    Some(_) => Err(SyncError::HardwareMismatch),
                    None => {
                        let mut bound = existing;
                        bound.hardware_id = Some(hardware_id);
                        group.set_site(bound);
                        Ok(())
                    }
                },
            };
            Answer::Done(result)
        }
        WriteOp::ChangeDirectory { changes } => {
            if !changes.is_empty() {
                group.change_directory(&changes);
            }
            Answer::Directory(Ok(changes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::directory::Directory;
    use crate::sync::index::QueueIndex;

    /// A request still in flight holds a clone of the sender (a connection task suspended on
    /// the very thread that stops the server, in a single-threaded runtime): stopping must not
    /// wait for it to let go, and the request must then be refused rather than lost.
    #[test]
    fn stop_does_not_wait_for_requests_holding_the_channel() {
        let dir = tempfile::tempdir().unwrap();
        let (storage, right) = crate::store::Storage::open(dir.path(), 8).unwrap();
        let directory = Directory::new(SiteId(1));
        let state = SyncState {
            index: QueueIndex::new(&directory),
            directory,
            queues: Default::default(),
            patient_generation: 0,
        };
        let handle = start(WriterParts {
            storage: Arc::new(storage),
            right,
            state: Arc::new(RwLock::new(state)),
            catalogues: Arc::new(Catalogues::builtin()),
            next_seq: 1,
            activity: Arc::new(Activity::default()),
            stats: Arc::default(),
            replication: None,
        });
        let in_flight = handle.sender.lock().clone().unwrap();

        let (stopped, told) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            handle.stop();
            let _ = stopped.send(());
        });
        told.recv_timeout(std::time::Duration::from_secs(30))
            .expect("the writer stops although a request still holds a sender");

        let (reply, _answer) = oneshot::channel();
        let refused = in_flight.try_send(Command::Op {
            op: WriteOp::SetClient {
                site: SiteId(2),
                client: ClientKind::Current,
            },
            reply: ReplyTo::Done(reply),
        });
        assert!(
            matches!(refused, Err(mpsc::error::TrySendError::Closed(_))),
            "a stopped writer takes no command"
        );
    }
}
