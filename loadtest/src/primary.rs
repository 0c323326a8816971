//! The primary under test: either one already running (`--url`), or one the harness starts on a
//! temporary database with the standard data set, whose memory and disk it can then watch.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};

use satsync::admin::dataset::DatasetSpec;

pub struct Spawned {
    child: tokio::process::Child,
    pub url: String,
    pub pid: u32,
    pub data_dir: PathBuf,
    /// With TLS, the authority (PEM) that signed the primary's certificate.
    pub authority: Option<Vec<u8>>,
    _temp: tempfile::TempDir,
}

/// The `satsync` binary beside the harness's own, unless given.
pub fn default_satsync() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent()
        .map(|dir| dir.join("satsync"))
        .unwrap_or_else(|| PathBuf::from("satsync"))
}

/// Starts a primary on a temporary database holding the standard data set of `spec`; with `tls`,
/// serving HTTPS only, with a certificate from an authority made for the run.
pub async fn spawn(satsync: &Path, spec: &DatasetSpec, tls: bool) -> anyhow::Result<Spawned> {
    if !satsync.exists() {
        bail!(
            "no satsync binary at {} (build it with cargo build --release, or pass --satsync)",
            satsync.display()
        );
    }
    let temp = tempfile::tempdir()?;
    let data_dir = temp.path().join("db");
    let config = temp.path().join("satsync.toml");
    let (listen, tls_section, authority) = if tls {
        let (authority, section) = certificates(temp.path())?;
        ("off", section, Some(authority))
    } else {
        ("127.0.0.1:0", String::new(), None)
    };
    // The harness's thousands of satellites all come from this one address: no cap on its
    // connections (a build before that setting needs the harness of its time).
    std::fs::write(
        &config,
        format!(
            "[admin]\nlisten = \"off\"\n[server]\nlisten = \"{listen}\"\nmax_connections_per_address = 0\n[storage]\ndata_dir = \"{}\"\n{tls_section}",
            data_dir.display()
        ),
    )?;
    load_dataset(satsync, &config, spec).await?;
    let mut child = tokio::process::Command::new(satsync)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().context("the primary's stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await?;
    let url = line
        .trim()
        .strip_prefix("satsync listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?
        .to_string();
    let pid = child.id().context("the primary's pid")?;
    Ok(Spawned {
        child,
        url,
        pid,
        data_dir,
        authority,
        _temp: temp,
    })
}

/// Loads the standard data set of `spec` offline (`satsync dataset`) into the empty database
/// that `config` names: the single primary's database, or a cluster's seed.
pub async fn load_dataset(satsync: &Path, config: &Path, spec: &DatasetSpec) -> anyhow::Result<()> {
    eprintln!(
        "loading the standard data set: {} sites, {} records, seed {}",
        spec.sites, spec.records, spec.seed
    );
    let status = tokio::process::Command::new(satsync)
        .arg("--config")
        .arg(config)
        .args([
            "dataset",
            "--sites",
            &spec.sites.to_string(),
            "--records",
            &spec.records.to_string(),
            "--seed",
            &spec.seed.to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .await?;
    if !status.success() {
        bail!("satsync dataset failed: {status}");
    }
    Ok(())
}

/// An authority and a certificate it signs for 127.0.0.1, written in `dir`: the authority's
/// PEM, and the `[tls]` section naming the files.
fn certificates(dir: &Path) -> anyhow::Result<(Vec<u8>, String)> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let authority = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let certificate = CertificateParams::new(vec!["127.0.0.1".to_string()])?.signed_by(&key, &authority)?;
    let (chain, key_file) = (dir.join("chain.pem"), dir.join("key.pem"));
    std::fs::write(&chain, format!("{}{}", certificate.pem(), authority.pem()))?;
    std::fs::write(&key_file, key.serialize_pem())?;
    let section = format!(
        "[tls]\nlisten = \"127.0.0.1:0\"\ncertificate = \"{}\"\nkey = \"{}\"\n",
        chain.display(),
        key_file.display()
    );
    Ok((authority.pem().into_bytes(), section))
}

impl Spawned {
    /// Stops the primary (SIGTERM, then waits).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = tokio::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        self.child.wait().await?;
        Ok(())
    }
}

/// Resident memory of a process, in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Size of every file below `dir`, in bytes (RocksDB's text logs left out).
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with("LOG"))
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
