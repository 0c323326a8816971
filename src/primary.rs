//! The running primary: the configuration, the sync engine over its database, and the patient
//! sync service, opened together. The server hands it to every handler; the patient sync
//! service sees it as its [`crate::patient_sync::Host`] (the engine, through which its requests
//! to satellites are pushes, and its own state), never as a whole.

use crate::config::Config;
use crate::domain::ids::SiteId;
use crate::patient_sync::PatientSync;
use crate::store::Storage;
use crate::sync::SyncEngine;

/// Why the primary could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory or the listener failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The database could not be opened.
    #[error(transparent)]
    Storage(#[from] crate::store::StoreError),
    /// The sync engine could not rebuild its state.
    #[error(transparent)]
    Sync(#[from] crate::sync::SyncError),
    /// An offline command on the database of a cluster's instance: what it changed would not be
    /// in the cluster's log.
    #[error("{0} belongs to an instance of a cluster ([cluster] in the configuration): a change made offline would not be in the cluster's log. Start the instance and run the command again (it goes through the running server), or prepare a seed database with a configuration without [cluster]")]
    Clustered(String),
    /// The cluster's NATS servers could not be reached or set up.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// The running primary: configuration, the sync engine, and the patient sync service.
pub struct Primary {
    pub config: Config,
    pub engine: SyncEngine,
    pub patients: PatientSync,
    /// Requests by API, endpoint and status, with their latencies (the access log records
    /// them, the metrics read them).
    pub requests: crate::api::request_metrics::RequestMetrics,
    /// Imports operators started through the admin API, and how far each got.
    pub imports: crate::admin::transfer::Imports,
    /// Set when the primary was told to stop: it is no longer ready (load balancers send
    /// nothing new) while the requests in flight finish.
    pub stopping: std::sync::atomic::AtomicBool,
    /// This instance's cluster, when `[cluster]` configures one.
    pub cluster: Option<std::sync::Arc<crate::cluster::Cluster>>,
}

impl Primary {
    /// Opens the database named by `config` and starts the sync engine on it, on its own: what
    /// the command line's offline commands work on.
    pub fn open(config: Config) -> Result<Primary, ServeError> {
        let clustered = config.cluster.is_some();
        let data_dir = config.storage.data_dir.display().to_string();
        let primary = Primary::open_with(config, None)?;
        if clustered {
            // Opened first, so that a running instance (which holds the database) is still
            // reached through its admin API by the commands that fall back to it.
            primary.engine.shutdown();
            return Err(ServeError::Clustered(data_dir));
        }
        Ok(primary)
    }

    /// [`Primary::open`] for serving: as one instance of the cluster `[cluster]` names, if any
    /// (connected to NATS first), its cluster's tasks to start with [`Primary::start_cluster`].
    /// Called inside the runtime.
    pub async fn open_to_serve(config: Config) -> Result<Primary, ServeError> {
        let cluster = match &config.cluster {
            Some(settings) => {
                let cluster = crate::cluster::Cluster::connect(settings, &config.storage.data_dir).await?;
                // An instance on an empty disk starts from the cluster's latest snapshot.
                crate::cluster::snapshot::restore_if_empty(&cluster, &config.storage.data_dir)
                    .await
                    .map_err(|cause| crate::cluster::ClusterError::Setup {
                        what: "this instance's database from the latest snapshot".into(),
                        cause,
                    })?;
                Some(cluster)
            }
            None => None,
        };
        Primary::open_with(config, cluster)
    }

    /// Starts the cluster's tasks (the log's tail, the lease, forwarded changes), if clustered.
    pub fn start_cluster(self: &std::sync::Arc<Primary>) {
        if let Some(cluster) = &self.cluster {
            cluster.start(self.clone());
        }
        // Patient loads waiting here are woken by patient sync's changes that another instance
        // wrote, as they are by this instance's own.
        if let Some(replication) = self.engine.replication() {
            let mut changes = replication.patient_changes();
            let primary = std::sync::Arc::downgrade(self);
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    let Some(primary) = primary.upgrade() else {
                        return;
                    };
                    primary.patients.waiters.notify_all();
                }
            });
        }
    }

    /// Leaves the cluster, if clustered (see [`crate::cluster::Cluster::leave`]): before the
    /// engine stops.
    pub async fn leave_cluster(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.leave(&self.engine).await;
        }
    }

    fn open_with(
        config: Config,
        cluster: Option<std::sync::Arc<crate::cluster::Cluster>>,
    ) -> Result<Primary, ServeError> {
        std::fs::create_dir_all(&config.storage.data_dir)?;
        let (storage, right) = Storage::open(&config.storage.data_dir, config.storage.block_cache_mib)?;
        let catalogues = crate::sync::Catalogues::new(
            config.tables.clone(),
            config.fields.clone(),
            config.records.value_rules(),
        );
        let log = cluster.as_ref().map(|cluster| cluster.log());
        let engine =
            SyncEngine::open_replicated(storage, right, catalogues, SiteId(config.server.primary_site_id), log)?;
        engine.health().set_thresholds(config.admin.thresholds());
        let patients = PatientSync::new(config.patient.clone());
        Ok(Primary {
            config,
            engine,
            patients,
            requests: Default::default(),
            imports: Default::default(),
            stopping: Default::default(),
            cluster,
        })
    }
}

impl AsRef<SyncEngine> for Primary {
    fn as_ref(&self) -> &SyncEngine {
        &self.engine
    }
}

impl crate::patient_sync::Host for Primary {
    fn engine(&self) -> &SyncEngine {
        &self.engine
    }

    fn patients(&self) -> &PatientSync {
        &self.patients
    }
}
