//! A sync record in canonical form: what a push carries and what the log stores.

use std::fmt;

/// The kind of change a sync record carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SyncType {
    Insert,
    Update,
    Delete,
    Merge,
}

impl SyncType {
    /// Parses the one-letter code of the v1/v2/v3 formats.
    pub fn from_code(code: &str) -> Option<SyncType> {
        match code {
            "I" => Some(SyncType::Insert),
            "U" => Some(SyncType::Update),
            "D" => Some(SyncType::Delete),
            "M" => Some(SyncType::Merge),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            SyncType::Insert => "I",
            SyncType::Update => "U",
            SyncType::Delete => "D",
            SyncType::Merge => "M",
        }
    }

    pub fn as_byte(self) -> u8 {
        self.code().as_bytes()[0]
    }

    pub fn from_byte(byte: u8) -> Option<SyncType> {
        match byte {
            b'I' => Some(SyncType::Insert),
            b'U' => Some(SyncType::Update),
            b'D' => Some(SyncType::Delete),
            b'M' => Some(SyncType::Merge),
            _ => None,
        }
    }

    /// Whether the record still exists after this change (deletes and merged-away records do not).
    pub fn leaves_record(self) -> bool {
        matches!(self, SyncType::Insert | SyncType::Update)
    }
}

impl fmt::Display for SyncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A stored record read in place, without copying: what a pull encodes. Storage hands it out
/// (`store::log_entry::record_view`); the codecs read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    pub table: &'a str,
    pub record_id: &'a str,
    pub sync_type: SyncType,
    pub store_id: &'a str,
    pub key_field_id: &'a str,
    pub merge_id_to_keep: &'a str,
    pub merge_id_to_delete: &'a str,
    pub data: &'a [u8],
}

/// One change to one row, in the form every API version decodes to and encodes from.
///
/// `data` is the record's JSON object exactly as the satellite sent it (key order, spacing and
/// value types untouched); it is empty for deletes and merges.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncRecord {
    pub table: String,
    pub record_id: String,
    pub sync_type: SyncType,
    pub store_id: String,
    /// The raw JSON text of `KeyFieldID` when the sender gave one.
    pub key_field_id: String,
    pub merge_id_to_keep: String,
    pub merge_id_to_delete: String,
    pub data: Vec<u8>,
}

impl SyncRecord {
    /// The id of the row this change lands on: for a merge, the row that disappears.
    pub fn target_id(&self) -> &str {
        if self.sync_type == SyncType::Merge {
            &self.merge_id_to_delete
        } else {
            &self.record_id
        }
    }
}

/// A pushed record with the SyncID its sender gave it (used to recognise re-sent pushes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PushedRecord {
    pub sync_id: String,
    pub record: SyncRecord,
    /// Its data is known to be a whole row in the stored form (see `row::Normal::whole`): as a
    /// new record it needs nothing added. Found when the push is normalised; `false` until then.
    pub whole_row: bool,
}

impl PushedRecord {
    pub fn new(sync_id: String, record: SyncRecord) -> PushedRecord {
        PushedRecord {
            sync_id,
            record,
            whole_row: false,
        }
    }
}
