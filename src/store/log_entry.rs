//! The value of a `log` entry: one record's latest state with the facts routing decided.
//!
//! Layout (version 1): `1`, sync type byte, origin site (u32 BE), audience count (u16 BE) and each
//! audience, then table, record id, store id, KeyFieldID text, merge-to-keep, merge-to-delete, each
//! a u16 BE length and UTF-8 bytes, and last the data bytes to the end of the value.

use crate::domain::ids::SiteId;
use crate::domain::record::{RecordView, SyncRecord, SyncType};
use crate::domain::routing::Audience;

const VERSION: u8 = 1;

/// One record's latest state in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The site whose push produced this state (the primary for changes it made itself).
    pub origin: SiteId,
    pub audiences: Vec<Audience>,
    pub record: SyncRecord,
}

impl LogEntry {
    pub fn encode(&self) -> Vec<u8> {
        let r = &self.record;
        let strings = [
            r.table.as_str(),
            &r.record_id,
            &r.store_id,
            &r.key_field_id,
            &r.merge_id_to_keep,
            &r.merge_id_to_delete,
        ];
        let size = 8 + strings.iter().map(|s| s.len() + 2).sum::<usize>() + r.data.len();
        let mut out = Vec::with_capacity(size + self.audiences.len() * 34);
        out.push(VERSION);
        out.push(r.sync_type.as_byte());
        out.extend_from_slice(&self.origin.0.to_be_bytes());
        out.extend_from_slice(&(self.audiences.len() as u16).to_be_bytes());
        for audience in &self.audiences {
            put_str(&mut out, audience.as_key());
        }
        for s in strings {
            put_str(&mut out, s);
        }
        out.extend_from_slice(&r.data);
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<LogEntry> {
        let (header, view) = parse(bytes)?;
        let audiences = header
            .audiences()
            .map(|key| key.map(Audience::from_key))
            .collect::<Option<Vec<_>>>()?;
        Some(LogEntry {
            origin: header.origin,
            audiences,
            record: SyncRecord {
                table: view.table.to_string(),
                record_id: view.record_id.to_string(),
                sync_type: view.sync_type,
                store_id: view.store_id.to_string(),
                key_field_id: view.key_field_id.to_string(),
                merge_id_to_keep: view.merge_id_to_keep.to_string(),
                merge_id_to_delete: view.merge_id_to_delete.to_string(),
                data: view.data.to_vec(),
            },
        })
    }
}

/// The record of an encoded log entry, read in place, or `None` if the bytes are not one.
pub fn record_view(bytes: &[u8]) -> Option<RecordView<'_>> {
    parse(bytes).map(|(_, view)| view)
}

/// The routing facts at the head of an entry; audiences stay encoded until asked for.
struct Header<'a> {
    origin: SiteId,
    audience_count: u16,
    audiences: Reader<'a>,
}

impl<'a> Header<'a> {
    fn audiences(&self) -> impl Iterator<Item = Option<&'a str>> {
        let mut reader = Reader {
            bytes: self.audiences.bytes,
            at: self.audiences.at,
        };
        (0..self.audience_count).map(move |_| reader.string())
    }
}

fn parse(bytes: &[u8]) -> Option<(Header<'_>, RecordView<'_>)> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.take(1)?[0] != VERSION {
        return None;
    }
    let sync_type = SyncType::from_byte(reader.take(1)?[0])?;
    let origin = SiteId(u32::from_be_bytes(reader.take(4)?.try_into().ok()?));
    let audience_count = u16::from_be_bytes(reader.take(2)?.try_into().ok()?);
    let header = Header {
        origin,
        audience_count,
        audiences: Reader { bytes, at: reader.at },
    };
    for _ in 0..audience_count {
        reader.string()?;
    }
    let view = RecordView {
        table: reader.string()?,
        record_id: reader.string()?,
        store_id: reader.string()?,
        key_field_id: reader.string()?,
        merge_id_to_keep: reader.string()?,
        merge_id_to_delete: reader.string()?,
        sync_type,
        data: &bytes[reader.at..],
    };
    Some((header, view))
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Longer strings are refused when a push is decoded (see wire::v2), so this cannot truncate.
    debug_assert!(s.len() <= u16::MAX as usize);
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at + n)?;
        self.at += n;
        Some(slice)
    }

    fn string(&mut self) -> Option<&'a str> {
        let len = u16::from_be_bytes(self.take(2)?.try_into().ok()?) as usize;
        std::str::from_utf8(self.take(len)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::StoreKey;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn log_entries_round_trip(table in "[A-Za-z_]{1,16}", id in "[a-f0-9]{32}", data in "\\{.{0,64}\\}",
                                  origin: u32, stores in proptest::collection::vec("[A-F0-9]{1,32}", 0..4), central: bool,
                                  kind in 0usize..4) {
            let sync_type = [SyncType::Insert, SyncType::Update, SyncType::Delete, SyncType::Merge][kind];
            let mut audiences: Vec<Audience> = stores.iter().map(|s| Audience::Store(StoreKey::new(s))).collect();
            if central { audiences.insert(0, Audience::Central); }
            let entry = LogEntry {
                origin: SiteId(origin),
                audiences,
                record: SyncRecord {
                    table, record_id: id.clone(), sync_type, store_id: "abc".into(), key_field_id: "1".into(),
                    merge_id_to_keep: "k".into(), merge_id_to_delete: id, data: data.into_bytes(),
                },
            };
            prop_assert_eq!(LogEntry::decode(&entry.encode()), Some(entry));
        }
    }

    #[test]
    fn truncated_or_unknown_versions_do_not_decode() {
        assert_eq!(LogEntry::decode(&[]), None);
        assert_eq!(LogEntry::decode(&[9, b'U']), None);
        assert_eq!(LogEntry::decode(&[1, b'U', 0, 0]), None);
    }
}
