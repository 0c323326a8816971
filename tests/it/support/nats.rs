//! A real NATS JetStream cluster for the tests of issue 17 (the satsync cluster over NATS): each
//! node a `nats-server` process on 127.0.0.1, with its own store directory in a temporary
//! directory, killed with SIGKILL and restarted on the same disk and ports as a crashed machine
//! would be.
//!
//! The server binary comes from `SATSYNC_NATS_SERVER` when set, else from `scripts/ensure-nats`
//! (which installs nats-server 2.15.x when it is missing). Every process is killed and reaped when
//! the cluster is dropped, and a test that panics gets the end of each node's log on stderr.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a cluster or a restarted node may take to become healthy. Generous: the machine's two
/// cores may be busy compiling; the servers take well under a second when idle.
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);

/// The cluster's name in the routes' handshake; the servers are `n0`, `n1`, …
const CLUSTER_NAME: &str = "satsync-test";

pub struct NatsCluster {
    /// Every node's configuration, store and log (dropped last, after the processes are gone).
    dir: tempfile::TempDir,
    binary: PathBuf,
    nodes: Vec<Node>,
}

struct Node {
    client_port: u16,
    route_port: u16,
    http_port: u16,
    config: PathBuf,
    log: PathBuf,
    /// `None` while the node is killed.
    process: Option<Child>,
}

/// The nats-server binary, found once per test process.
pub fn nats_server_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("SATSYNC_NATS_SERVER") {
                return PathBuf::from(path);
            }
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-nats");
            let output = Command::new(&script)
                .stderr(Stdio::inherit())
                .output()
                .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
            assert!(output.status.success(), "{} failed", script.display());
            let path = String::from_utf8(output.stdout).unwrap().trim().to_string();
            assert!(!path.is_empty(), "{} printed no path", script.display());
            PathBuf::from(path)
        })
        .clone()
}

impl NatsCluster {
    /// Starts `nodes` servers routed to each other and waits until JetStream's meta group has a
    /// leader that every node knows, and every node reports itself healthy.
    pub async fn start(nodes: usize) -> NatsCluster {
        assert!(nodes >= 1);
        let binary = nats_server_binary();
        // The ports are found free by binding and releasing them, so another process may take one
        // before the server binds it: a node that exits while starting means a fresh set of
        // ports, a few times over.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut cluster = NatsCluster::configure(&binary, nodes);
            for i in 0..nodes {
                cluster.spawn(i);
            }
            match cluster.wait_healthy(&(0..nodes).collect::<Vec<_>>()).await {
                Ok(()) => return cluster,
                Err(why) if attempt < 3 && cluster.any_exited() => {
                    eprintln!("NATS cluster start, attempt {attempt}: {why}; trying new ports");
                }
                Err(why) => panic!("the NATS cluster did not start: {why}\n{}", cluster.all_logs()),
            }
        }
    }

    /// Writes each node's configuration on ports free right now.
    fn configure(binary: &Path, nodes: usize) -> NatsCluster {
        let dir = tempfile::tempdir().unwrap();
        let ports = free_ports(3 * nodes);
        let (client_ports, rest) = ports.split_at(nodes);
        let (route_ports, http_ports) = rest.split_at(nodes);
        let routes: Vec<String> = route_ports
            .iter()
            .map(|port| format!("\"nats-route://127.0.0.1:{port}\""))
            .collect();
        let nodes = (0..nodes)
            .map(|i| {
                let store = dir.path().join(format!("n{i}-store"));
                std::fs::create_dir_all(&store).unwrap();
                let config = dir.path().join(format!("n{i}.conf"));
                // sync_interval: always — JetStream's default fsyncs every two minutes, so an
                // acknowledged write could be lost by a machine crash. max_payload 64MB is the
                // server's maximum (67,108,864 bytes; it warns above 8MB): our largest push body
                // is 32 MiB. Each node lists every route, itself included, as deployments do
                // (the server ignores its own).
                let text = format!(
                    "server_name: \"n{i}\"\n\
                     listen: \"127.0.0.1:{client}\"\n\
                     http: \"127.0.0.1:{http}\"\n\
                     max_payload: 64MB\n\
                     jetstream {{\n  store_dir: \"{store}\"\n  sync_interval: always\n}}\n\
                     cluster {{\n  name: \"{CLUSTER_NAME}\"\n  listen: \"127.0.0.1:{route}\"\n  \
                     routes: [{routes}]\n}}\n",
                    client = client_ports[i],
                    http = http_ports[i],
                    store = store.display(),
                    route = route_ports[i],
                    routes = routes.join(", "),
                );
                std::fs::write(&config, text).unwrap();
                Node {
                    client_port: client_ports[i],
                    route_port: route_ports[i],
                    http_port: http_ports[i],
                    config,
                    log: dir.path().join(format!("n{i}.log")),
                    process: None,
                }
            })
            .collect();
        NatsCluster {
            dir,
            binary: binary.to_path_buf(),
            nodes,
        }
    }

    fn spawn(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        assert!(node.process.is_none(), "n{i} is running already");
        // Appended to: a restarted node's log follows the one of its first life.
        let log = OpenOptions::new().create(true).append(true).open(&node.log).unwrap();
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(&node.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.binary.display()));
        node.process = Some(child);
    }

    /// Node count, killed ones included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Every node's client URL, comma-joined (as `async_nats::connect` takes a server list).
    pub fn urls(&self) -> String {
        (0..self.nodes.len()).map(|i| self.url(i)).collect::<Vec<_>>().join(",")
    }

    /// Every node's client URL, one per node, for `async_nats::connect`.
    pub fn url_list(&self) -> Vec<String> {
        (0..self.nodes.len()).map(|i| self.url(i)).collect()
    }

    /// The URLs of the nodes running now.
    pub fn running_url_list(&self) -> Vec<String> {
        (0..self.nodes.len())
            .filter(|&i| self.is_running(i))
            .map(|i| self.url(i))
            .collect()
    }

    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].client_port)
    }

    /// The node's server name (`n0`, …), as the servers report leaders.
    pub fn name(&self, i: usize) -> String {
        format!("n{i}")
    }

    /// The node index of a server name, when it is one of ours.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        let i: usize = name.strip_prefix('n')?.parse().ok()?;
        (i < self.nodes.len()).then_some(i)
    }

    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i].process.is_some()
    }

    /// Kills node `i` with SIGKILL (nothing flushed, no leadership handed over) and reaps it.
    pub fn kill(&mut self, i: usize) {
        let mut child = self.nodes[i]
            .process
            .take()
            .unwrap_or_else(|| panic!("n{i} is not running"));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Starts killed node `i` again on its ports and store, and waits until it reports itself
    /// healthy: JetStream on, the meta group's leader known, and its streams caught up.
    pub async fn restart(&mut self, i: usize) {
        self.spawn(i);
        if let Err(why) = self.wait_healthy(&[i]).await {
            panic!("n{i} did not come back: {why}\n{}", self.logs(i));
        }
    }

    /// Everything node `i` logged, its earlier lives included.
    pub fn logs(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
    }

    fn all_logs(&self) -> String {
        (0..self.nodes.len())
            .map(|i| format!("----- n{i} log -----\n{}", self.logs(i)))
            .collect()
    }

    /// The temporary directory holding every node's configuration, store and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Node `i`'s JSON reply from its monitoring endpoint at `path_and_query`, or `None` when it
    /// does not answer (killed, or not listening yet).
    pub async fn monitor(&self, i: usize, path_and_query: &str) -> Option<Value> {
        let body = http_get(self.nodes[i].http_port, path_and_query).await?;
        serde_json::from_str(&body).ok()
    }

    /// The node whose server leads the Raft group of `stream`: the running node that reports,
    /// from its own `/jsz`, that it is the leader. `None` while no node does, or during an
    /// election when more than one still claims it.
    pub async fn stream_leader(&self, stream: &str) -> Option<usize> {
        let mut claims = Vec::new();
        for i in (0..self.nodes.len()).filter(|&i| self.is_running(i)) {
            let detail = self.stream_detail(i, stream).await;
            let leader = detail.as_ref().and_then(|d| d["cluster"]["leader"].as_str());
            if leader == Some(self.name(i).as_str()) {
                claims.push(i);
            }
        }
        match claims[..] {
            [only] => Some(only),
            _ => None,
        }
    }

    /// Polls [`Self::stream_leader`] until a node leads `stream`, for up to `within`.
    pub async fn wait_stream_leader(&self, stream: &str, within: Duration) -> Option<usize> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(leader) = self.stream_leader(stream).await {
                return Some(leader);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What node `i` holds of `stream` on its own disk: (messages, last sequence), from its
    /// `/jsz`. `None` when it hosts no replica of the stream or does not answer.
    pub async fn stream_state(&self, i: usize, stream: &str) -> Option<(u64, u64)> {
        let detail = self.stream_detail(i, stream).await?;
        let state = &detail["state"];
        Some((state["messages"].as_u64()?, state["last_seq"].as_u64()?))
    }

    /// Node `i`'s `/jsz` entry of `stream` (name, config, state, cluster).
    async fn stream_detail(&self, i: usize, stream: &str) -> Option<Value> {
        let jsz = self.monitor(i, "/jsz?accounts=true&streams=true").await?;
        jsz["account_details"]
            .as_array()?
            .iter()
            .filter_map(|account| account["stream_detail"].as_array())
            .flatten()
            .find(|detail| detail["name"] == stream)
            .cloned()
    }

    /// Waits until every node in `which` answers `/healthz` with ok (its JetStream assets
    /// current) and knows the meta group's leader, or says why not after [`HEALTHY_WITHIN`].
    async fn wait_healthy(&mut self, which: &[usize]) -> Result<(), String> {
        let deadline = Instant::now() + HEALTHY_WITHIN;
        let mut pending: Vec<usize> = which.to_vec();
        loop {
            for &i in &pending {
                if let Some(Ok(Some(status))) = self.nodes[i].process.as_mut().map(Child::try_wait) {
                    return Err(format!("n{i} exited while starting ({status})"));
                }
            }
            let mut still = Vec::new();
            let mut last = String::new();
            for &i in &pending {
                match self.health(i).await {
                    Ok(()) => {}
                    Err(why) => {
                        last = format!("n{i}: {why}");
                        still.push(i);
                    }
                }
            }
            pending = still;
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not healthy after {HEALTHY_WITHIN:?}: {last}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn health(&self, i: usize) -> Result<(), String> {
        // Without arguments /healthz checks JetStream in full: the meta group current and every
        // stream and consumer this node hosts current too. It is ok on a lone node before its
        // routes are up, so the meta leader is checked on /jsz as well.
        let health = self.monitor(i, "/healthz").await.ok_or("no answer on /healthz")?;
        if health["status"] != "ok" {
            return Err(format!("/healthz {health}"));
        }
        let jsz = self.monitor(i, "/jsz").await.ok_or("no answer on /jsz")?;
        let meta = &jsz["meta_cluster"];
        if meta["leader"].as_str().unwrap_or("").is_empty() {
            return Err("no meta leader yet".into());
        }
        let size = meta["cluster_size"].as_u64().unwrap_or(0);
        if size != self.nodes.len() as u64 {
            return Err(format!("meta group of {size}"));
        }
        Ok(())
    }

    fn any_exited(&mut self) -> bool {
        self.nodes
            .iter_mut()
            .filter_map(|node| node.process.as_mut())
            .any(|child| matches!(child.try_wait(), Ok(Some(_))))
    }

    /// Kills every running node and reaps it.
    pub fn stop_all(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.process.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        self.stop_all();
        if std::thread::panicking() {
            for i in 0..self.nodes.len() {
                let log = self.logs(i);
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("----- the end of n{i}'s log -----");
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// `count` distinct ports that were free a moment ago (all bound at once, then released).
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

/// The body of `GET path` on 127.0.0.1:`port` (HTTP/1.0: the server closes after replying), or
/// `None` when nothing answers within two seconds.
async fn http_get(port: u16, path: &str) -> Option<String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.ok()?;
        let reply = String::from_utf8(reply).ok()?;
        let (_, body) = reply.split_once("\r\n\r\n")?;
        Some(body.to_string())
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .ok()
        .flatten()
}
