//! The primary as a process of its own, as operators run it: started on a configuration file,
//! then killed without warning or told to stop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

pub struct Process {
    child: Child,
    pub base: String,
    /// The admin API's base (`http://host:port`), when one is configured.
    pub admin: Option<String>,
}

/// Starts `satsync serve` on `config` and waits until it listens.
pub fn spawn_server(config: &Path) -> Process {
    spawn_server_logging_to(config, Stdio::null())
}

/// [`spawn_server`], its log (standard error) going to `log`.
pub fn spawn_server_logging_to(config: &Path, log: impl Into<Stdio>) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_satsync"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut banner = BufReader::new(child.stdout.take().unwrap());
    banner.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("satsync listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    // The banner comes in one write, so its admin line, if any, is read already.
    let admin = String::from_utf8_lossy(banner.buffer())
        .lines()
        .find_map(|line| line.strip_prefix("satsync admin API on "))
        .map(|url| url.trim_end_matches("/admin/v1/").to_string());
    Process { child, base, admin }
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill_9(mut self) {
        // Child::kill sends SIGKILL: no shutdown code runs, nothing is flushed.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends the signal named `name` (`HUP`, …).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name}");
    }

    /// Sends SIGTERM, as systemd and orchestrators stop a service, and waits for the exit.
    pub fn terminate(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM");
        self.child.wait().unwrap()
    }
}

/// A test that fails half-way leaves no server running.
impl Drop for Process {
    fn drop(&mut self) {
        // After kill_9 or terminate the child is reaped already, and these do nothing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
