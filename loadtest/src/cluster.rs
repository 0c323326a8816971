//! A local satsync cluster for `--cluster N` and the failover scenario: three nats-server nodes
//! (JetStream, the log replicated on all three) and N satsync instances on 127.0.0.1, each on its
//! own port, started by the harness in the run's temporary directory, each process's output in a
//! log file there.
//!
//! Every instance starts from the same seed: the standard data set is loaded offline once, as for
//! the single primary (`primary::load_dataset`), and the closed database is copied into each
//! instance's data directory before any instance starts (log position 0, the log empty: all
//! identical). Nothing writes to an instance's database offline after that.
//!
//! The failover scenario kills processes with SIGKILL and starts them again on their disks and
//! ports, as a crashed machine would be restarted; it finds the writer from the lease key and the
//! log's stream leader from the NATS servers' monitoring endpoint.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use satsync::admin::dataset::DatasetSpec;

/// The log's stream and the lease's bucket and key, as the instances name them by default.
pub const STREAM: &str = "SATSYNC_LOG";
const LEASE_BUCKET: &str = "satsync_lease";
const LEASE_KEY: &str = "writer";
const NATS_NODES: usize = 3;
/// How long a process may take to become healthy or ready. Generous: the two cores are busy
/// with the load (and a restarted instance replays what it missed).
const READY_WITHIN: Duration = Duration::from_secs(120);

pub struct LocalCluster {
    /// Configurations, stores, databases and logs (removed with the run unless kept).
    dir: tempfile::TempDir,
    satsync: PathBuf,
    nats_server: PathBuf,
    nats: Vec<Process>,
    instances: Vec<Process>,
    /// A client of the NATS cluster, to read the lease (made at the first read).
    lease: Option<async_nats::jetstream::kv::Store>,
}

/// One process of the cluster: how to start it, and it while it runs.
struct Process {
    name: String,
    /// The monitoring port of a NATS node; the satellites' port of an instance.
    http_port: u16,
    /// The NATS node's client port (0 for an instance).
    client_port: u16,
    config: PathBuf,
    log: PathBuf,
    child: Option<tokio::process::Child>,
}

/// The nats-server binary: `SATSYNC_NATS_SERVER` when set, else what `scripts/ensure-nats`
/// prints (it installs nats-server 2.15.x when missing), as the integration tests find it.
fn nats_server_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("SATSYNC_NATS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/ensure-nats");
    let output = std::process::Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!("{} failed", script.display());
    }
    Ok(PathBuf::from(String::from_utf8(output.stdout)?.trim()))
}

impl LocalCluster {
    /// Loads the standard data set of `spec` into a seed database, starts three NATS nodes and
    /// `instances` satsync instances from copies of the seed, and waits until every instance is
    /// ready (its replica caught up) and one holds the writer's lease.
    pub async fn start(
        satsync: &Path,
        spec: &DatasetSpec,
        instances: usize,
        lease_ttl: u64,
    ) -> anyhow::Result<LocalCluster> {
        if !satsync.exists() {
            bail!(
                "no satsync binary at {} (build it with cargo build --release, or pass --satsync)",
                satsync.display()
            );
        }
        if instances == 0 {
            bail!("a cluster needs at least one instance");
        }
        let nats_server = nats_server_binary()?;
        let dir = tempfile::Builder::new().prefix("loadtest-cluster.").tempdir()?;
        let seed = dir.path().join("seed");
        std::fs::create_dir_all(&seed)?;
        std::fs::write(
            seed.join("satsync.toml"),
            format!(
                "[admin]\nlisten = \"off\"\n[server]\nlisten = \"127.0.0.1:0\"\n[storage]\ndata_dir = \"{}\"\n",
                seed.join("db").display()
            ),
        )?;
        crate::primary::load_dataset(satsync, &seed.join("satsync.toml"), spec).await?;

        let ports = free_ports(3 * NATS_NODES + instances)?;
        let (client_ports, rest) = ports.split_at(NATS_NODES);
        let (route_ports, rest) = rest.split_at(NATS_NODES);
        let (monitor_ports, instance_ports) = rest.split_at(NATS_NODES);
        let routes: Vec<String> = route_ports
            .iter()
            .map(|port| format!("\"nats-route://127.0.0.1:{port}\""))
            .collect();
        let mut nats = Vec::new();
        for n in 0..NATS_NODES {
            let store = dir.path().join(format!("nats/n{n}-store"));
            std::fs::create_dir_all(&store)?;
            let config = dir.path().join(format!("nats/n{n}.conf"));
            // sync_interval: always — JetStream fsyncs each write before acknowledging it (its
            // default, every two minutes, could lose an acknowledged change in a machine crash).
            // max_payload 64MB is the server's maximum, above our largest push body.
            std::fs::write(
                &config,
                format!(
                    "server_name: \"n{n}\"\nlisten: \"127.0.0.1:{client}\"\nhttp: \"127.0.0.1:{http}\"\n\
                     max_payload: 64MB\njetstream {{\n  store_dir: \"{store}\"\n  sync_interval: always\n}}\n\
                     cluster {{\n  name: \"loadtest\"\n  listen: \"127.0.0.1:{route}\"\n  routes: [{routes}]\n}}\n",
                    client = client_ports[n],
                    http = monitor_ports[n],
                    store = store.display(),
                    route = route_ports[n],
                    routes = routes.join(", "),
                ),
            )?;
            nats.push(Process {
                name: format!("n{n}"),
                http_port: monitor_ports[n],
                client_port: client_ports[n],
                config,
                log: dir.path().join(format!("nats/n{n}.log")),
                child: None,
            });
        }
        let servers: Vec<String> = client_ports
            .iter()
            .map(|port| format!("\"nats://127.0.0.1:{port}\""))
            .collect();
        let mut members = Vec::new();
        for (i, port) in instance_ports.iter().enumerate() {
            let home = dir.path().join(format!("instance-{i}"));
            copy_dir(&seed.join("db"), &home.join("db"))?;
            let config = home.join("satsync.toml");
            // The harness's satellites all come from one address: no cap on its connections.
            std::fs::write(
                &config,
                format!(
                    "[admin]\nlisten = \"off\"\n[server]\nlisten = \"127.0.0.1:{port}\"\nmax_connections_per_address = 0\n\
                     [storage]\ndata_dir = \"{db}\"\n[cluster]\nservers = [{servers}]\ninstance = \"instance-{i}\"\n\
                     lease_ttl_seconds = {lease_ttl}\n",
                    db = home.join("db").display(),
                    servers = servers.join(", "),
                ),
            )?;
            members.push(Process {
                name: format!("instance-{i}"),
                http_port: *port,
                client_port: 0,
                config,
                log: home.join("satsync.log"),
                child: None,
            });
        }
        // The seed is copied: it is not needed any more.
        std::fs::remove_dir_all(seed.join("db"))?;
        let mut cluster = LocalCluster {
            dir,
            satsync: satsync.to_path_buf(),
            nats_server,
            nats,
            instances: members,
            lease: None,
        };
        if let Err(error) = cluster.start_processes(instances).await {
            // The logs say why: kept.
            let dir = cluster.keep();
            bail!("{error:#} (the cluster's logs are kept in {})", dir.display());
        }
        eprintln!(
            "cluster: 3 NATS nodes and {instances} satsync instances, logs in {}",
            cluster.dir().display()
        );
        Ok(cluster)
    }

    async fn start_processes(&mut self, instances: usize) -> anyhow::Result<()> {
        for n in 0..NATS_NODES {
            self.spawn_nats(n)?;
        }
        for n in 0..NATS_NODES {
            self.wait_nats_healthy(n).await?;
        }
        for i in 0..instances {
            self.spawn_instance(i)?;
        }
        for i in 0..instances {
            // An instance gives up when its first JetStream request times out (5 s), which a
            // fresh NATS cluster on a busy machine may take while it places the log's stream:
            // started again, it finds the stream.
            let mut attempt = 1;
            while let Err(error) = self.wait_instance_ready(i).await {
                if attempt == 3 {
                    return Err(error);
                }
                eprintln!("cluster: {error:#}; starting it again");
                attempt += 1;
                self.spawn_instance(i)?;
            }
        }
        let deadline = Instant::now() + READY_WITHIN;
        while self.writer().await.is_none() {
            if Instant::now() > deadline {
                bail!("no instance took the writer's lease");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// The run's directory: every configuration, store, database and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Keeps the run's directory after the harness exits (to read the logs of a failed run);
    /// every process is killed.
    pub fn keep(self) -> PathBuf {
        let mut this = self;
        this.stop_all_now();
        let LocalCluster { dir, .. } = this;
        dir.keep()
    }

    /// Every instance's URL, in instance order.
    pub fn urls(&self) -> Vec<String> {
        self.instances
            .iter()
            .map(|instance| format!("http://127.0.0.1:{}", instance.http_port))
            .collect()
    }

    /// The process ids of the running instances.
    pub fn instance_pids(&self) -> Vec<u32> {
        self.instances
            .iter()
            .filter_map(|instance| instance.child.as_ref()?.id())
            .collect()
    }

    /// Instance `i`'s database directory.
    pub fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("instance-{i}/db"))
    }

    fn spawn_nats(&mut self, n: usize) -> anyhow::Result<()> {
        let node = &mut self.nats[n];
        node.child = Some(spawn(
            &self.nats_server,
            &["-c".as_ref(), node.config.as_os_str()],
            &node.log,
        )?);
        Ok(())
    }

    fn spawn_instance(&mut self, i: usize) -> anyhow::Result<()> {
        let instance = &mut self.instances[i];
        let args = ["--config".as_ref(), instance.config.as_os_str(), "serve".as_ref()];
        instance.child = Some(spawn(&self.satsync, &args, &instance.log)?);
        Ok(())
    }

    /// The instance the writer's lease names now (it may be dead until the lease expires).
    pub async fn writer(&mut self) -> Option<usize> {
        if self.lease.is_none() {
            let servers: Vec<String> = self
                .nats
                .iter()
                .map(|node| format!("nats://127.0.0.1:{}", node.client_port))
                .collect();
            let client = async_nats::connect(servers).await.ok()?;
            let jetstream = async_nats::jetstream::new(client);
            self.lease = Some(jetstream.get_key_value(LEASE_BUCKET).await.ok()?);
        }
        let entry = self.lease.as_ref()?.entry(LEASE_KEY).await.ok()??;
        let name = String::from_utf8_lossy(&entry.value).into_owned();
        self.instances.iter().position(|instance| instance.name == name)
    }

    /// Kills instance `i` with SIGKILL (nothing flushed, the lease not given up) and reaps it.
    pub async fn kill_instance(&mut self, i: usize) -> anyhow::Result<()> {
        kill(&mut self.instances[i]).await
    }

    /// Starts instance `i` again on its database and port, and waits until it is ready.
    pub async fn restart_instance(&mut self, i: usize) -> anyhow::Result<()> {
        self.spawn_instance(i)?;
        self.wait_instance_ready(i).await
    }

    /// The NATS node leading the log's stream: the running node whose own `/jsz` says it leads
    /// it. `None` while none does, or while more than one still claims it (an election).
    pub async fn stream_leader(&self) -> Option<usize> {
        let mut claims = Vec::new();
        for (n, node) in self.nats.iter().enumerate().filter(|(_, node)| node.child.is_some()) {
            let jsz = monitor(node.http_port, "/jsz?accounts=true&streams=true").await;
            let leader = jsz.as_ref().and_then(|jsz| {
                jsz["account_details"]
                    .as_array()?
                    .iter()
                    .filter_map(|account| account["stream_detail"].as_array())
                    .flatten()
                    .find(|detail| detail["name"] == STREAM)
                    .and_then(|detail| detail["cluster"]["leader"].as_str().map(str::to_string))
            });
            if leader.as_deref() == Some(node.name.as_str()) {
                claims.push(n);
            }
        }
        match claims[..] {
            [only] => Some(only),
            _ => None,
        }
    }

    pub fn nats_name(&self, n: usize) -> &str {
        &self.nats[n].name
    }

    /// Kills NATS node `n` with SIGKILL and reaps it.
    pub async fn kill_nats(&mut self, n: usize) -> anyhow::Result<()> {
        kill(&mut self.nats[n]).await
    }

    /// Starts NATS node `n` again on its store and ports, and waits until it is healthy.
    pub async fn restart_nats(&mut self, n: usize) -> anyhow::Result<()> {
        self.spawn_nats(n)?;
        self.wait_nats_healthy(n).await
    }

    /// Waits until node `n` answers `/healthz` with ok (its JetStream assets current) and knows
    /// the meta group's leader in a group of three.
    async fn wait_nats_healthy(&mut self, n: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_WITHIN;
        let port = self.nats[n].http_port;
        loop {
            let health = monitor(port, "/healthz").await;
            let jsz = monitor(port, "/jsz").await;
            let healthy = health.is_some_and(|h| h["status"] == "ok")
                && jsz.is_some_and(|j| {
                    !j["meta_cluster"]["leader"].as_str().unwrap_or("").is_empty()
                        && j["meta_cluster"]["cluster_size"].as_u64() == Some(NATS_NODES as u64)
                });
            if healthy {
                return Ok(());
            }
            self.exited(&self.nats[n].name.clone())?;
            if Instant::now() > deadline {
                bail!(
                    "NATS node n{n} not healthy after {READY_WITHIN:?}; see {}",
                    self.nats[n].log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until instance `i` answers `/readyz` with 200: serving, its replica caught up.
    async fn wait_instance_ready(&mut self, i: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_WITHIN;
        let port = self.instances[i].http_port;
        loop {
            if http_get(port, "/readyz").await.is_some_and(|(status, _)| status == 200) {
                return Ok(());
            }
            self.exited(&self.instances[i].name.clone())?;
            if Instant::now() > deadline {
                bail!(
                    "instance-{i} not ready after {READY_WITHIN:?}; see {}",
                    self.instances[i].log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails when the process named `name` has exited.
    fn exited(&mut self, name: &str) -> anyhow::Result<()> {
        let process = self
            .nats
            .iter_mut()
            .chain(self.instances.iter_mut())
            .find(|process| process.name == name)
            .expect("a process of ours");
        if let Some(Ok(Some(status))) = process.child.as_mut().map(|child| child.try_wait()) {
            bail!("{name} exited ({status}); see {}", process.log.display());
        }
        Ok(())
    }

    /// Stops the instances (SIGTERM: a writer gives up its lease), then the NATS nodes.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.terminate().await
    }

    /// Stops every process as [`LocalCluster::stop`] does (each instance's log ends with its
    /// figures since start), and keeps the run's directory.
    pub async fn stop_and_keep(mut self) -> anyhow::Result<PathBuf> {
        self.terminate().await?;
        let LocalCluster { dir, .. } = self;
        Ok(dir.keep())
    }

    async fn terminate(&mut self) -> anyhow::Result<()> {
        for instance in &mut self.instances {
            if let Some(pid) = instance.child.as_ref().and_then(|child| child.id()) {
                let _ = tokio::process::Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await;
            }
        }
        for instance in &mut self.instances {
            if let Some(mut child) = instance.child.take() {
                child.wait().await?;
            }
        }
        for node in &mut self.nats {
            kill(node).await?;
        }
        Ok(())
    }

    /// Kills every process at once (the run is over and its directory is kept).
    fn stop_all_now(&mut self) {
        for process in self.instances.iter_mut().chain(self.nats.iter_mut()) {
            if let Some(mut child) = process.child.take() {
                let _ = child.start_kill();
            }
        }
    }
}

/// Starts `program` with `args`, its standard output and error appended to `log` (a restarted
/// process's log follows that of its earlier life). Killed if the harness drops it.
fn spawn(program: &Path, args: &[&std::ffi::OsStr], log: &Path) -> anyhow::Result<tokio::process::Child> {
    let file = OpenOptions::new().create(true).append(true).open(log)?;
    tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))
}

async fn kill(process: &mut Process) -> anyhow::Result<()> {
    if let Some(mut child) = process.child.take() {
        child.start_kill()?;
        child.wait().await?;
    }
    Ok(())
}

/// Copies a closed database directory (files and subdirectories).
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// `count` distinct ports free a moment ago (all bound at once, then released).
fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(listeners
        .iter()
        .map(|listener| listener.local_addr().map(|address| address.port()))
        .collect::<Result<Vec<_>, _>>()?)
}

/// A NATS node's JSON answer on its monitoring port, or `None`.
async fn monitor(port: u16, path: &str) -> Option<Value> {
    let (_, body) = http_get(port, path).await?;
    serde_json::from_str(&body).ok()
}

/// The status and body of `GET path` on 127.0.0.1:`port` (HTTP/1.0: the server closes after
/// replying), or `None` when nothing answers within two seconds.
async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.ok()?;
        let reply = String::from_utf8(reply).ok()?;
        let (head, body) = reply.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, body.to_string()))
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .ok()
        .flatten()
}
