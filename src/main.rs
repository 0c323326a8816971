//! The satsync command line: run the primary, load the demo data, administer sites, stores and
//! users, import and export records.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use satsync::admin;
use satsync::config::Config;
use satsync::domain::ids::SiteId;
use satsync::http::Surface;
use satsync::primary::Primary;
use satsync::store::Database;
use satsync::sync::ClientKind;
use serde_json::Value;

mod cli {
    pub mod directory;
    pub mod remote;
}

use cli::remote::{held_by_a_server, segment, Remote};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "satsync",
    version,
    about = "A high-throughput sync primary for mSupply satellites"
)]
struct Cli {
    /// The configuration file (see configs/satsync.toml for every key).
    #[arg(long, global = true, default_value = "configs/satsync.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the primary.
    Serve,
    /// Create the demo data set (on an empty database), print how to connect, and run the primary.
    Demo {
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Create the standard data set of the performance spec (on an empty database).
    Dataset {
        #[command(flatten)]
        spec: admin::dataset::DatasetSpec,
    },
    /// Satellite sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Stores.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Users who log in on satellites.
    #[command(subcommand)]
    User(UserCommand),
    /// Operators: who may use the admin API.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// A satellite's queue: see what blocks it, skip a record it cannot integrate.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Apply records from a JSON-lines file (one v2 push record per line) as the primary's own.
    Import { file: PathBuf },
    /// Print the stored form of a password, read from standard input, for
    /// `[v1] shared_password_hash` (the password itself is kept nowhere).
    HashPassword,
    /// Write every stored record as JSON lines in the push shape.
    Export {
        #[arg(long)]
        table: Option<String>,
        /// Where to write (standard output when left out).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// A satellite's client, as an operator names it.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ClientArg {
    /// mSupply Mobile since 2017 (`/sync/v3/`), or desktop.
    Mobile,
    /// The 2017 mSupply Mobile app (`/sync/v2/`).
    #[value(name = "mobile-2017")]
    Mobile2017,
    /// An open-mSupply remote site (`/sync/v5/`).
    OpenMsupply,
}

impl From<ClientArg> for ClientKind {
    fn from(client: ClientArg) -> ClientKind {
        match client {
            ClientArg::Mobile => ClientKind::Current,
            ClientArg::Mobile2017 => ClientKind::Mobile2017,
            ClientArg::OpenMsupply => ClientKind::OpenMsupply,
        }
    }
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Register a satellite site. Its password is read as `operator add` reads one.
    Add {
        #[arg(long)]
        name: String,
        /// The environment variable that holds the password (else a prompt, or standard input).
        #[arg(long)]
        password_env: Option<String>,
        #[arg(long)]
        id: Option<u32>,
        /// The client the site runs, when known before it first syncs (an open-mSupply site's
        /// transfers are routed to it as they are from the start).
        #[arg(long, value_enum)]
        client: Option<ClientArg>,
    },
    /// Declare the client a site runs (it changes by itself when the site syncs with another).
    SetClient {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        client: ClientArg,
    },
    /// List the sites.
    List,
    /// One site: its stores, binding, client and whether it is disabled.
    Show {
        #[arg(long)]
        name: String,
    },
    /// Remove a site, with the stores it hosts and its queue (its records stay on the primary).
    Remove {
        #[arg(long)]
        name: String,
    },
    /// Refuse a site's satellite (with a message its user reads) until it is enabled again.
    Disable {
        #[arg(long)]
        name: String,
    },
    /// Accept a disabled site's satellite again.
    Enable {
        #[arg(long)]
        name: String,
    },
    /// Forget a site's hardware binding (after a reinstall on new hardware).
    ResetHardware {
        #[arg(long)]
        name: String,
    },
    /// Change a site's password (read as `operator add` reads one).
    SetPassword {
        #[arg(long)]
        name: String,
        /// The environment variable that holds the password (else a prompt, or standard input).
        #[arg(long)]
        password_env: Option<String>,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator. The password is never an argument (it would show in `ps` and in shell
    /// history): it is asked for at a prompt when standard input is a terminal, otherwise read
    /// from its first line, or from the environment variable `--password-env` names.
    Add {
        #[arg(long)]
        name: String,
        /// The environment variable that holds the password.
        #[arg(long)]
        password_env: Option<String>,
    },
    /// Issue a bearer token to an operator (for scripts and monitoring), printed this once;
    /// only its hash is kept.
    Token {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum QueueCommand {
    /// List the records at the head of a site's queue, in delivery order.
    Show {
        #[arg(long)]
        site: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Remove one record from one site's queue (it stays on the primary and in other queues).
    Skip {
        #[arg(long)]
        site: String,
        /// The SyncID the record is queued under (from `queue show`).
        #[arg(long)]
        sync_id: String,
        /// Why: kept in the skip log.
        #[arg(long)]
        reason: String,
    },
    /// The skip log of a site.
    Skipped {
        #[arg(long)]
        site: String,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Add a store to a site.
    Add {
        #[arg(long)]
        site: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        code: String,
        /// The store's id (32 hex); a new one when left out.
        #[arg(long)]
        id: Option<String>,
        /// The id of the store's own `name` record; a new one when left out.
        #[arg(long)]
        name_id: Option<String>,
        #[arg(long, default_value = "")]
        supplying_store: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add or replace a user. The password is read as `operator add` reads one.
    Add {
        #[arg(long)]
        name: String,
        /// The environment variable that holds the password (else a prompt, or standard input).
        #[arg(long)]
        password_env: Option<String>,
        /// A store the user may log in to (repeat for several).
        #[arg(long = "store")]
        stores: Vec<String>,
        #[arg(long)]
        admin: bool,
        /// A permission of the patient sync API: read-patient-record or clear-patient-sync
        /// (repeat for several).
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::HashPassword = cli.command {
        return hash_password();
    }
    let config = Config::load(&cli.config)?;
    start_logging(&config.log);
    let primary = SiteId(config.server.primary_site_id);
    match cli.command {
        Command::Serve => serve(config, None),
        Command::Demo { seed } => {
            let demo = prepare_demo(&config, seed)?;
            serve(config, Some(demo))
        }
        Command::Dataset { spec } => {
            let admin::dataset::DatasetSpec { sites, records, .. } = spec;
            if !admin::directory::list_sites(&open_storage(&config)?, primary)?.is_empty() {
                anyhow::bail!(
                    "the data set is created on an empty database; {} holds sites",
                    config.storage.data_dir.display()
                );
            }
            // Records first, then the sites, positioned after them: the satellites start as
            // initialised (holding the data set); the reinit scenario dumps explicitly.
            let progress = indicatif::ProgressBar::new(records as u64);
            progress.set_style(indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} records ({per_sec}, {eta})",
            )?);
            let started = std::time::Instant::now();
            let applied = offline(&config, |app, runtime| {
                Ok(runtime.block_on(admin::dataset::load(&app.engine, primary, &spec, &progress))?)
            })?;
            progress.finish();
            let storage = open_storage(&config)?;
            admin::dataset::create_sites(&storage, primary, &spec)?;
            storage.compact();
            println!(
                "data set: {sites} sites, {applied} records in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Site(command) => cli::directory::site(&config, primary, command),
        Command::Store(command) => cli::directory::store(&config, primary, command),
        Command::User(command) => cli::directory::user(&config, primary, command),
        Command::Operator(OperatorCommand::Add { name, password_env }) => {
            let password = read_password(password_env.as_deref(), &format!("password for operator {name}: "))?;
            match open_storage(&config) {
                Ok(storage) => drop(admin::operators::add_operator(&storage, primary, &name, &password)?),
                Err(error) if held_by_a_server(&error) => {
                    let body = serde_json::json!({"name": name, "password": password});
                    Remote::connect(&config)?.post("/operators", Some(body))?;
                }
                Err(error) => return Err(error),
            }
            println!("added operator {name}");
            Ok(())
        }
        Command::Operator(OperatorCommand::Token { name }) => {
            let token = match open_storage(&config) {
                Ok(storage) => admin::operators::issue_token(&storage, primary, &name)?,
                Err(error) if held_by_a_server(&error) => {
                    let path = format!("/operators/{}/tokens", segment(&name));
                    let reply = Remote::connect(&config)?.post(&path, None)?;
                    reply["token"].as_str().unwrap_or_default().to_string()
                }
                Err(error) => return Err(error),
            };
            eprintln!("a bearer token for operator {name}, shown this once (Authorization: Bearer <token>):");
            println!("{token}");
            Ok(())
        }
        Command::Queue(command) => match Primary::open(config.clone()) {
            Ok(app) => run_offline(app, |app, runtime| queue_command(app, runtime, command)),
            Err(error) => {
                let error = anyhow::Error::from(error);
                if !held_by_a_server(&error) {
                    return Err(error);
                }
                queue_command_remote(&Remote::connect(&config)?, command)
            }
        },
        Command::Import { file } => {
            let size = std::fs::metadata(&file)
                .with_context(|| format!("reading {}", file.display()))?
                .len();
            let input = std::fs::File::open(&file)?;
            let app = match Primary::open(config.clone()) {
                Ok(app) => app,
                Err(error) => {
                    let error = anyhow::Error::from(error);
                    if !held_by_a_server(&error) {
                        return Err(error);
                    }
                    let reply = Remote::connect(&config)?.post_stream("/import", input, size)?;
                    println!("imported {} records", reply["applied"]);
                    return Ok(());
                }
            };
            let applied = run_offline(app, |app, runtime| {
                let input = std::io::BufReader::new(input);
                Ok(runtime.block_on(admin::transfer::import(&app.engine, primary, input, size, true))?)
            })?;
            open_storage(&config)?.compact();
            println!("imported {applied} records");
            Ok(())
        }
        Command::HashPassword => unreachable!("answered before the configuration is read"),
        Command::Export { table, output } => {
            let storage = match open_storage(&config) {
                Ok(storage) => storage,
                Err(error) if held_by_a_server(&error) => return export_remote(&config, table, output),
                Err(error) => return Err(error),
            };
            let written = match output {
                Some(path) => admin::transfer::export(
                    &storage,
                    table.as_deref(),
                    std::io::BufWriter::new(std::fs::File::create(path)?),
                )?,
                None => admin::transfer::export(
                    &storage,
                    table.as_deref(),
                    std::io::BufWriter::new(std::io::stdout().lock()),
                )?,
            };
            eprintln!("exported {written} records");
            Ok(())
        }
    }
}

/// Opens the primary for a command run while the server is stopped, runs `work` on it with a
/// runtime of its own, then stops the writer (everything it acknowledged is durable) and closes
/// the database, so that what follows may reopen it.
fn offline<T>(
    config: &Config,
    work: impl FnOnce(&Primary, &tokio::runtime::Runtime) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    run_offline(Primary::open(config.clone())?, work)
}

/// [`offline`]'s run and stop, on a primary already opened.
fn run_offline<T>(
    app: Primary,
    work: impl FnOnce(&Primary, &tokio::runtime::Runtime) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Runtime::new()?;
    let result = work(&app, &runtime);
    app.engine.shutdown();
    result
}

fn queue_command(app: &Primary, runtime: &tokio::runtime::Runtime, command: QueueCommand) -> anyhow::Result<()> {
    use admin::queue;
    match command {
        QueueCommand::Show { site, limit } => {
            let (count, head) = queue::head(&app.engine, &site, limit)?;
            println!("{count} records queued for {site}; the first {}:", head.len());
            println!("SyncID\ttable\trecord\ttype\tstore\tdata bytes");
            for q in head {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    q.sync_id, q.table, q.record_id, q.sync_type, q.store_id, q.data_bytes
                );
            }
        }
        QueueCommand::Skip { site, sync_id, reason } => {
            let q = runtime.block_on(queue::skip(&app.engine, &site, &sync_id, &reason))?;
            println!(
                "skipped {} {} ({}) for {site}; the record stays on the primary and in other queues",
                q.table, q.record_id, q.sync_id
            );
        }
        QueueCommand::Skipped { site } => {
            for entry in queue::skipped(&app.engine, &site)? {
                println!("{entry}");
            }
        }
    }
    Ok(())
}

/// The export through the running server's admin API, streamed to the file or standard output.
fn export_remote(config: &Config, table: Option<String>, output: Option<PathBuf>) -> anyhow::Result<()> {
    let remote = Remote::connect(config)?;
    let path = match &table {
        Some(table) => format!("/export?table={}", segment(table)),
        None => "/export".to_string(),
    };
    let bytes = match output {
        Some(file) => remote.get_to(&path, std::io::BufWriter::new(std::fs::File::create(file)?))?,
        None => remote.get_to(&path, std::io::BufWriter::new(std::io::stdout().lock()))?,
    };
    eprintln!("exported {bytes} bytes through the running server");
    Ok(())
}

/// The queue commands on the running server, through its admin API; output as offline.
fn queue_command_remote(remote: &Remote, command: QueueCommand) -> anyhow::Result<()> {
    let text = |value: &Value| value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
    match command {
        QueueCommand::Show { site, limit } => {
            let reply = remote.get(&format!("/sites/{}/queue?limit={limit}", segment(&site)))?;
            let head = reply["head"].as_array().cloned().unwrap_or_default();
            println!(
                "{} records queued for {site}; the first {}:",
                reply["count"],
                head.len()
            );
            println!("SyncID\ttable\trecord\ttype\tstore\tdata bytes");
            for q in head {
                let fields = ["sync_id", "table", "record_id", "sync_type", "store_id", "data_bytes"];
                println!("{}", fields.map(|f| text(&q[f])).join("\t"));
            }
        }
        QueueCommand::Skip { site, sync_id, reason } => {
            let body = serde_json::json!({ "sync_id": sync_id, "reason": reason });
            let reply = remote.post(&format!("/sites/{}/queue/skip", segment(&site)), Some(body))?;
            let q = &reply["skipped"];
            println!(
                "skipped {} {} ({}) for {site}; the record stays on the primary and in other queues",
                text(&q["table"]),
                text(&q["record_id"]),
                text(&q["sync_id"])
            );
        }
        QueueCommand::Skipped { site } => {
            let reply = remote.get(&format!("/sites/{}/skips", segment(&site)))?;
            for entry in reply["skips"].as_array().into_iter().flatten() {
                println!("{entry}");
            }
        }
    }
    Ok(())
}

/// A password from the environment variable `env` names, else from a prompt that does not echo
/// (standard input a terminal), else from the first line of standard input (a script's pipe).
fn read_password(env: Option<&str>, prompt: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let password = match env {
        Some(variable) => std::env::var(variable).with_context(|| format!("reading the password from ${variable}"))?,
        None if std::io::stdin().is_terminal() => rpassword::prompt_password(prompt)?,
        None => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if password.is_empty() {
        anyhow::bail!("no password given");
    }
    Ok(password)
}

fn hash_password() -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        anyhow::bail!("give the password on standard input");
    }
    let stored = satsync::domain::credentials::PasswordHash::from_password(password);
    println!("{}:{}", stored.salt, stored.hash);
    Ok(())
}

fn open_storage(config: &Config) -> anyhow::Result<Database> {
    std::fs::create_dir_all(&config.storage.data_dir)?;
    let database = Database::open(&config.storage.data_dir, config.storage.block_cache_mib).with_context(|| {
        format!(
            "opening {} (is the server running on it?)",
            config.storage.data_dir.display()
        )
    })?;
    if config.cluster.is_some() {
        drop(database);
        let data_dir = config.storage.data_dir.display().to_string();
        return Err(satsync::primary::ServeError::Clustered(data_dir).into());
    }
    Ok(database)
}

/// Creates the demo data set unless the database already has sites; returns the demo sites.
fn prepare_demo(config: &Config, seed: u64) -> anyhow::Result<Vec<admin::demo::DemoSite>> {
    let primary = SiteId(config.server.primary_site_id);
    let storage = open_storage(config)?;
    if !admin::directory::list_sites(&storage, primary)?.is_empty() {
        anyhow::bail!(
            "{} already holds sites; the demo data set is created on an empty database only (delete the directory to start again)",
            config.storage.data_dir.display()
        );
    }
    let sites = admin::demo::create_sites(&storage, primary)?;
    drop(storage);
    let lines = admin::demo::records(seed, &sites, &admin::demo::DemoSize::default()).join("\n");
    let applied = offline(config, |app, runtime| {
        let input = lines.as_bytes();
        Ok(runtime.block_on(admin::transfer::import(
            &app.engine,
            primary,
            input,
            lines.len() as u64,
            false,
        ))?)
    })?;
    tracing::info!(records = applied, "demo data set loaded");
    Ok(sites)
}

/// Logs to standard error in the configured format, from the configured level (`RUST_LOG`
/// overrides it).
fn start_logging(log: &satsync::config::LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&log.level));
    let logging = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log.format {
        satsync::config::LogFormat::Text => logging.init(),
        satsync::config::LogFormat::Json => logging.json().flatten_event(true).init(),
    }
}

/// Raises the soft limit on open files to the hard one: every satellite connection is a file,
/// and the usual soft limit (1024) is far below what a national primary holds open.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => tracing::info!(open_files = ?limit.maximum, "open-file limit raised to the hard limit"),
        Err(error) => tracing::warn!(%error, open_files = ?limit.current, "the open-file limit could not be raised"),
    }
}

fn serve(config: Config, demo: Option<Vec<admin::demo::DemoSite>>) -> anyhow::Result<()> {
    raise_open_file_limit();
    // Pulls read and encode on blocking threads; a bounded pool keeps their memory (one
    // allocator heap each) and their contention with the async workers in check.
    // Pulls encode large batches on rayon's threads; they run niced like the pull threads.
    rayon::ThreadPoolBuilder::new()
        .start_handler(|_| satsync::priority::lower_current_thread())
        .build_global()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(config.server.read_threads)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = match config.server.listen {
            Some(listen) => {
                Some(satsync::http::bind(listen).with_context(|| format!("binding {listen} ([server] listen)"))?)
            }
            None => None,
        };
        let tls = match &config.tls {
            Some(tls) => {
                let certificates = satsync::http::tls::Certificates::load(tls)?;
                let listener = satsync::http::bind(tls.listen)
                    .with_context(|| format!("binding {} ([tls] listen)", tls.listen))?;
                Some((listener, certificates))
            }
            None => None,
        };
        let admin_listener = match config.admin.listen {
            Some(listen) => Some(
                satsync::http::bind(listen)
                    .with_context(|| format!("binding the admin API to {listen} ([admin] listen)"))?,
            ),
            None => None,
        };
        let app = Arc::new(Primary::open_to_serve(config).await?);
        app.start_cluster();
        // Tests and scripts read the first line to learn the port, and may close the pipe then:
        // the lines go out in one write, and a closed standard output does not stop the server.
        let mut banner = String::new();
        let mut satellites_url = None;
        if let Some(listener) = &listener {
            let url = format!("http://{}", listener.local_addr()?);
            banner.push_str(&format!("satsync listening on {url}\n"));
            satellites_url = Some(url);
        }
        if let Some((listener, _)) = &tls {
            let url = format!("https://{}", listener.local_addr()?);
            banner.push_str(&format!("satsync listening on {url}\n"));
            satellites_url.get_or_insert(url);
        }
        if let Some(listener) = &admin_listener {
            banner.push_str(&format!(
                "satsync admin API on http://{}/admin/v1/\n",
                listener.local_addr()?
            ));
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
        drop(out);
        // One signal stops both listeners.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let admin = admin_listener.map(|listener| {
            let app = app.clone();
            tokio::spawn(satsync::http::run(
                app,
                listener,
                wait_for(stopped.clone()),
                Surface::Admin,
            ))
        });
        if let Some(sites) = demo {
            let url = satellites_url.as_deref().unwrap_or_default();
            print_demo(url, &app.config.patient.base_path, &sites);
        }
        {
            let app = app.clone();
            tokio::spawn(async move {
                let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing a SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = terminate.recv() => {},
                }
                tracing::info!("stopping: no new connections; the requests in flight finish");
                app.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
                let _ = stop.send(true);
            });
        }
        let monitor = {
            let (app, stopped) = (app.clone(), stopped.clone());
            tokio::spawn(async move {
                let every = std::time::Duration::from_secs(app.config.admin.health_flush_seconds);
                admin::monitor::run(&app.engine, every, wait_for(stopped)).await
            })
        };
        let mut satellites = Vec::new();
        if let Some(listener) = listener {
            let run = satsync::http::run(app.clone(), listener, wait_for(stopped.clone()), Surface::Satellites);
            satellites.push(tokio::spawn(run));
        }
        if let Some((listener, certificates)) = tls {
            tokio::spawn(reload_on_hangup(certificates.clone()));
            let acceptor = certificates.acceptor()?;
            let run = satsync::http::run_tls(
                app.clone(),
                listener,
                acceptor,
                wait_for(stopped.clone()),
                Surface::Satellites,
            );
            satellites.push(tokio::spawn(run));
        }
        for listener in satellites {
            listener.await??;
        }
        if let Some(admin) = admin {
            admin.await??;
        }
        monitor.await?;
        app.leave_cluster().await;
        app.engine.shutdown();
        tracing::info!("satsync stopped");
        Ok(())
    })
}

/// Reads the TLS certificate and key again on each SIGHUP (a renewed certificate is presented
/// from the next handshake on; open connections are not touched).
async fn reload_on_hangup(certificates: Arc<satsync::http::tls::Certificates>) {
    let mut hangups =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).expect("installing a SIGHUP handler");
    while hangups.recv().await.is_some() {
        match certificates.reload() {
            Ok(()) => tracing::info!("TLS certificate reloaded"),
            Err(error) => tracing::error!(%error, "TLS certificate not reloaded: the previous one stays in use"),
        }
    }
}

/// Completes once `stopped` says so (or its sender is gone).
async fn wait_for(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

fn print_demo(url: &str, patient_path: &str, sites: &[admin::demo::DemoSite]) {
    println!();
    println!("Point a satellite (mSupply Mobile: Settings → primary server) at {url}");
    println!("with one of these site logins; users log in on that satellite with the user login:");
    println!();
    println!("  site id  site name  site password  store                 user   user password");
    for s in sites {
        println!(
            "  {:<7}  {:<9}  {:<13}  {:<20}  {:<5}  {}",
            s.site_id, s.site_name, s.site_password, s.store_name, s.user_name, s.user_password
        );
    }
    println!();
    println!("Which app suits which site:");
    for s in sites {
        println!("  {}: {}", s.site_name, s.suits);
    }
    println!();
    println!("The patient sync API is at {url}{patient_path} (load, status, clear, …);");
    println!("the users above may read and clear with their logins. A patient `<site code>;<id>` is");
    println!("held by the satellite whose site id is that code in hex (site 2 is `0002`).");
    println!();
    println!("Stop with Ctrl-C. The data stays in the data directory; delete it to start again.");
}
