//! Replies compressed for the clients that ask (`Accept-Encoding`), when they are large enough to
//! gain: satellites on cellular links pay for every byte, and a pull of records is repetitive
//! JSON that shrinks several times. mSupply Mobile's HTTP stack offers gzip by itself; zstd and
//! brotli are used when offered. The order and the levels are chosen on measurements
//! (`benches/compression.rs`, BENCHMARKS.md "compression"): zstd 1 gives the fewest bytes for
//! the least CPU, so it comes first; gzip 4 as many bytes as gzip 6 or 9 for less CPU; brotli
//! (the pure-Rust encoder) needs several times gzip's CPU for a fifth fewer bytes, so it is
//! used only when a client offers it and not gzip. A client that asks for nothing gets the
//! reply as it was, at no cost but reading one header.

use std::io::Write;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

/// Smaller replies go as they are: under about a packet, compressing saves no round trip.
pub const MIN_BYTES: usize = 1024;

/// Replies up to this size are compressed on the async worker (well under a millisecond at the
/// levels below); larger ones on the blocking pool, so that a dump page never stalls the
/// connections sharing the worker.
pub const INLINE_BYTES: usize = 32 * 1024;

/// An encoding satsync compresses replies in, in the order it prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Zstd,
    Gzip,
    Brotli,
}

/// The levels replies are compressed at.
pub const GZIP_LEVEL: u32 = 4;
pub const ZSTD_LEVEL: i32 = 1;
pub const BROTLI_QUALITY: u32 = 4;

impl Encoding {
    /// Its `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Zstd => "zstd",
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// `body` compressed at the level replies use.
    pub fn compress(self, body: &[u8]) -> Vec<u8> {
        let level = match self {
            Encoding::Zstd => ZSTD_LEVEL as u32,
            Encoding::Brotli => BROTLI_QUALITY,
            Encoding::Gzip => GZIP_LEVEL,
        };
        self.compress_at(body, level)
    }

    /// `body` compressed at `level` (gzip 1–9, zstd 1–22, brotli 0–11): the benches compare
    /// levels through this.
    pub fn compress_at(self, body: &[u8], level: u32) -> Vec<u8> {
        match self {
            Encoding::Gzip => {
                let out = Vec::with_capacity(body.len() / 4);
                let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::new(level));
                encoder.write_all(body).expect("writing to memory");
                encoder.finish().expect("writing to memory")
            }
            Encoding::Zstd => zstd::bulk::compress(body, level as i32).expect("compressing in memory"),
            Encoding::Brotli => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: level as i32,
                    ..Default::default()
                };
                let mut out = Vec::with_capacity(body.len() / 4);
                brotli::BrotliCompress(&mut &body[..], &mut out, &params).expect("compressing in memory");
                out
            }
        }
    }
}

/// The encoding to answer in, from the request's `Accept-Encoding`: the first of ours the client
/// accepts (a `q` of 0 refuses one; `*` accepts gzip), or none.
pub fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
    let mut accepted = [false; 3];
    for value in headers.get_all(http::header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for offer in value.split(',') {
            let mut parts = offer.split(';');
            let token = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            let slot = match token.to_ascii_lowercase().as_str() {
                "zstd" => 0,
                "gzip" | "x-gzip" | "*" => 1,
                "br" => 2,
                _ => continue,
            };
            accepted[slot] = true;
        }
    }
    [Encoding::Zstd, Encoding::Gzip, Encoding::Brotli]
        .into_iter()
        .zip(accepted)
        .find_map(|(encoding, yes)| yes.then_some(encoding))
}

/// `body` in `encoding` when it is worth it: the new body and the headers to add.
pub async fn compress(encoding: Option<Encoding>, body: Bytes) -> (Bytes, Option<HeaderValue>) {
    let Some(encoding) = encoding.filter(|_| body.len() >= MIN_BYTES) else {
        return (body, None);
    };
    let compressed = if body.len() <= INLINE_BYTES {
        encoding.compress(&body)
    } else {
        let large = body.clone();
        match tokio::task::spawn_blocking(move || encoding.compress(&large)).await {
            Ok(compressed) => compressed,
            Err(_) => return (body, None),
        }
    };
    (
        Bytes::from(compressed),
        Some(HeaderValue::from_static(encoding.token())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn offered(value: &str) -> Option<Encoding> {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        negotiate(&headers)
    }

    #[test]
    fn the_client_offer_decides_and_ours_ranks() {
        assert_eq!(negotiate(&HeaderMap::new()), None);
        assert_eq!(offered("gzip"), Some(Encoding::Gzip));
        assert_eq!(offered("gzip, deflate, br"), Some(Encoding::Gzip));
        assert_eq!(offered("deflate, br"), Some(Encoding::Brotli));
        assert_eq!(offered("gzip, br, zstd"), Some(Encoding::Zstd));
        assert_eq!(offered("zstd;q=0, gzip;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(offered("gzip;q=0"), None);
        assert_eq!(offered("identity"), None);
        assert_eq!(offered("deflate"), None);
        assert_eq!(offered("*"), Some(Encoding::Gzip));
        assert_eq!(offered(" GZIP "), Some(Encoding::Gzip));
    }

    #[test]
    fn each_encoding_round_trips() {
        let body: Vec<u8> = (0..20_000)
            .flat_map(|n| format!("{{\"n\":\"{n}\"}},").into_bytes())
            .collect();
        let gzip = Encoding::Gzip.compress(&body);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, body);
        assert_eq!(zstd::decode_all(&Encoding::Zstd.compress(&body)[..]).unwrap(), body);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &Encoding::Brotli.compress(&body)[..], &mut back).unwrap();
        assert_eq!(back, body);
        assert!(gzip.len() * 3 < body.len(), "{} of {}", gzip.len(), body.len());
    }

    #[tokio::test]
    async fn small_replies_and_clients_that_do_not_ask_get_the_body_unchanged() {
        let small = Bytes::from(vec![b'a'; MIN_BYTES - 1]);
        assert_eq!(compress(Some(Encoding::Gzip), small.clone()).await, (small, None));
        let large = Bytes::from(vec![b'a'; INLINE_BYTES * 2]);
        assert_eq!(compress(None, large.clone()).await, (large.clone(), None));
        let (body, encoding) = compress(Some(Encoding::Zstd), large.clone()).await;
        assert_eq!(encoding.unwrap(), "zstd");
        assert_eq!(zstd::decode_all(&body[..]).unwrap(), large);
    }
}
