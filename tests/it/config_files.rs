//! Every file in `configs/` parses and validates.

use std::path::Path;

use satsync::config::Config;
use satsync::domain::fields::FieldCatalogue;
use satsync::domain::numbering::Numbering;

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
            satsync::config::load_tables(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else if path.file_name().unwrap() == "fields.toml" {
            let fields = satsync::config::load_fields(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Numbering::of(&fields).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else {
            let config = Config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(config.server.primary_site_id > 0);
        }
        checked += 1;
    }
    assert!(
        checked >= 4,
        "configs/ holds the server, demo, table and field catalogue files"
    );
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
    let base = "[server]\nlisten = \"127.0.0.1:1\"\n[storage]\ndata_dir = \"x\"\n";
    for (bad, why) in [
        (
            "[v1]\nshared_user = \"sync\"\n",
            "a shared user without its password hash",
        ),
        (
            "[v1]\nshared_user = \"s\"\nshared_password_hash = \"plain\"\n",
            "a hash not in <salt>:<hash> form",
        ),
        (
            "[v5]\nmin_sync_version = 3\nmax_sync_version = 2\n",
            "an empty version range",
        ),
        (
            "[v5]\nmin_app_version = \"two\"\n",
            "an app version that is not dotted numbers",
        ),
        (
            "fields_file = \"missing.toml\"\n",
            "a field catalogue that is not there",
        ),
        (
            "[records]\nsatellites_utc_offset = \"13\"\n",
            "an offset from UTC without its sign and minutes",
        ),
        (
            "[cluster]\nservers = []\ninstance = \"a\"\n",
            "a cluster with no NATS server",
        ),
        (
            "[cluster]\nservers = [\"nats://127.0.0.1:4222\"]\ninstance = \"a.b\"\n",
            "an instance name that is not a NATS subject token",
        ),
        (
            "[cluster]\nservers = [\"nats://127.0.0.1:4222\"]\ninstance = \"a\"\nlease_ttl_seconds = 1\n",
            "a lease too short to renew",
        ),
        (
            "[cluster]\nservers = [\"nats://127.0.0.1:4222\"]\n",
            "a cluster instance without a name",
        ),
    ] {
        std::fs::write(&path, format!("{base}{bad}")).unwrap();
        assert!(Config::load(&path).is_err(), "{why} is refused");
    }
    let cluster = "[cluster]\nservers = [\"nats://127.0.0.1:4222\"]\ninstance = \"satsync-a\"\n";
    std::fs::write(&path, format!("{base}{cluster}")).unwrap();
    let loaded = Config::load(&path).unwrap().cluster.expect("the cluster section");
    assert_eq!(
        (loaded.stream.as_str(), loaded.lease_ttl_seconds, loaded.replicas),
        ("SATSYNC_LOG", 6, 3),
        "the defaults"
    );
}

/// Every table the routing catalogue lists has fields and v1 numbers (every field of it), so a
/// v1 satellite can hold all of it; and every table of the dump order and the mobile subset is
/// routed.
#[test]
fn the_shipped_catalogues_cover_every_routed_table() {
    let tables = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/tables.toml")).unwrap();
    let tables: toml::Value = toml::from_str(&tables).unwrap();
    let numbering = Numbering::builtin();
    let fields = FieldCatalogue::builtin();
    let routed = tables["tables"].as_table().unwrap();
    assert!(routed.len() >= 60);
    for table in routed.keys() {
        let numbered = numbering
            .table_named(table)
            .unwrap_or_else(|| panic!("{table} has no v1 number"));
        let known = fields.table(table).unwrap_or_else(|| panic!("{table} has no fields"));
        for field in &known.fields {
            assert!(
                numbered.field_number(&field.name).is_some(),
                "{table}.{} has no v1 number",
                field.name
            );
        }
    }
    for list in ["dump_order", "mobile_tables", "not_for_mobile_2017"] {
        for table in tables[list].as_array().unwrap() {
            let table = table.as_str().unwrap();
            assert!(routed.contains_key(table), "{list} names {table}, which is not routed");
        }
    }
}
