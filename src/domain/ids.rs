//! Identifier newtypes. Ids from satellites are kept exactly as sent (case included); where two
//! spellings must meet (routing, record keys), [`key_form`] gives the one comparable form.

use std::fmt;

/// A site's integer id; the primary is usually 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SiteId(pub u32);

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The form an id takes inside keys and routing: ASCII upper case.
///
/// Legacy servers send ids in upper case and mobile in lower case; the same record or store must
/// be recognised in both spellings, while the spelling a satellite sent is still what it gets back.
pub fn key_form(id: &str) -> String {
    id.to_ascii_uppercase()
}

/// A store id in key form (see [`key_form`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey(String);

impl StoreKey {
    pub fn new(store_id: &str) -> StoreKey {
        StoreKey(key_form(store_id))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new random 32-hex id, upper case like the legacy primary's.
pub fn new_hex_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode_upper(bytes)
}
