//! Small JSON helpers that several formats share.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

/// The values of the named top-level fields of a JSON object, in the order of `names`. Strings
/// come back unescaped, numbers and booleans as their text; anything else (or a missing field, or
/// data that is not an object) is `None`. Only the wanted fields are copied.
pub fn top_level_strings(data: &[u8], names: &[&str]) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = names.iter().map(|n| (n.to_string(), None)).collect();
    if names.is_empty() || data.is_empty() {
        return out;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    let _ = (&mut deserializer).deserialize_map(FieldPicker { out: &mut out });
    out
}

struct FieldPicker<'o> {
    out: &'o mut Vec<(String, Option<String>)>,
}

impl<'de> Visitor<'de> for FieldPicker<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.out.iter().position(|(name, _)| *name == key) {
                Some(slot) => {
                    let value: serde_json::Value = map.next_value()?;
                    self.out[slot].1 = match value {
                        serde_json::Value::String(s) => Some(s),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        serde_json::Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    };
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_only_named_fields_with_their_text() {
        let data = br#"{"ID":"a","store_ID":"S1","n":12,"nested":{"store_ID":"no"},"flag":true,"nul":null}"#;
        let got = top_level_strings(data, &["store_ID", "n", "flag", "nul", "missing"]);
        let values: Vec<Option<&str>> = got.iter().map(|(_, v)| v.as_deref()).collect();
        assert_eq!(values, vec![Some("S1"), Some("12"), Some("true"), None, None]);
    }

    #[test]
    fn non_objects_give_nothing() {
        assert_eq!(top_level_strings(b"[1,2]", &["a"]), vec![("a".to_string(), None)]);
        assert_eq!(top_level_strings(b"", &["a"]), vec![("a".to_string(), None)]);
    }

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
