//! Online backups: a consistent copy of the database, taken while the primary serves and
//! pushes continue, into a directory of its own under the backup directory. Restoring is
//! starting satsync with `[storage] data_dir` naming that directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{AdminError, Result};
use crate::store::Storage;

/// What a backup made.
#[derive(Debug, Clone)]
pub struct Backup {
    pub path: PathBuf,
    pub seconds: f64,
    pub bytes: u64,
}

/// Copies `storage` into `backups/<name>`: `name` as given (letters, digits, `.`, `-`, `_`), or
/// the time now (`YYYYMMDDTHHMMSSZ`). Refused if that directory exists: a backup is never
/// written over another.
pub fn take(storage: &Storage, backups: &Path, name: Option<&str>) -> Result<Backup> {
    let name = match name {
        Some(name) => checked_name(name)?.to_string(),
        None => timestamp_name(),
    };
    std::fs::create_dir_all(backups)?;
    let path = backups.join(&name);
    if path.exists() {
        return Err(AdminError::Invalid(format!("a backup named {name} exists already")));
    }
    let started = Instant::now();
    storage.checkpoint(&path)?;
    Ok(Backup {
        bytes: size_of(&path),
        seconds: started.elapsed().as_secs_f64(),
        path,
    })
}

/// The backups in `backups`, by name.
pub fn list(backups: &Path) -> Result<Vec<(String, u64)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(backups) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(error) => return Err(error.into()),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            found.push((entry.file_name().to_string_lossy().into_owned(), size_of(&entry.path())));
        }
    }
    found.sort();
    Ok(found)
}

fn checked_name(name: &str) -> Result<&str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if name.is_empty() || name.starts_with('.') || !name.chars().all(allowed) {
        return Err(AdminError::Invalid(format!(
            "a backup name is letters, digits, '.', '-' and '_', not starting with '.': {name:?}"
        )));
    }
    Ok(name)
}

fn timestamp_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    let date = crate::domain::values::civil_from_days((seconds / 86_400) as i64).replace('-', "");
    let time = seconds % 86_400;
    format!("{date}T{:02}{:02}{:02}Z", time / 3600, time / 60 % 60, time % 60)
}

/// The bytes of the files under `dir`.
fn size_of(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .filter(|meta| meta.is_file())
        .map(|meta| meta.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_backup_directory() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b"] {
            assert!(checked_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(checked_name("before-upgrade_2.1").unwrap(), "before-upgrade_2.1");
        let stamp = timestamp_name();
        assert_eq!(stamp.len(), 16, "{stamp}");
        assert!(checked_name(&stamp).is_ok());
    }
}
