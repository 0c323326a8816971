//! The scenarios that matter run both ways (issue 17): against one process, as they always did,
//! and against a cluster of two satsync instances on a real three-node NATS JetStream cluster,
//! the test's satellites spread over both. A scenario is written once, against a [`Deployment`],
//! and started by one test of each [`Kind`].

use std::future::Future;
use std::sync::Arc;

use satsync::admin::directory::{change_offline, plan_put_user};
use satsync::admin::operators::{new_password, plan_add_operator};
use satsync::config::Config;
use satsync::domain::credentials::PasswordHash;
use satsync::domain::directory::{Directory, DirectoryChange};
use satsync::primary::Primary;
use satsync::store::Database;
use satsync::sync::SyncEngine;

use super::cluster::{self, TestCluster};
use super::{register_site, Satellite, SiteLogin, TestServer, PRIMARY};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One primary in this process over its own RocksDB.
    Single,
    /// Two satsync instances (each its own RocksDB) on a three-node NATS cluster.
    Cluster,
}

pub enum Deployment {
    Single {
        server: TestServer,
        _dir: tempfile::TempDir,
    },
    Cluster {
        cluster: TestCluster,
        /// An instance that is not the writer: what it is asked to change, it forwards.
        front: usize,
    },
}

/// Where a deployment's directory is set up before a scenario starts: offline in the database
/// before the server opens it (a single process, as the tests always did), or through a running
/// instance's engine (a cluster: offline writes would reach one instance's database only, so
/// the changes go through the log to every instance).
pub enum Registrar {
    Offline(Database),
    Online(Arc<Primary>),
}

impl Registrar {
    /// Carries out a directory plan, as an operator's act does.
    pub async fn change(
        &self,
        plan: impl FnOnce(&Directory) -> satsync::admin::Result<Vec<DirectoryChange>> + Send + 'static,
    ) -> Vec<DirectoryChange> {
        match self {
            Registrar::Offline(storage) => change_offline(storage, PRIMARY, plan).unwrap(),
            Registrar::Online(primary) => primary
                .engine
                .change_directory(Box::new(move |d| plan(d).map_err(|e| e.to_string())))
                .await
                .unwrap(),
        }
    }

    /// Registers `count` satellite sites named `site2`, `site3`… (see `support::register_sites`).
    pub async fn register_sites(&self, count: usize) -> Vec<SiteLogin> {
        let mut logins = Vec::new();
        for n in 0..count {
            logins.push(
                self.register_site(&format!("site{}", n + 2), None, 0xA000 + n as u64)
                    .await,
            );
        }
        logins
    }

    /// Registers one satellite site, its store and a user of it (see `support::register_site`).
    pub async fn register_site(&self, name: &str, id: Option<u32>, store: u64) -> SiteLogin {
        match self {
            Registrar::Offline(storage) => register_site(storage, name, id, store),
            Registrar::Online(primary) => cluster::register_site(&primary.engine, name, id, store).await,
        }
    }

    /// Adds (or replaces) a user who may log in to `stores` with `permissions`.
    pub async fn put_user(&self, name: &str, password: &str, stores: &[String], permissions: &[String]) {
        let (name, hash) = (name.to_string(), PasswordHash::from_password(password));
        let (stores, permissions) = (stores.to_vec(), permissions.to_vec());
        self.change(move |d| plan_put_user(d, &name, hash, &stores, false, &permissions))
            .await;
    }

    /// Adds an operator of the admin API.
    pub async fn add_operator(&self, name: &str, password: &str) {
        let (name, hash) = (name.to_string(), new_password(password).unwrap());
        self.change(move |d| plan_add_operator(d, &name, hash)).await;
    }
}

impl Deployment {
    /// A deployment of `kind` with `sites` satellite sites registered (`site2`, `site3`…).
    pub async fn start(kind: Kind, sites: usize) -> (Deployment, Vec<SiteLogin>) {
        Deployment::start_with(kind, |_| {}, move |r| async move { r.register_sites(sites).await }).await
    }

    /// A deployment of `kind`, every server's configuration changed by `adjust`, its directory
    /// set up by `setup` before any satellite calls: offline before the single server starts,
    /// or through the cluster's instance that is not the writer (every change forwarded), and
    /// applied by every instance before this returns.
    pub async fn start_with<T, Fut>(
        kind: Kind,
        adjust: impl Fn(&mut Config),
        setup: impl FnOnce(Registrar) -> Fut,
    ) -> (Deployment, T)
    where
        Fut: Future<Output = T>,
    {
        match kind {
            Kind::Single => {
                let dir = tempfile::tempdir().unwrap();
                // The registrar (and the database it holds) is gone once `setup` is done.
                let made = setup(Registrar::Offline(Database::open(dir.path(), 16).unwrap())).await;
                let server = TestServer::start_with(dir.path(), adjust).await;
                (Deployment::Single { server, _dir: dir }, made)
            }
            Kind::Cluster => {
                let cluster = TestCluster::start_with(2, adjust).await;
                let front = 1 - cluster.wait_writer().await;
                let made = setup(Registrar::Online(cluster.instance(front).primary.clone())).await;
                cluster.wait_applied_everywhere().await;
                (Deployment::Cluster { cluster, front }, made)
            }
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Deployment::Single { .. } => Kind::Single,
            Deployment::Cluster { .. } => Kind::Cluster,
        }
    }

    /// Every server: the one, or each running instance of the cluster.
    pub fn servers(&self) -> Vec<&TestServer> {
        match self {
            Deployment::Single { server, .. } => vec![server],
            Deployment::Cluster { cluster, .. } => cluster.running().collect(),
        }
    }

    /// The server a scenario's own calls go to when they must all reach one: in a cluster, an
    /// instance that is not the writer, so that every change it is asked for is forwarded.
    pub fn front(&self) -> &TestServer {
        match self {
            Deployment::Single { server, .. } => server,
            Deployment::Cluster { cluster, front } => cluster.instance(*front),
        }
    }

    /// The other server: in a cluster, the instance that is the writer; the same server as
    /// [`Deployment::front`] in a single process.
    pub fn back(&self) -> &TestServer {
        match self {
            Deployment::Single { server, .. } => server,
            Deployment::Cluster { cluster, front } => cluster.instance(1 - *front),
        }
    }

    /// A satellite of `login`: in a cluster, its requests alternate over both instances, as
    /// behind a load balancer.
    pub fn satellite(&self, login: &SiteLogin, version: &str) -> Satellite {
        match self {
            Deployment::Single { server, .. } => server.satellite(login, version),
            Deployment::Cluster { cluster, .. } => cluster.satellite(login, version),
        }
    }

    /// Every server's sync engine, in the order [`Deployment::servers`] gives.
    pub fn engines(&self) -> Vec<&SyncEngine> {
        self.servers().into_iter().map(|s| &s.primary.engine).collect()
    }

    /// Registers one more satellite site while the deployment runs, through the front server.
    pub async fn register_site(&self, name: &str, id: Option<u32>, store: u64) -> SiteLogin {
        let login = Registrar::Online(self.front().primary.clone())
            .register_site(name, id, store)
            .await;
        self.caught_up_everywhere().await;
        login
    }

    /// Waits until every server holds everything the log held (at once for a single process):
    /// what the read rule does before a satellite's request, for checks that read a server's
    /// storage directly.
    pub async fn caught_up_everywhere(&self) {
        for server in self.servers() {
            cluster::caught_up(&server.primary.engine).await;
        }
    }

    /// Stops every server cleanly: in a cluster, the instance that is not the writer first.
    pub async fn stop(self) {
        match self {
            Deployment::Single { server, .. } => server.stop().await,
            Deployment::Cluster { mut cluster, front } => {
                cluster.stop(front).await;
                cluster.stop(1 - front).await;
            }
        }
    }
}

/// Two tests of one scenario: `$single` against one process, with the attributes given (the
/// test as it always was), and `$cluster` against a cluster, on a runtime of four workers (the
/// cluster's NATS clients and both instances' tasks run on it). `$scenario` takes the [`Kind`]:
/// an `async fn` of it, or a closure that returns its future.
///
/// ```ignore
/// both_ways! {
///     #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
///     fn mobile_cycle_on_v2, cluster_mobile_cycle_on_v2 = |kind| cycle(kind, "v2")
/// }
/// ```
macro_rules! both_ways {
    ($(#[$single_attr:meta])* fn $single:ident, $cluster:ident = $scenario:expr) => {
        $(#[$single_attr])*
        async fn $single() {
            ($scenario)($crate::support::deployment::Kind::Single).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $cluster() {
            ($scenario)($crate::support::deployment::Kind::Cluster).await;
        }
    };
}
pub(crate) use both_ways;
