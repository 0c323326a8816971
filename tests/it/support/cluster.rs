//! A satsync cluster for the tests: a real three-node NATS JetStream cluster (`nats.rs`) and
//! satsync instances on it, each a real server on its own ephemeral port over its own RocksDB,
//! in this process. Sites are registered through an instance (the directory is replicated like
//! any change), and a test's satellite may spread its requests over every instance.

use std::time::{Duration, Instant};

use satsync::admin::directory::{plan_add_site, plan_add_store, plan_put_user, NewStore};
use satsync::config::{ClusterConfig, Config};
use satsync::domain::credentials::PasswordHash;
use satsync::sync::SyncEngine;

use super::nats::NatsCluster;
use super::{Satellite, SiteLogin, TestServer};

/// How long the cluster may take to elect a writer or to apply a change everywhere: far above
/// what it takes, so that only a broken cluster fails a test.
pub const WITHIN: Duration = Duration::from_secs(60);

/// Waits until `engine`'s replica has applied everything in the log now, asking again while it
/// answers "not yet" (a request gives up after 10 s; a busy machine may need longer).
pub async fn caught_up(engine: &satsync::sync::SyncEngine) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        match engine.caught_up().await {
            Ok(()) => return,
            Err(error) => assert!(
                tokio::time::Instant::now() < deadline,
                "an instance did not catch up with the log within {WITHIN:?}: {error}"
            ),
        }
    }
}

pub struct TestCluster {
    /// Instances still running (`None` once stopped).
    pub instances: Vec<Option<TestServer>>,
    pub nats: NatsCluster,
    dirs: Vec<tempfile::TempDir>,
}

/// The `[cluster]` section of instance `n`: a short lease, so that failovers are quick.
pub fn cluster_config(nats: &NatsCluster, n: usize) -> ClusterConfig {
    ClusterConfig {
        servers: nats.url_list(),
        instance: format!("instance-{n}"),
        stream: "SATSYNC_LOG".into(),
        lease_bucket: "satsync_lease".into(),
        snapshot_bucket: "satsync_snapshots".into(),
        subject_prefix: "satsync".into(),
        lease_ttl_seconds: 2,
        replicas: 3,
        snapshot_interval_seconds: 3600,
    }
}

impl TestCluster {
    /// Three NATS servers and `instances` satsync instances, one of them the writer.
    pub async fn start(instances: usize) -> TestCluster {
        TestCluster::start_with(instances, |_| {}).await
    }

    /// [`TestCluster::start`] with every instance's configuration changed by `adjust` (the
    /// scenarios' limits and patient sync settings, the same on every instance).
    pub async fn start_with(instances: usize, adjust: impl Fn(&mut Config)) -> TestCluster {
        let nats = NatsCluster::start(3).await;
        let mut cluster = TestCluster {
            instances: Vec::new(),
            nats,
            dirs: Vec::new(),
        };
        for n in 0..instances {
            let dir = tempfile::tempdir().unwrap();
            let server = cluster.start_instance(n, dir.path(), &adjust).await;
            cluster.instances.push(Some(server));
            cluster.dirs.push(dir);
        }
        cluster.wait_writer().await;
        cluster
    }

    async fn start_instance(&self, n: usize, dir: &std::path::Path, adjust: &impl Fn(&mut Config)) -> TestServer {
        let config = cluster_config(&self.nats, n);
        TestServer::start_with(dir, move |c| {
            adjust(c);
            c.cluster = Some(config);
        })
        .await
    }

    pub fn instance(&self, n: usize) -> &TestServer {
        self.instances[n].as_ref().expect("a running instance")
    }

    pub fn running(&self) -> impl Iterator<Item = &TestServer> {
        self.instances.iter().flatten()
    }

    /// The running instance that is the writer now, if one is.
    pub fn writer(&self) -> Option<usize> {
        self.instances.iter().position(|instance| {
            instance
                .as_ref()
                .and_then(|i| i.primary.engine.replication())
                .is_some_and(|replication| replication.is_writer())
        })
    }

    /// Waits until a running instance is the writer and every running one knows it.
    pub async fn wait_writer(&self) -> usize {
        let started = Instant::now();
        loop {
            if let Some(writer) = self.writer() {
                let name = format!("instance-{writer}");
                let known = self
                    .running()
                    .all(|i| i.primary.cluster.as_ref().unwrap().writer().as_deref() == Some(name.as_str()));
                if known {
                    return writer;
                }
            }
            assert!(started.elapsed() < WITHIN, "no writer elected within {WITHIN:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops instance `n` cleanly (it gives up the lease if it holds it).
    pub async fn stop(&mut self, n: usize) {
        if let Some(server) = self.instances[n].take() {
            server.stop().await;
        }
    }

    /// Registers `count` satellite sites, as `support::register_sites` does offline, through
    /// instance `via`: each change goes through the log to every instance.
    pub async fn register_sites(&self, via: usize, count: usize) -> Vec<SiteLogin> {
        let engine = &self.instance(via).primary.engine;
        let mut logins = Vec::new();
        for n in 0..count {
            logins.push(register_site(engine, &format!("site{}", n + 2), None, 0xA000 + n as u64).await);
        }
        self.wait_applied_everywhere().await;
        logins
    }

    /// Waits until every running instance has applied everything in the log now.
    pub async fn wait_applied_everywhere(&self) {
        for instance in self.running() {
            caught_up(&instance.primary.engine).await;
        }
    }

    /// A satellite whose requests alternate over every running instance, as behind a load
    /// balancer that picks a server per request.
    pub fn satellite(&self, login: &SiteLogin, version: &str) -> Satellite {
        let bases: Vec<String> = self.running().map(TestServer::base_url).collect();
        Satellite::spread(&bases, login, version)
    }
}

/// Registers one satellite site through a running engine, as `support::register_site` does
/// offline: the site `name` (with the id given, or the next free one), hosting one store whose id
/// is `store` in 32 hex digits, and a user `user-<name>` of that store who holds every
/// permission. Three directory changes, each through the writer (forwarded when `engine` is not
/// the writer's).
pub async fn register_site(engine: &SyncEngine, name: &str, id: Option<u32>, store: u64) -> SiteLogin {
    let password = format!("pw-{name}");
    let (store_id, store_name_id) = (format!("{store:032X}"), format!("{:032X}", store + 0x1000));
    let hash = PasswordHash::from_password(&password);
    let site_name = name.to_string();
    let changes = engine
        .change_directory(Box::new(move |d| {
            plan_add_site(d, &site_name, hash, id).map_err(|e| e.to_string())
        }))
        .await
        .unwrap();
    let id = match &changes[0] {
        satsync::domain::directory::DirectoryChange::PutSite(site) => site.id.0,
        other => panic!("a site added as {other:?}"),
    };
    let (site_name, sid, sname) = (name.to_string(), store_id.clone(), store_name_id.clone());
    engine
        .change_directory(Box::new(move |d| {
            let new = NewStore {
                id: Some(&sid),
                name: &format!("store of {site_name}"),
                code: "",
                name_id: Some(&sname),
                site: &site_name,
                supplying_store_id: "",
            };
            plan_add_store(d, &new).map_err(|e| e.to_string())
        }))
        .await
        .unwrap();
    let (user, stores) = (format!("user-{name}"), vec![store_id.clone()]);
    let hash = PasswordHash::from_password("user-pass");
    let every_permission = satsync::domain::permissions::ALL.map(str::to_string);
    engine
        .change_directory(Box::new(move |d| {
            plan_put_user(d, &user, hash, &stores, false, &every_permission).map_err(|e| e.to_string())
        }))
        .await
        .unwrap();
    SiteLogin {
        id,
        name: name.to_string(),
        password,
        store_id,
        store_name_id,
    }
}
