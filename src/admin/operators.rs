//! Operator accounts: who may use the admin API. Kept in the directory beside sites and users,
//! but a namespace of their own: no site's or user's credentials open the admin API, and no
//! operator's opens a sync API.

use super::{AdminError, Result};
use crate::domain::credentials::PasswordHash;
use crate::domain::directory::Operator;
use crate::domain::ids::SiteId;
use crate::store::{Database, DirectoryReads, DirectoryWrites};

/// The shortest operator password accepted: the admin API may be reached over a network.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Adds an operator; refuses a name already taken, a name HTTP Basic cannot carry, and a short
/// password. The password is kept salted and hashed only.
pub fn add_operator(storage: &Database, primary: SiteId, name: &str, password: &str) -> Result<Operator> {
    if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
        return Err(AdminError::Invalid(format!(
            "an operator name must be non-empty, without ':' or control characters: {name:?}"
        )));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "an operator password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if storage.load_directory(primary)?.operator(name).is_some() {
        return Err(AdminError::Invalid(format!("there is already an operator {name}")));
    }
    let operator = Operator {
        name: name.to_string(),
        password: PasswordHash::from_password(password),
    };
    let mut batch = storage.batch();
    batch.put_operator(&operator);
    storage.commit(batch)?;
    Ok(operator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::credentials::client_secret;

    #[test]
    fn an_operator_is_added_once_with_a_hashed_password_and_checked_names() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Database::open(dir.path(), 8).unwrap();
        let primary = SiteId(1);
        add_operator(&storage, primary, "ops", "a long secret").unwrap();
        let directory = storage.load_directory(primary).unwrap();
        let kept = directory.operator("ops").unwrap();
        assert!(kept.password.verify(&client_secret("a long secret")));
        assert!(!kept.password.verify(&client_secret("another one")));
        assert_ne!(kept.password.hash, "a long secret");
        for (name, password) in [
            ("ops", "a long secret"),
            ("", "a long secret"),
            ("a:b", "a long secret"),
            ("bad\nname", "a long secret"),
            ("new", "short"),
        ] {
            assert!(
                matches!(
                    add_operator(&storage, primary, name, password),
                    Err(AdminError::Invalid(_))
                ),
                "{name:?}"
            );
        }
        let directory = storage.load_directory(primary).unwrap();
        assert!(directory.operator("new").is_none() && directory.operator("").is_none());
    }
}
