//! One satellite's place in its queue: everything in its view up to `position` is delivered and
//! acknowledged; `acked` holds the few acknowledged out of order above it; `dump` is an initial
//! dump still being drained; `progress` is how far the latest dump has come, table by table.
//! Persisted in `site_queues`, one small value per satellite.

use roaring::RoaringTreemap;

use super::dump_progress::DumpProgress;

/// An initial dump being delivered: a view over the records as of `snapshot`, table by table.
#[derive(Debug, Clone, PartialEq)]
pub struct DumpState {
    /// Increases with every `initial_dump`, so acknowledgements of an older dump are ignored.
    pub generation: u32,
    /// The last sequence number the dump covers; later changes follow it in the change part.
    pub snapshot: u64,
    /// The tables the dump delivers, in delivery order (frozen when the dump starts).
    pub tables: Vec<String>,
    /// Index in `tables` of the table being delivered.
    pub table_pos: u32,
    /// Within that table, everything at or below this seq is delivered and acknowledged.
    pub after_seq: u64,
    /// Dump entries acknowledged out of order.
    pub acked: RoaringTreemap,
}

/// Which client a satellite syncs with, as its calls show it: what it can take and whether it
/// builds transfers itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ClientKind {
    /// Not seen yet, or a client with no special needs (mSupply Mobile since 2017, desktop).
    #[default]
    Current,
    /// The 2017 mSupply Mobile app (`/sync/v2/`): no requisitions.
    Mobile2017,
    /// open-mSupply (`/sync/v5/`): builds its own half of transfers.
    OpenMsupply,
}

impl ClientKind {
    /// How operators name it (the command line's `--client`, the admin API).
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Current => "mobile",
            ClientKind::Mobile2017 => "mobile-2017",
            ClientKind::OpenMsupply => "open-msupply",
        }
    }

    /// The client an operator names, as [`ClientKind::name`] names it.
    pub fn named(name: &str) -> Option<ClientKind> {
        [ClientKind::Current, ClientKind::Mobile2017, ClientKind::OpenMsupply]
            .into_iter()
            .find(|client| client.name() == name)
    }

    fn code(self) -> u8 {
        match self {
            ClientKind::Current => 0,
            ClientKind::Mobile2017 => 1,
            ClientKind::OpenMsupply => 2,
        }
    }

    fn from_code(code: u8) -> Option<ClientKind> {
        match code {
            0 => Some(ClientKind::Current),
            1 => Some(ClientKind::Mobile2017),
            2 => Some(ClientKind::OpenMsupply),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteQueue {
    pub position: u64,
    pub acked: RoaringTreemap,
    pub dump: Option<DumpState>,
    /// The generation of the latest dump, kept after the dump is drained.
    pub dump_generation: u32,
    /// The latest dump's progress; `None` before the first dump, and for a site whose last dump
    /// started before the progress was kept (its next dump starts one).
    pub progress: Option<DumpProgress>,
    /// The client the site was last seen syncing with.
    pub client: ClientKind,
}

/// The layout version, first byte of the value. Parts added later are optional tails after the
/// parts before them, each behind its tag byte, in tag order: an older value (no tail) still
/// decodes, and a build reading a tail it does not know stops before it (so a rolled-back build
/// reads a newer value, and forgets the tail when it next writes the value).
const VERSION: u8 = 1;
/// The tag of the dump progress tail.
const TAIL_PROGRESS: u8 = 1;
/// The tag of the client tail (one byte, see [`ClientKind`]).
const TAIL_CLIENT: u8 = 2;

impl SiteQueue {
    /// The queue of a satellite registered when the log's last sequence number was `last_seq`.
    pub fn starting_at(last_seq: u64) -> SiteQueue {
        SiteQueue {
            position: last_seq,
            ..SiteQueue::default()
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.position.to_be_bytes());
        out.extend_from_slice(&self.dump_generation.to_be_bytes());
        put_bitmap(&mut out, &self.acked);
        if let Some(dump) = &self.dump {
            out.push(1);
            out.extend_from_slice(&dump.generation.to_be_bytes());
            out.extend_from_slice(&dump.snapshot.to_be_bytes());
            out.extend_from_slice(&dump.table_pos.to_be_bytes());
            out.extend_from_slice(&dump.after_seq.to_be_bytes());
            out.extend_from_slice(&(dump.tables.len() as u32).to_be_bytes());
            for table in &dump.tables {
                out.extend_from_slice(&(table.len() as u32).to_be_bytes());
                out.extend_from_slice(table.as_bytes());
            }
            put_bitmap(&mut out, &dump.acked);
        } else {
            out.push(0);
        }
        if let Some(progress) = &self.progress {
            out.push(TAIL_PROGRESS);
            progress.encode_into(&mut out);
        }
        if self.client != ClientKind::Current {
            out.push(TAIL_CLIENT);
            out.push(self.client.code());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<SiteQueue> {
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return None;
        }
        let position = r.u64()?;
        let dump_generation = r.u32()?;
        let acked = r.bitmap()?;
        let dump = match r.u8()? {
            0 => None,
            1 => {
                let generation = r.u32()?;
                let snapshot = r.u64()?;
                let table_pos = r.u32()?;
                let after_seq = r.u64()?;
                let count = r.u32()?;
                let mut tables = Vec::with_capacity(count.min(10_000) as usize);
                for _ in 0..count {
                    let len = r.u32()? as usize;
                    tables.push(String::from_utf8(r.take(len)?.to_vec()).ok()?);
                }
                let acked = r.bitmap()?;
                Some(DumpState {
                    generation,
                    snapshot,
                    tables,
                    table_pos,
                    after_seq,
                    acked,
                })
            }
            _ => return None,
        };
        let progress = match r.peek() {
            Some(TAIL_PROGRESS) => {
                r.u8()?;
                Some(DumpProgress::decode_from(&mut r)?)
            }
            _ => None,
        };
        let client = match r.peek() {
            Some(TAIL_CLIENT) => {
                r.u8()?;
                ClientKind::from_code(r.u8()?)?
            }
            _ => ClientKind::Current,
        };
        Some(SiteQueue {
            position,
            acked,
            dump,
            dump_generation,
            progress,
            client,
        })
    }

    /// Marks the latest dump's progress complete once the dump has drained (the last of it
    /// acknowledged or skipped), at `now_unix_seconds`; nothing when it is complete already.
    pub fn note_dump_drained(&mut self, now_unix_seconds: u64) {
        if self.dump.is_none() {
            if let Some(progress) = self.progress.as_mut() {
                progress.drained(now_unix_seconds);
            }
        }
    }
}

fn put_bitmap(out: &mut Vec<u8>, bitmap: &RoaringTreemap) {
    out.extend_from_slice(&(bitmap.serialized_size() as u32).to_be_bytes());
    bitmap.serialize_into(&mut *out).expect("writing to a Vec cannot fail");
}

/// Reads a stored value front to back; `None` from any read means the value is cut short.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }
    #[cfg(test)]
    pub(super) fn is_at_end(&self) -> bool {
        self.at == self.bytes.len()
    }
    /// The next byte, not consumed.
    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }
    pub(super) fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    pub(super) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    pub(super) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bitmap(&mut self) -> Option<RoaringTreemap> {
        let len = self.u32()? as usize;
        RoaringTreemap::deserialize_from(self.take(len)?).ok()
    }
}

/// Where an outgoing record was served from; its SyncID says so, so that an acknowledgement
/// needs no lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OutgoingId {
    /// The change part of the queue, at this log sequence number.
    Change { seq: u64 },
    /// The initial dump of this generation, at this position in its table order, at this log
    /// sequence number.
    Dump { generation: u32, table: u32, seq: u64 },
}

const KIND_CHANGE: u8 = 0x01;
const KIND_DUMP: u8 = 0x02;

impl OutgoingId {
    pub fn seq(self) -> u64 {
        match self {
            OutgoingId::Change { seq } | OutgoingId::Dump { seq, .. } => seq,
        }
    }

    /// 32 upper-case hex characters, like the SyncIDs of the legacy primary.
    pub fn to_hex(self) -> String {
        String::from_utf8(self.hex().to_vec()).expect("hex digits are ASCII")
    }

    /// [`OutgoingId::to_hex`] without an allocation.
    pub fn hex(self) -> [u8; 32] {
        let mut bytes = [0u8; 16];
        let (kind, generation, table, seq) = match self {
            OutgoingId::Change { seq } => (KIND_CHANGE, 0, 0, seq),
            OutgoingId::Dump { generation, table, seq } => (KIND_DUMP, generation, table, seq),
        };
        bytes[0] = kind;
        bytes[1..5].copy_from_slice(&generation.to_be_bytes());
        // Table positions are far below 2^24 (a catalogue holds tens of tables).
        bytes[5..8].copy_from_slice(&table.to_be_bytes()[1..]);
        bytes[8..16].copy_from_slice(&seq.to_be_bytes());
        // Every pulled record carries one of these: a table lookup, not the generic encoder.
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let mut text = [0u8; 32];
        for (i, byte) in bytes.into_iter().enumerate() {
            text[2 * i] = DIGITS[(byte >> 4) as usize];
            text[2 * i + 1] = DIGITS[(byte & 15) as usize];
        }
        text
    }

    /// Reads a SyncID this primary handed out; anything else is `None` (and ignored by acks).
    pub fn parse(text: &str) -> Option<OutgoingId> {
        if text.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        let generation = u32::from_be_bytes(bytes[1..5].try_into().ok()?);
        let table = u32::from_be_bytes([0, bytes[5], bytes[6], bytes[7]]);
        let seq = u64::from_be_bytes(bytes[8..16].try_into().ok()?);
        match bytes[0] {
            KIND_CHANGE if generation == 0 && table == 0 => Some(OutgoingId::Change { seq }),
            KIND_DUMP => Some(OutgoingId::Dump { generation, table, seq }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn outgoing_ids_round_trip(seq: u64, generation: u32, table in 0u32..(1 << 24), dump: bool) {
            let id = if dump { OutgoingId::Dump { generation, table, seq } } else { OutgoingId::Change { seq } };
            let hex = id.to_hex();
            prop_assert_eq!(hex.len(), 32);
            prop_assert_eq!(OutgoingId::parse(&hex), Some(id));
            prop_assert_eq!(OutgoingId::parse(&hex.to_lowercase()), Some(id));
        }

        #[test]
        fn change_ids_sort_by_sequence(a: u64, b: u64) {
            let (ha, hb) = (OutgoingId::Change { seq: a }.to_hex(), OutgoingId::Change { seq: b }.to_hex());
            prop_assert_eq!(a.cmp(&b), ha.cmp(&hb));
        }

        #[test]
        fn site_queues_round_trip(position: u64, acked in proptest::collection::vec(any::<u64>(), 0..20), with_dump: bool, with_progress: bool, drained: bool, tables in proptest::collection::vec("[a-z_]{1,12}", 0..5), client in 0u8..3) {
            let mut progress = DumpProgress::started(tables.iter().map(|t| (t.clone(), t.len() as u64)).collect(), 1_700_000_000);
            if drained {
                progress.drained(1_700_000_100);
            }
            let queue = SiteQueue {
                position,
                acked: acked.iter().copied().collect(),
                dump_generation: 3,
                dump: with_dump.then(|| DumpState {
                    generation: 3, snapshot: 99, tables: tables.clone(), table_pos: 1, after_seq: 42,
                    acked: acked.iter().copied().take(3).collect(),
                }),
                progress: with_progress.then_some(progress),
                client: ClientKind::from_code(client).unwrap(),
            };
            prop_assert_eq!(SiteQueue::decode(&queue.encode()), Some(queue));
        }
    }

    /// A value written before dump progress was kept: version 1, position 7, dump generation 1,
    /// an empty acked bitmap, a dump of one table (`item`) at generation 1, snapshot 7. It still
    /// decodes, without progress; the same value with a progress tail reads the tail.
    #[test]
    fn values_without_the_progress_tail_still_decode() {
        let empty_bitmap = {
            let mut bytes = Vec::new();
            put_bitmap(&mut bytes, &RoaringTreemap::new());
            bytes
        };
        let mut old = vec![1];
        old.extend_from_slice(&7u64.to_be_bytes());
        old.extend_from_slice(&1u32.to_be_bytes());
        old.extend_from_slice(&empty_bitmap);
        old.push(1);
        old.extend_from_slice(&1u32.to_be_bytes());
        old.extend_from_slice(&7u64.to_be_bytes());
        old.extend_from_slice(&0u32.to_be_bytes());
        old.extend_from_slice(&0u64.to_be_bytes());
        old.extend_from_slice(&1u32.to_be_bytes());
        old.extend_from_slice(&4u32.to_be_bytes());
        old.extend_from_slice(b"item");
        old.extend_from_slice(&empty_bitmap);
        let queue = SiteQueue::decode(&old).unwrap();
        assert_eq!((queue.position, queue.dump_generation), (7, 1));
        assert_eq!(queue.dump.as_ref().unwrap().tables, ["item"]);
        assert_eq!(queue.progress, None);
        assert_eq!(queue.encode(), old, "no progress, no tail: the layout is unchanged");

        let with_progress = SiteQueue {
            progress: Some(DumpProgress::started(vec![("item".into(), 5)], 1_700_000_000)),
            ..queue
        };
        let new = with_progress.encode();
        assert!(
            new.starts_with(&old),
            "the progress is a tail an older build stops before"
        );
        assert_eq!(SiteQueue::decode(&new), Some(with_progress.clone()));
        // A tail from a later build is passed over, as this build's tail is by older ones.
        let later = [new.as_slice(), &[TAIL_CLIENT + 1, 0xAB]].concat();
        assert_eq!(SiteQueue::decode(&later), Some(with_progress.clone()));
        // The client tail follows the progress tail, and is read without it too.
        let with_client = SiteQueue {
            client: ClientKind::Mobile2017,
            ..with_progress.clone()
        };
        assert!(with_client.encode().starts_with(&new));
        assert_eq!(SiteQueue::decode(&with_client.encode()), Some(with_client));
        let client_only = SiteQueue {
            client: ClientKind::OpenMsupply,
            progress: None,
            ..with_progress
        };
        assert_eq!(SiteQueue::decode(&client_only.encode()), Some(client_only));
        // A progress tail cut short is corrupt, not absent.
        assert_eq!(SiteQueue::decode(&new[..new.len() - 1]), None);
    }

    #[test]
    fn foreign_sync_ids_are_not_ours() {
        assert_eq!(OutgoingId::parse("89E2D46494F00C409E96DE3F933D77F1"), None);
        assert_eq!(OutgoingId::parse("xyz"), None);
        assert_eq!(OutgoingId::parse(""), None);
    }
}
