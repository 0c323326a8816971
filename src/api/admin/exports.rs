//! The export through the running primary (`GET export?table=`): every stored record as JSON
//! lines in the push shape, read on a thread of its own and sent in chunks through a bounded
//! channel as the client reads them (a slow client holds the reader back; memory stays a few
//! chunks). It reads one RocksDB iterator's view: the records as they stood when it began.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::primary::Primary;

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the client at most.
const CHUNKS_AHEAD: usize = 8;

/// Starts the export; its chunks, as they are read (an error when no thread could be had).
///
/// The reader gets a thread of its own, not one of the blocking pool: it waits on its client for
/// as long as the client takes to read (hours, for a slow link, or forever, for one that stops
/// reading), and the blocking pool is the `[server] read_threads` that every pull needs; two
/// stalled exports would stop every satellite's pulls.
pub fn start(primary: &Arc<Primary>, operator: &str, table: Option<String>) -> std::io::Result<mpsc::Receiver<Bytes>> {
    let (sender, chunks) = mpsc::channel(CHUNKS_AHEAD);
    let (app, operator) = (primary.clone(), operator.to_string());
    let reader = move || {
        // A bulk read, like a pull: the async workers and the writer get a core first.
        crate::priority::lower_current_thread();
        let out = ChunkWriter {
            sender,
            pending: Vec::with_capacity(CHUNK),
        };
        match crate::admin::transfer::export(app.engine.storage(), table.as_deref(), out) {
            Ok(written) => tracing::info!(operator, records = written, "export sent"),
            // Most often the client went away; the log says where it stopped.
            Err(error) => tracing::warn!(operator, %error, "export stopped"),
        }
    };
    std::thread::Builder::new()
        .name("satsync-export".into())
        .spawn(reader)?;
    Ok(chunks)
}

/// Gathers what the export writes into chunks for the response body.
struct ChunkWriter {
    sender: mpsc::Sender<Bytes>,
    pending: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = Bytes::from(std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK)));
        self.sender
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.send()
    }
}
