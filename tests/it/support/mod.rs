//! Test support: a real server on an ephemeral port over a real RocksDB in a temporary directory,
//! a satellite client that speaks HTTP to it like mSupply Mobile does, a fake secondary source
//! (`fake_source`), hostile connections (`hostile`), the patient API's reply schemas (`schema`), and
//! a real NATS JetStream cluster (`nats`) with satsync instances on it (`cluster`), and the
//! scenarios' way to run against either a single process or such a cluster (`deployment`).

#![allow(dead_code, reason = "each scenario file uses a different part of the support module")]

pub mod admin;
pub mod client;
pub mod cluster;
pub mod data;
pub mod deployment;
pub mod fake_source;
pub mod hostile;
pub mod nats;
pub mod process;
pub mod process_cluster;
pub mod remote;
pub mod schema;
pub mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use satsync::admin::directory::{add_satellites, NewSatellite, NewStore};
use satsync::config::Config;
use satsync::domain::ids::SiteId;
use satsync::http::Surface;
use satsync::primary::Primary;
use satsync::store::Database;
use tokio::sync::watch;

pub use client::Satellite;

pub const PRIMARY: SiteId = SiteId(1);

/// A site the tests registered, with what a satellite needs to log in.
#[derive(Debug, Clone)]
pub struct SiteLogin {
    pub id: u32,
    pub name: String,
    pub password: String,
    pub store_id: String,
    pub store_name_id: String,
}

impl From<&satsync::admin::demo::DemoSite> for SiteLogin {
    fn from(site: &satsync::admin::demo::DemoSite) -> SiteLogin {
        SiteLogin {
            id: site.site_id.0,
            name: site.site_name.clone(),
            password: site.site_password.clone(),
            store_id: site.store_id.clone(),
            store_name_id: site.store_name_id.clone(),
        }
    }
}

/// A primary running in this process, stopped when dropped: the satellites' listener at
/// `address`, the admin API's at `admin_address`.
pub struct TestServer {
    pub address: SocketAddr,
    pub admin_address: SocketAddr,
    /// The HTTPS listener's address, when the configuration has a `[tls]` section.
    pub tls_address: Option<SocketAddr>,
    /// The certificates it presents (reloaded as SIGHUP would).
    pub certificates: Option<Arc<satsync::http::tls::Certificates>>,
    pub data_dir: PathBuf,
    pub primary: Arc<Primary>,
    stop: Option<watch::Sender<bool>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on `data_dir` (which may already hold data).
    pub async fn start(data_dir: &Path) -> TestServer {
        TestServer::start_with(data_dir, |_| {}).await
    }

    pub async fn start_with(data_dir: &Path, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let admin_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin_address = admin_listener.local_addr().unwrap();
        let mut config = Config::for_data_dir(address, data_dir.to_path_buf());
        config.admin.listen = Some(admin_address);
        adjust(&mut config);
        let mut tls = None;
        if let Some(settings) = &config.tls {
            let certificates = satsync::http::tls::Certificates::load(settings).unwrap();
            let listener = tokio::net::TcpListener::bind(settings.listen).await.unwrap();
            tls = Some((listener, certificates));
        }
        let tls_address = tls.as_ref().map(|(listener, _)| listener.local_addr().unwrap());
        let certificates = tls.as_ref().map(|(_, certificates)| certificates.clone());
        let primary = Arc::new(Primary::open_to_serve(config).await.unwrap());
        primary.start_cluster();
        let (stop, stopped) = watch::channel(false);
        let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let serving = primary.clone();
        let satellites = tokio::spawn(satsync::http::run(
            serving,
            listener,
            until_stopped(stopped.clone()),
            Surface::Satellites,
        ));
        let serving = primary.clone();
        let admin = tokio::spawn(satsync::http::run(
            serving,
            admin_listener,
            until_stopped(stopped.clone()),
            Surface::Admin,
        ));
        let mut listeners = vec![satellites, admin];
        if let Some((listener, certificates)) = tls {
            listeners.push(tokio::spawn(satsync::http::run_tls(
                primary.clone(),
                listener,
                certificates.acceptor().unwrap(),
                until_stopped(stopped.clone()),
                Surface::Satellites,
            )));
        }
        // The health monitor, as `satsync serve` runs it.
        let serving = primary.clone();
        let monitor = tokio::spawn(async move {
            let every = std::time::Duration::from_secs(serving.config.admin.health_flush_seconds);
            satsync::admin::monitor::run(&serving.engine, every, until_stopped(stopped)).await
        });
        let mut tasks: Vec<tokio::task::JoinHandle<()>> = listeners
            .into_iter()
            .map(|task| tokio::spawn(async move { task.await.unwrap().unwrap() }))
            .collect();
        tasks.push(tokio::spawn(async move { monitor.await.unwrap() }));
        TestServer {
            address,
            admin_address,
            tls_address,
            certificates,
            data_dir: data_dir.to_path_buf(),
            primary,
            stop: Some(stop),
            tasks,
        }
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_address)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The HTTPS listener's base URL.
    pub fn tls_url(&self) -> String {
        format!("https://{}", self.tls_address.expect("a [tls] listener"))
    }

    pub fn satellite(&self, login: &SiteLogin, version: &str) -> Satellite {
        Satellite::new(&self.base_url(), login, version)
    }

    /// Imports `lines` (records in the push shape, one per line) as the primary's own data, as an
    /// operator loads it; every line must apply.
    pub async fn import(&self, lines: &str) {
        let applied = satsync::admin::transfer::import(
            &self.primary.engine,
            PRIMARY,
            lines.as_bytes(),
            lines.len() as u64,
            false,
        )
        .await
        .unwrap();
        assert_eq!(applied as usize, lines.lines().count());
    }

    /// A server over the demo: its sites created and its records imported, as `scripts/demo`
    /// does.
    pub async fn demo(data_dir: &Path) -> (TestServer, Vec<satsync::admin::demo::DemoSite>) {
        use satsync::admin::demo;
        let storage = Database::open(data_dir, 16).unwrap();
        let sites = demo::create_sites(&storage, PRIMARY).unwrap();
        drop(storage);
        let server = TestServer::start(data_dir).await;
        server
            .import(&demo::records(42, &sites, &demo::DemoSize::default()).join("\n"))
            .await;
        (server, sites)
    }

    /// Stops serving and closes the database, so the directory can be opened again.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        for task in self.tasks.drain(..) {
            task.await.unwrap();
        }
        self.primary.leave_cluster().await;
        self.primary.engine.shutdown();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        self.primary.engine.shutdown();
    }
}

/// Registers `count` satellite sites (ids from 2), each hosting one store, and one user per
/// store. Must run while no server is open on `data_dir`.
pub fn register_sites(data_dir: &Path, count: usize) -> Vec<SiteLogin> {
    let storage = Database::open(data_dir, 16).unwrap();
    (0..count)
        .map(|n| register_site(&storage, &format!("site{}", n + 2), None, 0xA000 + n as u64))
        .collect()
}

/// Registers one satellite site named `name` (with the id given, or the next free one), hosting
/// one store whose id is `store` in 32 hex digits, and a user `user-<name>` of that store who
/// holds every permission.
pub fn register_site(storage: &Database, name: &str, id: Option<u32>, store: u64) -> SiteLogin {
    let password = format!("pw-{name}");
    let store_id = format!("{store:032X}");
    let store_name_id = format!("{:032X}", store + 0x1000);
    let every_permission = satsync::domain::permissions::ALL.map(str::to_string);
    let new = NewSatellite {
        site_name: name,
        site_password: &password,
        site_id: id,
        store: NewStore {
            id: Some(&store_id),
            name: &format!("store of {name}"),
            code: "",
            name_id: Some(&store_name_id),
            site: name,
            supplying_store_id: "",
        },
        user_name: &format!("user-{name}"),
        user_password: "user-pass",
        permissions: &every_permission,
    };
    let site = add_satellites(storage, PRIMARY, &[new]).unwrap().remove(0).site;
    SiteLogin {
        id: site.id.0,
        name: name.to_string(),
        password,
        store_id,
        store_name_id,
    }
}

/// Total size of the database files (RocksDB's own text logs left out).
pub fn database_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with("LOG"))
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// Writes, at `path`, a configuration of a primary listening on an ephemeral port (its admin API
/// on another, unless `more` has an `[admin]` of its own) with its database in `data_dir`,
/// followed by `more` (TOML); returns `path`.
pub fn write_config(path: &Path, data_dir: &Path, more: &str) -> std::path::PathBuf {
    let admin = if more.contains("[admin]") {
        ""
    } else {
        "[admin]\nlisten = \"127.0.0.1:0\"\n"
    };
    let text = format!(
        "{admin}[server]\nlisten = \"127.0.0.1:0\"\n[storage]\ndata_dir = \"{}\"\n{more}",
        data_dir.display()
    );
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// Runs the `satsync` command line with a configuration whose database is `data_dir`; returns
/// (success, stdout, stderr).
pub fn satsync_cli(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    satsync_cli_input(data_dir, args, "")
}

/// [`satsync_cli`] with `input` on the command's standard input (a password, as a script pipes it).
pub fn satsync_cli_input(data_dir: &Path, args: &[&str], input: &str) -> (bool, String, String) {
    std::fs::create_dir_all(data_dir).unwrap();
    let config = write_config(&data_dir.join("satsync-cli.toml"), data_dir, "");
    run_satsync(&config, args, input, &[])
}

/// Runs the `satsync` command line with `config`, `input` on its standard input and `env` set
/// (the operator variables of the admin API unset unless `env` sets them); returns
/// (success, stdout, stderr).
pub fn run_satsync(config: &Path, args: &[&str], input: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_satsync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("SATSYNC_OPERATOR")
        .env_remove("SATSYNC_OPERATOR_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}
