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
use super::site_queue::{ClientKind, DumpState, OutgoingId};
use super::writer_stats::WriterStats;
use super::{Catalogues, DirectoryPlan, Result, SyncError, SyncState};
use crate::domain::directory::DirectoryChange;
use crate::domain::ids::SiteId;
use crate::domain::record::PushedRecord;
use crate::store::{DirectoryWrites, LogWrites, PatientWrites, StoreError, SyncBatch, SyncStorage, WriteRight};

/// Commands waiting beyond this make senders wait (back-pressure on pushes).
const QUEUE_BOUND: usize = 1024;
/// Most commands written in one group.
const GROUP_MAX: usize = 256;

enum Command {
    Push {
        site: SiteId,
        records: Vec<PushedRecord>,
        reply: oneshot::Sender<Result<PushOutcome>>,
    },
    Acknowledge {
        site: SiteId,
        ids: Vec<OutgoingId>,
        reply: oneshot::Sender<Result<()>>,
    },
    InitialDump {
        site: SiteId,
        mobile_only: bool,
        client: ClientKind,
        reply: oneshot::Sender<Result<()>>,
    },
    /// The site was seen syncing with another client than its queue state says.
    SetClient {
        site: SiteId,
        client: ClientKind,
        reply: oneshot::Sender<Result<()>>,
    },
    BindHardware {
        site: SiteId,
        hardware_id: String,
        reply: oneshot::Sender<Result<()>>,
    },
    /// An operator changes the directory.
    ChangeDirectory {
        plan: DirectoryPlan,
        reply: oneshot::Sender<Result<Vec<DirectoryChange>>>,
    },
    /// An operator removes one record from one satellite's queue, logged in the same write.
    Skip {
        site: SiteId,
        id: OutgoingId,
        log_entry: String,
        at_micros: u64,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Sites' health, as it stood at a flush (`health.rs`); a removed site's is dropped.
    Health {
        changed: Vec<(SiteId, Vec<u8>)>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Patient sync's changes, prepared on its own writer thread, written with the group.
    PatientWrites {
        writes: PatientWrites,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Finish the commands sent before this one, then end. Sent by [`WriterHandle::stop`]:
    /// waiting for the channel to close instead would wait on every request still holding a
    /// sender, and a request suspended on the thread that stops never lets go of it.
    Stop,
}

/// A command's reply channel with its result, sent after the commit.
enum Reply {
    Push(oneshot::Sender<Result<PushOutcome>>, Result<PushOutcome>),
    Done(oneshot::Sender<Result<()>>, Result<()>),
    Directory(
        oneshot::Sender<Result<Vec<DirectoryChange>>>,
        Result<Vec<DirectoryChange>>,
    ),
}

pub struct WriterHandle {
    sender: Mutex<Option<mpsc::Sender<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Starts the writer thread, which takes the database's write right with it.
pub fn start<S: SyncStorage>(
    storage: Arc<S>,
    right: WriteRight,
    state: Arc<RwLock<SyncState>>,
    catalogues: Arc<Catalogues>,
    next_seq: u64,
    activity: Arc<Activity>,
    stats: Arc<WriterStats>,
) -> WriterHandle {
    let (sender, receiver) = mpsc::channel(QUEUE_BOUND);
    let thread = std::thread::Builder::new()
        .name("satsync-writer".into())
        .spawn(move || {
            let shared = Shared {
                state: &state,
                catalogues: &catalogues,
                activity: &activity,
                stats: &stats,
            };
            run(receiver, &*storage, &right, shared, next_seq)
        })
        .expect("spawning the writer thread");
    WriterHandle {
        sender: Mutex::new(Some(sender)),
        thread: Mutex::new(Some(thread)),
    }
}

impl WriterHandle {
    async fn send<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T>>) -> Command) -> Result<T> {
        let sender = self.sender.lock().clone().ok_or(SyncError::WriterStopped)?;
        let (reply, answer) = oneshot::channel();
        sender.send(make(reply)).await.map_err(|_| SyncError::WriterStopped)?;
        answer.await.map_err(|_| SyncError::WriterStopped)?
    }

    pub async fn push(&self, site: SiteId, records: Vec<PushedRecord>) -> Result<PushOutcome> {
        self.send(|reply| Command::Push { site, records, reply }).await
    }

    pub async fn acknowledge(&self, site: SiteId, ids: Vec<OutgoingId>) -> Result<()> {
        self.send(|reply| Command::Acknowledge { site, ids, reply }).await
    }

    pub async fn initial_dump(&self, site: SiteId, mobile_only: bool, client: ClientKind) -> Result<()> {
        self.send(|reply| Command::InitialDump {
            site,
            mobile_only,
            client,
            reply,
        })
        .await
    }

    pub async fn set_client(&self, site: SiteId, client: ClientKind) -> Result<()> {
        self.send(|reply| Command::SetClient { site, client, reply }).await
    }

    pub async fn skip(&self, site: SiteId, id: OutgoingId, log_entry: String, at_micros: u64) -> Result<()> {
        self.send(|reply| Command::Skip {
            site,
            id,
            log_entry,
            at_micros,
            reply,
        })
        .await
    }

    /// Writes patient sync's changes with the next group, blocking this thread until they are
    /// durable: for the patient writer, a plain thread outside the async runtime.
    pub fn patient_writes_blocking(&self, writes: PatientWrites) -> Result<()> {
        let sender = self.sender.lock().clone().ok_or(SyncError::WriterStopped)?;
        let (reply, answer) = oneshot::channel();
        sender
            .blocking_send(Command::PatientWrites { writes, reply })
            .map_err(|_| SyncError::WriterStopped)?;
        answer.blocking_recv().map_err(|_| SyncError::WriterStopped)?
    }

    pub async fn put_health(&self, changed: Vec<(SiteId, Vec<u8>)>) -> Result<()> {
        self.send(|reply| Command::Health { changed, reply }).await
    }

    pub async fn change_directory(&self, plan: DirectoryPlan) -> Result<Vec<DirectoryChange>> {
        self.send(|reply| Command::ChangeDirectory { plan, reply }).await
    }

    pub async fn bind_hardware(&self, site: SiteId, hardware_id: String) -> Result<()> {
        self.send(|reply| Command::BindHardware {
            site,
            hardware_id,
            reply,
        })
        .await
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
}

fn run<S: SyncStorage>(
    mut receiver: mpsc::Receiver<Command>,
    storage: &S,
    right: &WriteRight,
    shared: Shared<'_>,
    mut next_seq: u64,
) {
    let Shared {
        state,
        catalogues,
        activity,
        stats,
    } = shared;
    let mut to_delete: Vec<u64> = Vec::new();
    let mut stopping = false;
    while !stopping {
        let Some(first) = receiver.blocking_recv() else {
            break;
        };
        let mut commands = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next {
            if matches!(command, Command::Stop) {
                stopping = true;
                break;
            }
            commands.push(command);
            next = (commands.len() < GROUP_MAX).then(|| receiver.try_recv().ok()).flatten();
        }
        if commands.is_empty() {
            continue;
        }
        let guard = state.read();
        let mut group = Group::new(storage, &guard, next_seq);
        let commands_in_group = commands.len();
        let replies: Vec<Reply> = commands.into_iter().map(|c| apply(&mut group, catalogues, c)).collect();
        // A push that failed to read storage may have left part of its writes in the batch: the
        // whole group is dropped rather than committed half-applied. (A push refused for what it
        // holds wrote nothing.)
        let read_failure = replies.iter().find_map(|reply| match reply {
            Reply::Push(_, Err(SyncError::BadRecord(_))) => None,
            Reply::Push(_, Err(SyncError::Storage(cause))) => Some(cause.clone()),
            Reply::Push(_, Err(other)) => Some(StoreError::WriteFailed(other.to_string())),
            _ => None,
        });
        for seq in &to_delete {
            group.batch.delete_log(*seq);
        }
        group.batch.put_gc_pending(&group.superseded);
        group.batch.put_next_seq(group.next_seq);
        let (batch, outcome) = group.finish();
        let committed = match read_failure {
            Some(cause) => {
                drop(batch);
                Err(cause)
            }
            None => {
                let started = std::time::Instant::now();
                let committed = storage.commit(right, batch);
                let micros = started.elapsed().as_micros() as u64;
                activity.committed(micros);
                if committed.is_ok() {
                    stats.committed(commands_in_group, micros);
                }
                committed
            }
        };
        drop(guard);
        match committed {
            Ok(()) => {
                let GroupOutcome {
                    next_seq: group_next,
                    superseded,
                    index_ops,
                    queues,
                    sites,
                    directory,
                    removed,
                    views,
                } = outcome;
                let mut state = state.write();
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
                drop(state);
                next_seq = group_next;
                to_delete = superseded;
                replies.into_iter().for_each(send_reply);
            }
            Err(error) => {
                // Logged here, once for the group; its callers' errors say it was.
                tracing::error!(%error, commands = replies.len(), "group write failed; nothing of it was applied");
                let failed = || SyncError::GroupFailed(error.clone());
                for reply in replies {
                    match reply {
                        Reply::Push(tx, _) => drop(tx.send(Err(failed()))),
                        Reply::Done(tx, _) => drop(tx.send(Err(failed()))),
                        Reply::Directory(tx, _) => drop(tx.send(Err(failed()))),
                    }
                }
            }
        }
    }
}

fn send_reply(reply: Reply) {
    // A caller that went away (connection closed) no longer needs its answer.
    match reply {
        Reply::Push(tx, result) => drop(tx.send(result)),
        Reply::Done(tx, result) => drop(tx.send(result)),
        Reply::Directory(tx, result) => drop(tx.send(result)),
    }
}

fn apply<S: SyncStorage>(group: &mut Group<'_, S>, catalogues: &Catalogues, command: Command) -> Reply {
    match command {
        Command::Stop => unreachable!("the writer loop ends at a stop"),
        Command::Health { changed, reply } => {
            for (site, health) in changed {
                if group.site(site).is_some() {
                    group.batch.put_site_health(site, &health);
                }
            }
            Reply::Done(reply, Ok(()))
        }
        Command::PatientWrites { writes, reply } => {
            group.batch.put_patient_writes(writes);
            Reply::Done(reply, Ok(()))
        }
        Command::Push { site, records, reply } => Reply::Push(reply, apply_push(group, catalogues, site, records)),
        Command::Acknowledge { site, ids, reply } => {
            let mut queue = group.queue(site);
            acknowledge(&group.state.index, site, &mut queue, &ids);
            group.set_queue(site, queue);
            Reply::Done(reply, Ok(()))
        }
        Command::Skip {
            site,
            id,
            log_entry,
            at_micros,
            reply,
        } => {
            let mut queue = group.queue(site);
            if !QueueView::new(&group.state.index, site, &queue).contains(id) {
                return Reply::Done(reply, Err(SyncError::NotQueued(id.to_hex())));
            }
            acknowledge(&group.state.index, site, &mut queue, &[id]);
            group.set_queue(site, queue);
            group.batch.put_skip(site, at_micros, &log_entry);
            Reply::Done(reply, Ok(()))
        }
        Command::SetClient { site, client, reply } => {
            let mut queue = group.queue(site);
            queue.client = client;
            group.set_queue(site, queue);
            Reply::Done(reply, Ok(()))
        }
        Command::InitialDump {
            site,
            mobile_only,
            client,
            reply,
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
            queue.progress = Some(DumpProgress::started(queued, unix_seconds_now()));
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
            Reply::Done(reply, Ok(()))
        }
        Command::BindHardware {
            site,
            hardware_id,
            reply,
        } => {
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
            Reply::Done(reply, result)
        }
        Command::ChangeDirectory { plan, reply } => {
            let result = plan(group.directory()).map_err(SyncError::Invalid);
            if let Ok(changes) = &result {
                group.change_directory(changes);
            }
            Reply::Directory(reply, result)
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
        };
        let handle = start(
            Arc::new(storage),
            right,
            Arc::new(RwLock::new(state)),
            Arc::new(Catalogues::builtin()),
            1,
            Arc::new(Activity::default()),
            Arc::default(),
        );
        let in_flight = handle.sender.lock().clone().unwrap();

        let (stopped, told) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            handle.stop();
            let _ = stopped.send(());
        });
        told.recv_timeout(std::time::Duration::from_secs(30))
            .expect("the writer stops although a request still holds a sender");

        let (reply, _answer) = oneshot::channel();
        let refused = in_flight.try_send(Command::SetClient {
            site: SiteId(2),
            client: ClientKind::Current,
            reply,
        });
        assert!(
            matches!(refused, Err(mpsc::error::TrySendError::Closed(_))),
            "a stopped writer takes no command"
        );
    }
}
