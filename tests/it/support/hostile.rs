//! Hostile clients at the TCP level: connections from a chosen loopback address (any of
//! 127.0.0.0/8 reaches a server on 127.0.0.1, so one process can play many hosts) that trickle a
//! request's headers a byte a second, or send nothing, and note how long the server held them.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A connection to `server` from `local`.
pub async fn connect_from(local: IpAddr, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(local, 0)).unwrap();
    socket.connect(server).await.unwrap()
}

/// The loopback address 127.0.0.`n`.
pub fn loopback(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// What a hostile client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manner {
    /// A request line, then a header whose value never ends, one byte a second.
    Trickling,
    /// Nothing at all.
    Silent,
}

/// One hostile connection as it ended: the server closed it after `held`, while the client had
/// sent `bytes_sent` bytes and never a whole request head.
#[derive(Debug, Clone, Copy)]
pub struct Held {
    pub from: IpAddr,
    pub manner: Manner,
    pub held: Duration,
    pub bytes_sent: usize,
}

/// The bytes a trickling client sends: a plausible start, then a header value that never ends,
/// so the head is never complete however long the server waits.
fn trickled(index: usize) -> u8 {
    const START: &[u8] = b"GET /sync/v3/site HTTP/1.1\r\nhost: satsync\r\nx-slow: ";
    START.get(index).copied().unwrap_or(b'a')
}

/// Plays `manner` on `stream` until the server closes it (end of stream, a reset, or a write
/// refused); `connected` is when the connection was made.
pub async fn hold(mut stream: TcpStream, from: IpAddr, manner: Manner, connected: Instant) -> Held {
    let mut sent = 0;
    let mut buffer = [0u8; 1024];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            // The server never answers a head it has not read: anything here is it closing
            // (hyper sends nothing on a header time-out, or a 408 first in some versions).
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            },
            _ = tick.tick(), if manner == Manner::Trickling => {
                if stream.write_all(&[trickled(sent)]).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
    }
    Held {
        from,
        manner,
        held: connected.elapsed(),
        bytes_sent: sent,
    }
}

/// Raises this process's soft limit on open files to the hard one: a test holding thousands of
/// connections holds both their ends when the server runs in the same process.
pub fn raise_open_file_limit(needed: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, raised).unwrap();
    let now = getrlimit(Resource::Nofile).current;
    assert!(
        now.is_none_or(|open| open >= needed),
        "this test needs {needed} open files; the hard limit is {now:?}"
    );
}
