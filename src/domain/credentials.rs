//! Password handling. Satellites send the lowercase hex SHA-256 of their password; the primary
//! keeps only a salted SHA-256 of that hex, so a copy of the database does not let anyone log in,
//! and compares in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A stored credential: random salt and SHA-256(salt || client secret).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordHash {
    pub salt: String,
    pub hash: String,
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// What a client sends for a plain-text password: lowercase hex SHA-256.
pub fn client_secret(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

impl PasswordHash {
    /// Hashes a plain-text password the way it will arrive from a client.
    pub fn from_password(password: &str) -> PasswordHash {
        PasswordHash::from_client_secret(&client_secret(password))
    }

    pub fn from_client_secret(secret: &str) -> PasswordHash {
        let salt = hex::encode(rand::random::<[u8; 16]>());
        let hash = salted(&salt, secret);
        PasswordHash { salt, hash }
    }

    /// Whether `secret` (as sent by the client) matches, in constant time.
    pub fn verify(&self, secret: &str) -> bool {
        // Clients send lowercase hex, but some send upper case: both spell the same digest.
        let candidate = salted(&self.salt, &secret.to_ascii_lowercase());
        candidate.as_bytes().ct_eq(self.hash.as_bytes()).into()
    }
}

fn salted(salt: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update(b":");
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_secret() {
        assert_eq!(
            client_secret("password"),
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
        );
    }

    #[test]
    fn verify_accepts_right_and_refuses_wrong() {
        let stored = PasswordHash::from_password("secret");
        assert!(stored.verify(&client_secret("secret")));
        assert!(stored.verify(&client_secret("secret").to_uppercase()));
        assert!(!stored.verify(&client_secret("Secret")));
        assert!(!stored.verify("secret"));
    }

    #[test]
    fn same_password_gets_different_salts() {
        assert_ne!(PasswordHash::from_password("a"), PasswordHash::from_password("a"));
    }
}
