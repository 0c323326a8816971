//! Bulk import of records (JSON lines in the v2 push shape) and export of the stored records.

use std::io::{BufRead, Write};

use indicatif::{ProgressBar, ProgressStyle};

use super::{AdminError, Result};
use crate::domain::ids::SiteId;
use crate::store::{LogReads, Storage};
use crate::sync::SyncEngine;
use crate::wire::v2;

/// Records sent to the engine per push during an import.
const IMPORT_BATCH: usize = 2_000;

/// Applies every record of a JSON-lines file as pushed by the primary itself (so every satellite
/// that should hold it gets it), in batches, with a progress bar over the bytes read. Returns the
/// number of records applied.
pub async fn import(
    engine: &SyncEngine,
    primary: SiteId,
    input: impl BufRead,
    total_bytes: u64,
    show_progress: bool,
) -> Result<u64> {
    let progress = if show_progress {
        ProgressBar::new(total_bytes)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})").expect("the template is valid"),
    );
    let mut batches = Batches::default();
    for line in input.lines() {
        let line = line?;
        progress.inc(line.len() as u64 + 1);
        if let Some(batch) = batches.line(line.as_bytes()) {
            batches.applied += apply(engine, primary, batch).await?;
            progress.set_message(format!("{} records", batches.applied));
        }
    }
    if let Some(batch) = batches.finish() {
        batches.applied += apply(engine, primary, batch).await?;
    }
    progress.finish_with_message(format!("{} records", batches.applied));
    Ok(batches.applied)
}

/// Lines of records gathered into pushes of [`IMPORT_BATCH`]: what an import from a file and
/// one streamed to the admin API share.
#[derive(Default)]
pub struct Batches {
    body: Vec<u8>,
    lines: usize,
    line_number: usize,
    /// Records applied so far (the caller adds each batch's).
    pub applied: u64,
    /// The bytes of an unfinished line, for input that comes in chunks.
    partial: Vec<u8>,
}

/// A push's worth of lines, and the number of the last of them.
pub struct Batch {
    body: Vec<u8>,
    line_number: usize,
}

impl Batches {
    /// Adds one line; returns a batch when it fills one.
    pub fn line(&mut self, line: &[u8]) -> Option<Batch> {
        self.line_number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        self.body.push(if self.lines == 0 { b'[' } else { b',' });
        self.body.extend_from_slice(line);
        self.lines += 1;
        (self.lines == IMPORT_BATCH).then(|| self.take())
    }

    /// Adds a chunk of input, which may end in the middle of a line; returns the batches it
    /// filled. A line longer than `max_line` is refused (it cannot be one record).
    pub fn chunk(&mut self, chunk: &[u8], max_line: usize) -> Result<Vec<Batch>> {
        let mut filled = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let line = if self.partial.is_empty() {
                &rest[..end]
            } else {
                self.partial.extend_from_slice(&rest[..end]);
                &self.partial[..]
            };
            let line = line.to_vec();
            self.partial.clear();
            filled.extend(self.line(&line));
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        if self.partial.len() > max_line {
            let at = self.line_number + 1;
            return Err(AdminError::Invalid(format!(
                "line {at} is longer than {max_line} bytes"
            )));
        }
        Ok(filled)
    }

    /// What is left once the input ended.
    pub fn finish(&mut self) -> Option<Batch> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            if let Some(full) = self.line(&line) {
                return Some(full);
            }
        }
        (self.lines > 0).then(|| self.take())
    }

    fn take(&mut self) -> Batch {
        self.body.push(b']');
        self.lines = 0;
        Batch {
            body: std::mem::take(&mut self.body),
            line_number: self.line_number,
        }
    }
}

/// Applies one batch as the primary's own push, through the writer; the records applied.
pub async fn apply(engine: &SyncEngine, primary: SiteId, batch: Batch) -> Result<u64> {
    let records = v2::decode_push(&batch.body, usize::MAX)
        .map_err(|e| AdminError::Invalid(format!("in the batch ending at line {}: {e}", batch.line_number)))?;
    let outcome = engine.push(primary, records).await?;
    Ok(outcome.applied as u64)
}

/// Writes every existing record (deletes and merges left out) as JSON lines in the push shape,
/// optionally of one table only. Returns the number written.
pub fn export(storage: &Storage, table: Option<&str>, mut output: impl Write) -> Result<u64> {
    let mut written = 0u64;
    let mut failure = None;
    storage.scan_log(|seq, entry| {
        if failure.is_some()
            || !entry.record.sync_type.leaves_record()
            || table.is_some_and(|t| t != entry.record.table)
        {
            return;
        }
        let mut line = v2::encode_push_line(seq, &entry.record);
        line.push(b'\n');
        match output.write_all(&line) {
            Ok(()) => written += 1,
            Err(error) => failure = Some(error),
        }
    })?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    output.flush()?;
    Ok(written)
}

/// The imports an operator started through the admin API, running or finished (the last
/// [`KEPT_IMPORTS`]), for `GET imports`.
#[derive(Debug, Default)]
pub struct Imports {
    next_id: std::sync::atomic::AtomicU64,
    imports: parking_lot::Mutex<Vec<ImportProgress>>,
}

/// Finished imports remembered.
const KEPT_IMPORTS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    pub id: u64,
    pub operator: String,
    pub started_unix_seconds: u64,
    pub bytes_read: u64,
    pub records_applied: u64,
    pub finished: bool,
    pub error: Option<String>,
}

impl Imports {
    /// Registers a new import; its id.
    pub fn start(&self, operator: &str) -> u64 {
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let mut imports = self.imports.lock();
        imports.push(ImportProgress {
            id,
            operator: operator.to_string(),
            started_unix_seconds: crate::sync::dump_progress::unix_seconds_now(),
            bytes_read: 0,
            records_applied: 0,
            finished: false,
            error: None,
        });
        let finished = imports.iter().filter(|i| i.finished).count();
        if finished > KEPT_IMPORTS {
            let oldest = imports.iter().position(|i| i.finished).expect("one is finished");
            imports.remove(oldest);
        }
        id
    }

    pub fn update(&self, id: u64, change: impl FnOnce(&mut ImportProgress)) {
        if let Some(import) = self.imports.lock().iter_mut().find(|i| i.id == id) {
            change(import);
        }
    }

    pub fn all(&self) -> Vec<ImportProgress> {
        self.imports.lock().clone()
    }
}
