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
        tokens: Vec::new(),
    };
    let mut batch = storage.batch();
    batch.put_operator(&operator);
    storage.commit(batch)?;
    Ok(operator)
}

/// Issues a new bearer token to the operator `name` and returns its text, which is shown this
/// once: only a salted hash of its secret is kept. Earlier tokens stay valid.
pub fn issue_token(storage: &Database, primary: SiteId, name: &str) -> Result<String> {
    let mut operator = storage
        .load_directory(primary)?
        .operator(name)
        .cloned()
        .ok_or_else(|| AdminError::Invalid(format!("there is no operator {name}")))?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    operator.tokens.push(PasswordHash::from_password(&secret));
    let mut batch = storage.batch();
    batch.put_operator(&operator);
    storage.commit(batch)?;
    Ok(operator.token(&secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::credentials::client_secret;

    /// A fresh database with the operator `ops`, password "a long secret".
    fn with_operator() -> (tempfile::TempDir, Database, SiteId) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Database::open(dir.path(), 8).unwrap();
        let primary = SiteId(1);
        add_operator(&storage, primary, "ops", "a long secret").unwrap();
        (dir, storage, primary)
    }

    #[test]
    fn an_operator_is_added_once_with_a_hashed_password_and_checked_names() {
        let (_dir, storage, primary) = with_operator();
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

    #[test]
    fn a_token_is_shown_once_and_kept_hashed() {
        let (_dir, storage, primary) = with_operator();
        let (first, second) = (
            issue_token(&storage, primary, "ops").unwrap(),
            issue_token(&storage, primary, "ops").unwrap(),
        );
        assert_ne!(first, second);
        let kept = storage
            .load_directory(primary)
            .unwrap()
            .operator("ops")
            .unwrap()
            .clone();
        assert_eq!(kept.tokens.len(), 2);
        for token in [&first, &second] {
            let (name, secret) = Operator::split_token(token).unwrap();
            assert_eq!(name, "ops");
            assert!(kept.tokens.iter().any(|t| t.verify(&client_secret(secret))));
            assert!(kept.tokens.iter().all(|t| t.hash != *secret));
        }
        assert!(matches!(
            issue_token(&storage, primary, "nobody"),
            Err(AdminError::Invalid(_))
        ));
    }
}
