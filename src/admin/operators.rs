//! Operator accounts: who may use the admin API. Kept in the directory beside sites and users,
//! but a namespace of their own: no site's or user's credentials open the admin API, and no
//! operator's opens a sync API.

use super::directory::change_offline;
use super::{AdminError, Result};
use crate::domain::credentials::PasswordHash;
use crate::domain::directory::{Directory, DirectoryChange, Operator};
use crate::domain::ids::SiteId;
use crate::store::Database;

/// The shortest operator password accepted: the admin API may be reached over a network.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Adds an operator with the server stopped (see [`plan_add_operator`]).
pub fn add_operator(storage: &Database, primary: SiteId, name: &str, password: &str) -> Result<Operator> {
    let password = new_password(password)?;
    let changes = change_offline(storage, primary, |d| plan_add_operator(d, name, password))?;
    Ok(put_operator(changes))
}

/// Issues a bearer token with the server stopped (see [`plan_issue_token`]); its text, shown
/// this once.
pub fn issue_token(storage: &Database, primary: SiteId, name: &str) -> Result<String> {
    let secret = new_token_secret();
    let changes = change_offline(storage, primary, |d| plan_issue_token(d, name, &secret))?;
    Ok(put_operator(changes).token(&secret))
}

/// An operator's password, kept salted and hashed only; refused when short.
pub fn new_password(password: &str) -> Result<PasswordHash> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "an operator password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(PasswordHash::from_password(password))
}

/// The secret part of a new bearer token: 256 random bits, as hex.
pub fn new_token_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A new operator; refuses a name already taken and a name HTTP Basic cannot carry.
pub fn plan_add_operator(directory: &Directory, name: &str, password: PasswordHash) -> Result<Vec<DirectoryChange>> {
    if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
        return Err(AdminError::Invalid(format!(
            "an operator name must be non-empty, without ':' or control characters: {name:?}"
        )));
    }
    if directory.operator(name).is_some() {
        return Err(AdminError::Invalid(format!("there is already an operator {name}")));
    }
    Ok(vec![DirectoryChange::PutOperator(Operator {
        name: name.to_string(),
        password,
        tokens: Vec::new(),
    })])
}

/// A new bearer token for the operator `name`, whose secret is `secret`: only a salted hash of
/// it is kept. Earlier tokens stay valid.
pub fn plan_issue_token(directory: &Directory, name: &str, secret: &str) -> Result<Vec<DirectoryChange>> {
    let mut operator = directory
        .operator(name)
        .cloned()
        .ok_or_else(|| AdminError::Invalid(format!("there is no operator {name}")))?;
    operator.tokens.push(PasswordHash::from_password(secret));
    Ok(vec![DirectoryChange::PutOperator(operator)])
}

/// The operator a plan put.
pub fn put_operator(changes: Vec<DirectoryChange>) -> Operator {
    changes
        .into_iter()
        .find_map(|change| match change {
            DirectoryChange::PutOperator(operator) => Some(operator),
            _ => None,
        })
        .expect("an operator plan puts an operator")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::credentials::client_secret;
    use crate::store::DirectoryReads;

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
