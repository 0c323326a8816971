//! Every file in `configs/` parses and validates.

use std::path::Path;

use satsync::config::Config;
use satsync::domain::tables::TableCatalogue;

#[test]
fn every_shipped_configuration_file_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        if path.file_name().unwrap() == "tables.toml" {
            TableCatalogue::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else {
            let config = Config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(config.server.primary_site_id > 0);
        }
        checked += 1;
    }
    assert!(checked >= 3, "configs/ holds the server, demo and table files");
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:1\"\nlisen = 1\n[storage]\ndata_dir = \"x\"\n",
    )
    .unwrap();
    assert!(Config::load(&path).is_err(), "a misspelt key is an error, not ignored");
    std::fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:1\"\nprimary_site_id = 0\n[storage]\ndata_dir = \"x\"\n",
    )
    .unwrap();
    assert!(Config::load(&path).is_err());
}
