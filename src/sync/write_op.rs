//! A writer command as data, and the two encodings a cluster sends over NATS: a group's message in
//! the log (its commands in order, for every replica to apply exactly as the writer did) and a
//! command another instance forwards to the writer, with the answer it gets back.
//!
//! Everything a command's effect depends on travels in it or in its group's header: the clock
//! reading (`now`, taken once per group by the writer), an operator's directory changes (decided
//! by the writer against its directory, sent as the changes), the skip log's time. The rest is
//! the state every replica holds at the same log position, and the catalogues, which every
//! instance of a cluster loads from the same files.
//!
//! Format (version 1): a version byte, a body-encoding byte (0 plain, 1 zstd), then the body in
//! postcard (compact, varint integers): the group's `now` (u64), its number of commands (u32),
//! and each [`WriteOp`]. A replica refuses a version it does not know rather than guess.

use serde::{Deserialize, Serialize};

use super::push::PushOutcome;
use super::site_queue::{ClientKind, OutgoingId};
use super::{Result, SyncError};
use crate::domain::directory::DirectoryChange;
use crate::domain::ids::SiteId;
use crate::domain::record::PushedRecord;
use crate::store::{PatientWrites, StoreError};

/// The format of the messages this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
const BODY_PLAIN: u8 = 0;
const BODY_ZSTD: u8 = 1;
/// Bodies above this are compressed: pushes are JSON rows, which zstd's fastest level shrinks
/// several times for about half a microsecond per record, and every byte of the log is sent to
/// three servers and written to three disks.
const COMPRESS_ABOVE: usize = 4096;

/// One change the writer applies: what a satellite, an operator or patient sync asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WriteOp {
    Push {
        site: SiteId,
        records: Vec<PushedRecord>,
    },
    Acknowledge {
        site: SiteId,
        ids: Vec<OutgoingId>,
    },
    InitialDump {
        site: SiteId,
        mobile_only: bool,
        client: ClientKind,
    },
    /// The site was seen syncing with another client than its queue state says.
    SetClient {
        site: SiteId,
        client: ClientKind,
    },
    BindHardware {
        site: SiteId,
        hardware_id: String,
    },
    /// An operator's act, as the directory changes it was decided to make.
    ChangeDirectory {
        changes: Vec<DirectoryChange>,
    },
    /// An operator removes one record from one satellite's queue, logged in the same write.
    Skip {
        site: SiteId,
        id: OutgoingId,
        log_entry: String,
        at_micros: u64,
    },
    /// Sites' health, as it stood at a flush (`health.rs`); a removed site's is dropped.
    Health {
        changed: Vec<(SiteId, Vec<u8>)>,
    },
    /// Patient sync's changes, prepared on its own writer thread.
    PatientWrites {
        writes: PatientWrites,
    },
}

/// What applying a [`WriteOp`] answered.
#[derive(Debug)]
pub enum Answer {
    Push(Result<PushOutcome>),
    Done(Result<()>),
    Directory(Result<Vec<DirectoryChange>>),
}

/// A group's message being built, command by command, as the writer applies them.
pub struct GroupMessage {
    body: Vec<u8>,
}

impl GroupMessage {
    pub fn new(now: u64, commands: usize) -> GroupMessage {
        let mut body = Vec::with_capacity(256);
        append(&mut body, &now);
        append(&mut body, &(commands as u32));
        GroupMessage { body }
    }

    /// Adds the next command. Exactly as many as [`GroupMessage::new`] was told.
    pub fn push(&mut self, op: &WriteOp) {
        append(&mut self.body, op);
    }

    /// The message as the log holds it.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() / 2 + 2);
        out.push(FORMAT_VERSION);
        if self.body.len() > COMPRESS_ABOVE {
            out.push(BODY_ZSTD);
            // Writing into a Vec cannot fail.
            zstd::stream::copy_encode(self.body.as_slice(), &mut out, 1).expect("zstd into memory");
        } else {
            out.push(BODY_PLAIN);
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// A group read back from the log: the writer's clock and the commands in order.
#[derive(Debug)]
pub struct DecodedGroup {
    pub now: u64,
    pub ops: Vec<WriteOp>,
}

/// Reads a group's message; an error says what is wrong with it.
pub fn decode_group(message: &[u8]) -> std::result::Result<DecodedGroup, String> {
    let body = body_of(message)?;
    let (now, rest): (u64, &[u8]) = postcard::take_from_bytes(&body).map_err(|e| format!("group header: {e}"))?;
    let (count, mut rest): (u32, &[u8]) = postcard::take_from_bytes(rest).map_err(|e| format!("group header: {e}"))?;
    let mut ops = Vec::with_capacity(count as usize);
    for n in 0..count {
        let (op, after) = postcard::take_from_bytes(rest).map_err(|e| format!("command {n} of {count}: {e}"))?;
        ops.push(op);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(format!("{} bytes after the last command", rest.len()));
    }
    Ok(DecodedGroup { now, ops })
}

fn body_of(message: &[u8]) -> std::result::Result<std::borrow::Cow<'_, [u8]>, String> {
    match message {
        [FORMAT_VERSION, BODY_PLAIN, body @ ..] => Ok(body.into()),
        [FORMAT_VERSION, BODY_ZSTD, body @ ..] => zstd::stream::decode_all(body)
            .map(Into::into)
            .map_err(|e| format!("compressed body: {e}")),
        [FORMAT_VERSION, other, ..] => Err(format!("unknown body encoding {other}")),
        [version, ..] => Err(format!("message format {version}; this build reads {FORMAT_VERSION}")),
        [] => Err("empty message".into()),
    }
}

fn append(out: &mut Vec<u8>, value: &impl Serialize) {
    // Serialising into a Vec fails only for types postcard cannot represent; ours are plain data.
    let encoded = postcard::to_stdvec(value).expect("writer commands serialise");
    out.extend_from_slice(&encoded);
}

/// A forwarded command's request: the command, prefixed by the format version.
pub fn encode_forwarded(op: &WriteOp) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    append(&mut out, op);
    out
}

pub fn decode_forwarded(request: &[u8]) -> std::result::Result<WriteOp, String> {
    match request {
        [FORMAT_VERSION, body @ ..] => postcard::from_bytes(body).map_err(|e| format!("forwarded command: {e}")),
        _ => Err("forwarded command of an unknown format".into()),
    }
}

/// A failure as it crosses to another instance: [`SyncError`]'s variants, storage causes as text.
#[derive(Debug, Serialize, Deserialize)]
enum RemoteError {
    WriterStopped,
    NotWriter,
    HardwareMismatch,
    UnknownSite(SiteId),
    Invalid(String),
    BadRecord(String),
    NotQueued(String),
    PatientStale,
    Failed(String),
}

impl From<&SyncError> for RemoteError {
    fn from(error: &SyncError) -> RemoteError {
        match error {
            SyncError::WriterStopped => RemoteError::WriterStopped,
            SyncError::NotWriter => RemoteError::NotWriter,
            SyncError::HardwareMismatch => RemoteError::HardwareMismatch,
            SyncError::UnknownSite(site) => RemoteError::UnknownSite(*site),
            SyncError::Invalid(text) => RemoteError::Invalid(text.clone()),
            SyncError::BadRecord(text) => RemoteError::BadRecord(text.clone()),
            SyncError::NotQueued(text) => RemoteError::NotQueued(text.clone()),
            SyncError::PatientStale => RemoteError::PatientStale,
            SyncError::Storage(cause) | SyncError::GroupFailed(cause) => RemoteError::Failed(cause.to_string()),
        }
    }
}

impl From<RemoteError> for SyncError {
    fn from(error: RemoteError) -> SyncError {
        match error {
            RemoteError::WriterStopped => SyncError::WriterStopped,
            RemoteError::NotWriter => SyncError::NotWriter,
            RemoteError::HardwareMismatch => SyncError::HardwareMismatch,
            RemoteError::UnknownSite(site) => SyncError::UnknownSite(site),
            RemoteError::Invalid(text) => SyncError::Invalid(text),
            RemoteError::BadRecord(text) => SyncError::BadRecord(text),
            RemoteError::NotQueued(text) => SyncError::NotQueued(text),
            RemoteError::PatientStale => SyncError::PatientStale,
            RemoteError::Failed(text) => SyncError::GroupFailed(StoreError::WriteFailed(text)),
        }
    }
}

#[derive(Serialize, Deserialize)]
enum RemoteAnswer {
    Push(std::result::Result<PushOutcome, RemoteError>),
    Done(std::result::Result<(), RemoteError>),
    Directory(std::result::Result<Vec<DirectoryChange>, RemoteError>),
}

/// The writer's answer to a forwarded command, with the log position of the group that holds it
/// (the forwarding instance answers its client once its own replica has applied that far).
pub fn encode_answer(answer: &Answer, position: u64) -> Vec<u8> {
    let remote = match answer {
        Answer::Push(result) => RemoteAnswer::Push(result.as_ref().map(|o| *o).map_err(RemoteError::from)),
        Answer::Done(result) => RemoteAnswer::Done(result.as_ref().map(|_| ()).map_err(RemoteError::from)),
        Answer::Directory(result) => RemoteAnswer::Directory(match result {
            Ok(changes) => Ok(changes.to_vec()),
            Err(error) => Err(error.into()),
        }),
    };
    let mut out = vec![FORMAT_VERSION];
    append(&mut out, &(position, remote));
    out
}

pub fn decode_answer(reply: &[u8]) -> std::result::Result<(Answer, u64), String> {
    let [FORMAT_VERSION, body @ ..] = reply else {
        return Err("an answer of an unknown format".into());
    };
    let (position, remote): (u64, RemoteAnswer) =
        postcard::from_bytes(body).map_err(|e| format!("forwarded answer: {e}"))?;
    let answer = match remote {
        RemoteAnswer::Push(result) => Answer::Push(result.map_err(SyncError::from)),
        RemoteAnswer::Done(result) => Answer::Done(result.map_err(SyncError::from)),
        RemoteAnswer::Directory(result) => Answer::Directory(result.map_err(SyncError::from)),
    };
    Ok((answer, position))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::{SyncRecord, SyncType};

    fn push(records: usize) -> WriteOp {
        let record = |n: usize| {
            PushedRecord::new(
                format!("SYNC{n}"),
                SyncRecord {
                    table: "item".into(),
                    record_id: format!("ITEM{n}"),
                    sync_type: SyncType::Insert,
                    store_id: String::new(),
                    key_field_id: String::new(),
                    merge_id_to_keep: String::new(),
                    merge_id_to_delete: String::new(),
                    data: format!(r#"{{"ID":"ITEM{n}","item_name":"Paracetamol {n}"}}"#).into_bytes(),
                },
            )
        };
        WriteOp::Push {
            site: SiteId(7),
            records: (0..records).map(record).collect(),
        }
    }

    fn round_trip(ops: Vec<WriteOp>) -> (Vec<u8>, DecodedGroup) {
        let mut message = GroupMessage::new(1_765_000_000, ops.len());
        ops.iter().for_each(|op| message.push(op));
        let bytes = message.finish();
        let decoded = decode_group(&bytes).unwrap();
        assert_eq!(decoded.now, 1_765_000_000);
        assert_eq!(format!("{:?}", decoded.ops), format!("{ops:?}"));
        (bytes, decoded)
    }

    #[test]
    fn a_small_group_round_trips_plain() {
        let ops = vec![
            push(2),
            WriteOp::Acknowledge {
                site: SiteId(7),
                ids: vec![OutgoingId::Change { seq: 9 }],
            },
            WriteOp::InitialDump {
                site: SiteId(3),
                mobile_only: true,
                client: ClientKind::Mobile2017,
            },
        ];
        let (bytes, _) = round_trip(ops);
        assert_eq!(bytes[..2], [FORMAT_VERSION, BODY_PLAIN]);
    }

    #[test]
    fn a_large_push_is_compressed_and_round_trips() {
        let (bytes, decoded) = round_trip(vec![push(500)]);
        assert_eq!(bytes[..2], [FORMAT_VERSION, BODY_ZSTD]);
        let mut plain = GroupMessage::new(0, 1);
        plain.push(&decoded.ops[0]);
        assert!(
            bytes.len() * 4 < plain.body.len(),
            "{} against {}",
            bytes.len(),
            plain.body.len()
        );
    }

    #[test]
    fn unknown_versions_and_damaged_messages_are_refused() {
        let mut message = GroupMessage::new(5, 1);
        message.push(&push(1));
        let mut bytes = message.finish();
        assert!(decode_group(&bytes[..bytes.len() - 3]).is_err(), "truncated");
        bytes[0] = FORMAT_VERSION + 1;
        assert!(decode_group(&bytes).unwrap_err().contains("format 2"));
        assert!(decode_group(&[]).is_err());
    }

    #[test]
    fn answers_cross_with_their_position_and_errors_keep_their_kind() {
        let outcome = PushOutcome {
            applied: 3,
            repeated: 1,
        };
        let (answer, position) = decode_answer(&encode_answer(&Answer::Push(Ok(outcome)), 41)).unwrap();
        assert_eq!(position, 41);
        assert!(matches!(answer, Answer::Push(Ok(o)) if o == outcome));
        let refused = Answer::Done(Err(SyncError::NotQueued("ABC".into())));
        let (answer, _) = decode_answer(&encode_answer(&refused, 2)).unwrap();
        assert!(matches!(answer, Answer::Done(Err(SyncError::NotQueued(id))) if id == "ABC"));
        let op = decode_forwarded(&encode_forwarded(&push(3))).unwrap();
        assert_eq!(format!("{op:?}"), format!("{:?}", push(3)));
    }
}
