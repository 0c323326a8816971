//! Small JSON helpers that several formats share.

/// Appends `s` to `out` as a JSON string literal (the rows' own writer: one escaping rule).
pub use crate::domain::row::write_json_string as write_string;

/// Arrays at least this long are encoded in parallel.
const PARALLEL_FROM: usize = 256;

/// Encodes `items` as a JSON array, each one by `encode`; long arrays in parallel chunks (the
/// pull of a big initial dump is CPU-bound on encoding). `size_hint` is the expected length.
pub fn encode_array<T: Sync>(items: &[T], size_hint: usize, encode: impl Fn(&mut Vec<u8>, &T) + Sync) -> Vec<u8> {
    use rayon::prelude::*;
    let mut out = Vec::with_capacity(size_hint + 2);
    out.push(b'[');
    if items.len() >= PARALLEL_FROM {
        let parts: Vec<Vec<u8>> = items
            .par_chunks(64)
            .map(|chunk| {
                let mut part = Vec::with_capacity(chunk.len() * 512);
                for (i, item) in chunk.iter().enumerate() {
                    if i > 0 {
                        part.push(b',');
                    }
                    encode(&mut part, item);
                }
                part
            })
            .collect();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(part);
        }
    } else {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            encode(&mut out, item);
        }
    }
    out.push(b']');
    out
}

/// `{"error":"<message>"}`
pub fn error_body(message: &str) -> Vec<u8> {
    let mut out = b"{\"error\":".to_vec();
    write_string(&mut out, message);
    out.push(b'}');
    out
}

/// `{"status":"<status>"}`, or with the reason it is not ready: what `/healthz` and `/readyz`
/// answer.
pub fn health_body(status: &str, reason: Option<&str>) -> Vec<u8> {
    let mut out = b"{\"status\":".to_vec();
    write_string(&mut out, status);
    if let Some(reason) = reason {
        out.extend_from_slice(b",\"reason\":");
        write_string(&mut out, reason);
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_the_same_encoded_in_parallel_or_not() {
        let numbers: Vec<u32> = (0..1000).collect();
        let write = |out: &mut Vec<u8>, n: &u32| out.extend_from_slice(n.to_string().as_bytes());
        let long = encode_array(&numbers, 0, write);
        assert_eq!(serde_json::from_slice::<Vec<u32>>(&long).unwrap(), numbers);
        assert_eq!(encode_array(&numbers[..3], 0, write), b"[0,1,2]");
        assert_eq!(encode_array(&numbers[..0], 0, write), b"[]");
    }

    #[test]
    fn error_bodies_escape() {
        assert_eq!(error_body("bad \"x\""), br#"{"error":"bad \"x\""}"#.to_vec());
    }

    proptest::proptest! {
        /// The copy-whole fast path and the escaping path both give a literal that reads back
        /// as the same string.
        #[test]
        fn written_strings_read_back(s in "\\PC*|[a-z\"\\\\\u{0}-\u{1f}é]{0,12}") {
            let mut out = Vec::new();
            write_string(&mut out, &s);
            proptest::prop_assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
        }
    }
}
