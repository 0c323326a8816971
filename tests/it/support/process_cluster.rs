//! A satsync cluster of real processes, for the fault tests: a three-node NATS cluster
//! (`nats.rs`) and `satsync serve` processes, each killed with SIGKILL, paused with SIGSTOP and
//! restarted on its disk as a crashed or frozen machine would be.
//!
//! The instances start from copies of one seed database, prepared offline (sites, stores, users),
//! as an operator bootstraps a cluster; an instance may also start on an empty disk, from the
//! cluster's latest snapshot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use serde_json::Value;

use super::cluster::WITHIN;
use super::data::{batch, ids, item};
use super::nats::NatsCluster;
use super::process::{spawn_server_logging_to, Process};
use super::{register_sites, write_config, Satellite, SiteLogin};

pub struct ProcessCluster {
    /// Running instances (`None` while killed).
    pub instances: Vec<Option<Process>>,
    pub nats: NatsCluster,
    /// Every instance's satellites' URL now (an instance restarted gets a new port).
    pub bases: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
    /// Extra `[cluster]` settings of every instance.
    cluster_more: String,
}

impl ProcessCluster {
    /// Three NATS servers and `instances` satsync processes on copies of a seed database holding
    /// `sites` registered sites (returned); one instance is the writer when this returns.
    pub async fn start(instances: usize, sites: usize, cluster_more: &str) -> (ProcessCluster, Vec<SiteLogin>) {
        let nats = NatsCluster::start(3).await;
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("seed");
        let logins = register_sites(&seed, sites);
        let mut cluster = ProcessCluster {
            instances: Vec::new(),
            nats,
            bases: Default::default(),
            dir,
            cluster_more: cluster_more.to_string(),
        };
        for n in 0..instances {
            copy_database(&seed, &cluster.data_dir(n));
            cluster.instances.push(None);
            cluster.bases.lock().unwrap().push(String::new());
            cluster.launch(n);
        }
        cluster.wait_writer().await;
        (cluster, logins)
    }

    pub fn data_dir(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("instance-{n}"))
    }

    pub fn log_file(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("instance-{n}.log"))
    }

    /// Starts (or restarts, on its disk) instance `n`; an instance beyond the others gets a new,
    /// empty data directory unless one was prepared.
    pub fn launch(&mut self, n: usize) {
        while self.instances.len() <= n {
            self.instances.push(None);
            self.bases.lock().unwrap().push(String::new());
        }
        let servers: Vec<String> = self.nats.url_list().iter().map(|url| format!("\"{url}\"")).collect();
        let more = format!(
            "[cluster]\nservers = [{}]\ninstance = \"instance-{n}\"\nlease_ttl_seconds = 2\n{}",
            servers.join(", "),
            self.cluster_more
        );
        let config = write_config(
            &self.dir.path().join(format!("instance-{n}.toml")),
            &self.data_dir(n),
            &more,
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file(n))
            .unwrap();
        let process = spawn_server_logging_to(&config, log);
        self.bases.lock().unwrap()[n] = process.base.clone();
        self.instances[n] = Some(process);
    }

    pub fn base(&self, n: usize) -> String {
        self.bases.lock().unwrap()[n].clone()
    }

    /// SIGKILL: nothing of the instance's shutdown runs.
    pub fn kill(&mut self, n: usize) {
        if let Some(process) = self.instances[n].take() {
            process.kill_9();
        }
        self.bases.lock().unwrap()[n] = String::new();
    }

    pub fn signal(&self, n: usize, name: &str) {
        self.instances[n].as_ref().expect("a running instance").signal(name);
    }

    /// The instance the writer's lease names, read from NATS.
    pub async fn lease_holder(&self) -> Option<usize> {
        let client = async_nats::connect(self.nats.running_url_list()).await.ok()?;
        let store = jetstream::new(client).get_key_value("satsync_lease").await.ok()?;
        let entry = store.entry("writer").await.ok()??;
        let name = String::from_utf8_lossy(&entry.value).into_owned();
        name.strip_prefix("instance-")?.parse().ok()
    }

    /// Waits until the lease names a running instance that says it is ready, and returns it.
    pub async fn wait_writer(&self) -> usize {
        let started = Instant::now();
        loop {
            if let Some(n) = self.lease_holder().await {
                if self.instances.get(n).is_some_and(Option::is_some) && ready(&self.base(n)).await {
                    return n;
                }
            }
            assert!(
                started.elapsed() < WITHIN,
                "no writer within {WITHIN:?}:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until instance `n` says it is ready (its replica caught up with the log).
    pub async fn wait_ready(&self, n: usize) {
        let started = Instant::now();
        while !ready(&self.base(n)).await {
            assert!(started.elapsed() < WITHIN, "instance {n} not ready:\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The end of every instance's log, for a failing assertion.
    pub fn logs(&self) -> String {
        (0..self.instances.len())
            .map(|n| {
                let text = std::fs::read_to_string(self.log_file(n)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                format!(
                    "--- instance {n}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops every instance with SIGTERM (they give up the lease, their databases close).
    pub fn stop_all(&mut self) {
        for process in self.instances.iter_mut().filter_map(Option::take) {
            process.terminate();
        }
    }

    /// Every record each instance's replica holds in its log, as "table id" lines; the instances
    /// must be stopped.
    pub fn logs_held(&self) -> Vec<Vec<String>> {
        use satsync::store::{LogReads, Storage};
        (0..self.instances.len())
            .map(|n| {
                let (storage, _right) = Storage::open(&self.data_dir(n), 8).unwrap();
                let mut held = Vec::new();
                storage
                    .scan_log(|_, entry| held.push(format!("{} {}", entry.record.table, entry.record.record_id)))
                    .unwrap();
                held
            })
            .collect()
    }
}

async fn ready(base: &str) -> bool {
    if base.is_empty() {
        return false;
    }
    let (status, _, _) = super::client::fetch_text(&format!("{base}/readyz"), None).await;
    status == 200
}

/// Copies a closed RocksDB directory (flat: files only).
pub fn copy_database(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Satellites pushing batches of new items as fast as they are answered, each batch sent again
/// (same SyncIDs, as a real satellite does) until it is answered success, to whichever instance
/// is up; the items of every batch answered success.
pub struct PushStorm {
    pub answered: Arc<Mutex<BTreeSet<String>>>,
    pub failures: Arc<Mutex<usize>>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl PushStorm {
    /// `pushers` push; items are numbered from `first` on, `per_batch` a batch.
    pub fn start(bases: Arc<Mutex<Vec<String>>>, pushers: &[SiteLogin], first: usize, per_batch: usize) -> PushStorm {
        let answered: Arc<Mutex<BTreeSet<String>>> = Default::default();
        let failures: Arc<Mutex<usize>> = Default::default();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = pushers
            .iter()
            .enumerate()
            .map(|(k, login)| {
                let (bases, answered, failures, stopped, login) = (
                    bases.clone(),
                    answered.clone(),
                    failures.clone(),
                    stopped.clone(),
                    login.clone(),
                );
                tokio::spawn(async move {
                    let mut next = first + k * 1_000_000;
                    let mut attempt = k;
                    while !*stopped.borrow() {
                        let items: Vec<String> = (next..next + per_batch).map(item).collect();
                        loop {
                            attempt += 1;
                            let base = {
                                let bases = bases.lock().unwrap();
                                let up: Vec<&String> = bases.iter().filter(|b| !b.is_empty()).collect();
                                up[attempt % up.len()].clone()
                            };
                            let satellite = Satellite::new(&base, &login, "v3");
                            match satellite.try_push(&batch(&items)).await {
                                Some(reply) if reply.status == 200 && reply.json["error"] == "" => break,
                                _ => {
                                    *failures.lock().unwrap() += 1;
                                    tokio::time::sleep(Duration::from_millis(50)).await;
                                }
                            }
                        }
                        let pushed: Vec<Value> = items.iter().map(|i| serde_json::from_str(i).unwrap()).collect();
                        answered.lock().unwrap().extend(ids(&pushed));
                        next += per_batch;
                    }
                })
            })
            .collect();
        PushStorm {
            answered,
            failures,
            stop,
            tasks,
        }
    }

    /// Stops after the batches in flight are answered; the items answered success.
    pub async fn finish(self) -> BTreeSet<String> {
        let _ = self.stop.send(true);
        for task in self.tasks {
            task.await.unwrap();
        }
        let answered = self.answered.lock().unwrap().clone();
        answered
    }
}

/// Drains `login`'s queue through `base`, checking at every step that the count agrees with the
/// list and that nothing comes twice; the ids received.
pub async fn drain_checked(base: &str, login: &SiteLogin) -> BTreeSet<String> {
    drain_satellite(&Satellite::new(base, login, "v3"), 500).await
}

/// Drains `satellite`'s queue `limit` records a pull, checking at every step that the count
/// agrees with the list and that nothing comes twice; the ids received.
pub async fn drain_satellite(satellite: &Satellite, limit: usize) -> BTreeSet<String> {
    let mut received = BTreeSet::new();
    loop {
        let expected = satellite.count().await;
        let records = satellite.pull_records(limit).await;
        if records.is_empty() {
            assert_eq!(expected, 0, "a count that disagrees with the list");
            return received;
        }
        let left = satellite.acknowledge(&super::data::sync_ids(&records)).await;
        assert_eq!(left.json["NumRecords"], expected - records.len() as u64, "{}", left.raw);
        for id in ids(&records) {
            assert!(received.insert(id.clone()), "{id} delivered twice");
        }
    }
}
