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
    let mut applied = 0u64;
    let mut body = Vec::with_capacity(IMPORT_BATCH * 512);
    let mut lines = 0usize;
    let mut line_number = 0usize;
    for line in input.lines() {
        let line = line?;
        line_number += 1;
        progress.inc(line.len() as u64 + 1);
        if line.trim().is_empty() {
            continue;
        }
        body.push(if lines == 0 { b'[' } else { b',' });
        body.extend_from_slice(line.as_bytes());
        lines += 1;
        if lines == IMPORT_BATCH {
            applied += flush(engine, primary, &mut body, line_number).await?;
            lines = 0;
            progress.set_message(format!("{applied} records"));
        }
    }
    if lines > 0 {
        applied += flush(engine, primary, &mut body, line_number).await?;
    }
    progress.finish_with_message(format!("{applied} records"));
    Ok(applied)
}

async fn flush(engine: &SyncEngine, primary: SiteId, body: &mut Vec<u8>, line_number: usize) -> Result<u64> {
    body.push(b']');
    let records = v2::decode_push(body, usize::MAX)
        .map_err(|e| AdminError::Invalid(format!("in the batch ending at line {line_number}: {e}")))?;
    body.clear();
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
