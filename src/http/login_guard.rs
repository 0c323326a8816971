//! Password guessing slowed down where every request passes: an address with too many failed
//! logins (401) within the minute is refused with 429 before its request is handled, so no
//! password is checked for it; a name (the one a caller presents) with too many has each further
//! failure answered late, so guessing one site's password from many addresses slows down while
//! its real satellite, with the right password, is answered at once. Counts are per minute and
//! kept in memory, bounded.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use crate::config::Limits;

/// Most names or addresses counted in one minute; past it the minute's counts start again, so
/// memory stays bounded whatever a caller sends.
const MOST_KEYS: usize = 100_000;

#[derive(Default)]
pub struct LoginGuard {
    addresses: Mutex<Counts<IpAddr>>,
    names: Mutex<Counts<String>>,
}

/// Failures per key within the current minute.
struct Counts<K> {
    minute: u64,
    failures: HashMap<K, u32>,
}

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Counts {
            minute: 0,
            failures: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq> Counts<K> {
    fn current(&mut self, minute: u64) -> &mut HashMap<K, u32> {
        if self.minute != minute || self.failures.len() >= MOST_KEYS {
            self.minute = minute;
            self.failures.clear();
        }
        &mut self.failures
    }

    fn count(&mut self, minute: u64, key: &K) -> u32 {
        self.current(minute).get(key).copied().unwrap_or(0)
    }

    fn add(&mut self, minute: u64, key: K) -> u32 {
        let count = self.current(minute).entry(key).or_insert(0);
        *count += 1;
        *count
    }
}

impl LoginGuard {
    /// Seconds until `address` may try again, when it has failed too often this minute.
    pub fn refused(&self, limits: &Limits, address: Option<IpAddr>) -> Option<u64> {
        let (minute, second) = now();
        self.refused_at(limits, address, minute, second)
    }

    /// Notes a failed login of `name` from `address`; how long to hold its answer.
    pub fn failed(&self, limits: &Limits, name: Option<&str>, address: Option<IpAddr>) -> Duration {
        self.failed_at(limits, name, address, now().0)
    }

    fn refused_at(&self, limits: &Limits, address: Option<IpAddr>, minute: u64, second: u64) -> Option<u64> {
        let failures = self.addresses.lock().count(minute, &address?);
        (failures >= limits.failed_logins_per_address_per_minute).then_some(60 - second)
    }

    fn failed_at(&self, limits: &Limits, name: Option<&str>, address: Option<IpAddr>, minute: u64) -> Duration {
        if let Some(address) = address {
            self.addresses.lock().add(minute, address);
        }
        let Some(name) = name else {
            return Duration::ZERO;
        };
        let failures = self.names.lock().add(minute, name.to_string());
        if failures > limits.failed_logins_per_name_per_minute {
            Duration::from_millis(limits.failed_login_delay_ms)
        } else {
            Duration::ZERO
        }
    }
}

/// (the minute since the epoch, the second within it).
fn now() -> (u64, u64) {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    (seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            failed_logins_per_address_per_minute: 3,
            failed_logins_per_name_per_minute: 2,
            failed_login_delay_ms: 500,
            ..Limits::default()
        }
    }

    #[test]
    fn an_address_is_refused_after_its_failures_and_a_name_is_slowed_down() {
        let (guard, limits) = (LoginGuard::default(), limits());
        let (attacker, other) = ("10.0.0.9".parse().ok(), "10.0.0.1".parse().ok());
        let minute = 1_000;
        assert_eq!(
            guard.failed_at(&limits, Some("clinic"), attacker, minute),
            Duration::ZERO
        );
        assert_eq!(
            guard.failed_at(&limits, Some("clinic"), attacker, minute),
            Duration::ZERO
        );
        assert_eq!(
            guard.refused_at(&limits, attacker, minute, 10),
            None,
            "two failures are allowed"
        );
        assert_eq!(
            guard.failed_at(&limits, Some("clinic"), attacker, minute),
            Duration::from_millis(500),
            "a third failure for the name is held"
        );
        assert_eq!(
            guard.refused_at(&limits, attacker, minute, 10),
            Some(50),
            "until the minute ends"
        );
        assert_eq!(
            guard.refused_at(&limits, other, minute, 10),
            None,
            "another address is not"
        );
        let another_name = guard.failed_at(&limits, Some("pharmacy"), other, minute);
        assert_eq!(another_name, Duration::ZERO, "another name is not slowed");
        assert_eq!(
            guard.refused_at(&limits, attacker, minute + 1, 0),
            None,
            "a new minute starts again"
        );
        assert_eq!(
            guard.failed_at(&limits, Some("clinic"), attacker, minute + 1),
            Duration::ZERO
        );
    }
}
