//! What a user installs: `scripts/package` makes a binary under 30 MB that runs, with its debug
//! info split off beside it.

use std::process::Command;

const LIMIT_BYTES: u64 = 30 * 1024 * 1024;

#[test]
fn the_packaged_binary_is_under_30_mb_and_runs() {
    let out = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/package");
    let packaged = Command::new(script)
        .arg(out.path())
        .env("SATSYNC", env!("CARGO_BIN_EXE_satsync"))
        .output()
        .unwrap();
    assert!(
        packaged.status.success(),
        "{}",
        String::from_utf8_lossy(&packaged.stderr)
    );
    let binary = out.path().join("satsync");
    let size = std::fs::metadata(&binary).unwrap().len();
    assert!(size < LIMIT_BYTES, "{size} bytes");
    let debug = std::fs::metadata(out.path().join("satsync.debug")).unwrap().len();
    assert!(debug > size, "the debug info went to satsync.debug ({debug} bytes)");
    let help = Command::new(&binary).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("serve"));
}
