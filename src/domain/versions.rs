//! Dotted version numbers (`2.3.0`, `2.5.0-RC3`), compared number by number, for the client
//! compatibility checks.

use std::cmp::Ordering;

/// The numbers of a dotted version; a pre-release suffix after `-` or `+` is ignored (a
/// release candidate counts as its release). `None` for anything else.
pub fn parse(text: &str) -> Option<Vec<u32>> {
    let release = text.trim().split(['-', '+']).next()?;
    release.split('.').map(|part| part.parse().ok()).collect()
}

/// Compares two parsed versions, a missing part counting as 0 (`2.3` = `2.3.0`).
pub fn compare(a: &[u32], b: &[u32]) -> Ordering {
    let len = a.len().max(b.len());
    let part = |v: &[u32], i: usize| v.get(i).copied().unwrap_or(0);
    (0..len)
        .map(|i| part(a, i).cmp(&part(b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_number_by_number() {
        let v = |t: &str| parse(t).unwrap();
        assert_eq!(compare(&v("2.10.0"), &v("2.9.9")), Ordering::Greater);
        assert_eq!(compare(&v("2.3"), &v("2.3.0")), Ordering::Equal);
        assert_eq!(compare(&v("2.5.0-RC3"), &v("2.5.0")), Ordering::Equal);
        assert_eq!(compare(&v("1.9"), &v("2")), Ordering::Less);
        assert_eq!(parse("two"), None);
        assert_eq!(parse("2..1"), None);
        assert_eq!(parse(""), None);
    }
}
