//! Every satellite's health, as operators watch it: when it last called and from where, with
//! which API and app version, when it last pushed, pulled and acknowledged, its failed logins,
//! and the head of its queue it was last given. Touched on every request, so it is kept in
//! memory (one short lock per request) and persisted in batches: the sites changed since the
//! last flush are written together by the writer every flush interval, never one durable write
//! per request. A crash loses at most one interval of it; nothing of sync depends on it.
//!
//! From it the primary flags, by themselves, the satellites an operator should look at
//! ([`Flag`]): one stuck on a record it cannot integrate (the same head delivered again and
//! again without an acknowledgement), one silent for too long, one whose acknowledgements
//! stopped while it still pulls, one failing to log in again and again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::domain::ids::SiteId;

/// When the primary flags a satellite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// The same head delivered this many times in a row, unacknowledged: stuck on it.
    pub stuck_deliveries: u32,
    /// No request for this long: silent.
    pub silent_seconds: u64,
    /// Pulling records for this long without acknowledging any.
    pub acks_stopped_seconds: u64,
    /// This many failed logins within an hour.
    pub failed_logins: u32,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            stuck_deliveries: 5,
            silent_seconds: 7 * 24 * 3600,
            acks_stopped_seconds: 6 * 3600,
            failed_logins: 10,
        }
    }
}

/// The window failed logins are counted in.
const FAILED_LOGIN_WINDOW_SECONDS: u64 = 3600;

/// The first record of a page delivered to a satellite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueHead {
    pub sync_id: String,
    pub table: String,
    pub record_id: String,
}

/// What one request tells of its satellite.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// The API it called, as its path names it (`v3`, `v5`, …).
    pub api: &'static str,
    pub address: Option<String>,
    /// What the app reports of itself (`msupply-version`, `app-version`, `mobile-version`).
    pub app_version: Option<String>,
}

/// One satellite's health. Times are unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteHealth {
    pub last_request_at: Option<u64>,
    pub address: Option<String>,
    pub api: Option<String>,
    pub app_version: Option<String>,
    pub last_push_at: Option<u64>,
    pub last_pull_at: Option<u64>,
    pub last_ack_at: Option<u64>,
    /// The last pull that delivered records without an acknowledgement since (cleared by one).
    pub unacknowledged_since: Option<u64>,
    pub failed_logins: u64,
    pub last_failed_login_at: Option<u64>,
    /// Failed logins since `failed_window_start`, within the last hour.
    pub recent_failed_logins: u32,
    pub failed_window_start: Option<u64>,
    /// The head of the last page delivered, and how many times in a row it was delivered.
    pub head: Option<QueueHead>,
    pub head_deliveries: u32,
}

/// Why an operator should look at a satellite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Flag {
    /// The same record delivered again and again, never acknowledged: a record it cannot
    /// integrate. Skipping it (with a reason) unblocks the satellite.
    Stuck { head: QueueHead, deliveries: u32 },
    /// No request since `since`.
    Silent { since: u64 },
    /// Pulling without acknowledging since `since`.
    AcksStopped { since: u64 },
    /// `count` failed logins within the hour (a reinstalled tablet without a hardware reset, or
    /// a wrong password).
    FailingLogins { count: u32 },
}

impl Flag {
    /// Every [`Flag::kind`].
    pub const KINDS: [&'static str; 4] = ["stuck", "silent", "acks-stopped", "failing-logins"];

    pub fn kind(&self) -> &'static str {
        match self {
            Flag::Stuck { .. } => "stuck",
            Flag::Silent { .. } => "silent",
            Flag::AcksStopped { .. } => "acks-stopped",
            Flag::FailingLogins { .. } => "failing-logins",
        }
    }
}

impl SiteHealth {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("health serialises")
    }

    pub fn decode(bytes: &[u8]) -> Option<SiteHealth> {
        serde_json::from_slice(bytes).ok()
    }

    /// What the primary flags of this satellite at `now`, with `queued` records waiting.
    pub fn flags(&self, thresholds: &Thresholds, queued: u64, now: u64) -> Vec<Flag> {
        let mut flags = Vec::new();
        if let Some(head) = &self.head {
            if self.head_deliveries >= thresholds.stuck_deliveries {
                flags.push(Flag::Stuck {
                    head: head.clone(),
                    deliveries: self.head_deliveries,
                });
            }
        }
        if let Some(since) = self.last_request_at {
            if now.saturating_sub(since) >= thresholds.silent_seconds {
                flags.push(Flag::Silent { since });
            }
        }
        if let (Some(since), true) = (self.unacknowledged_since, queued > 0) {
            let pulling = self.last_pull_at.is_some_and(|pull| pull > since);
            if pulling && now.saturating_sub(since) >= thresholds.acks_stopped_seconds {
                flags.push(Flag::AcksStopped { since });
            }
        }
        let window_open = self
            .failed_window_start
            .is_some_and(|start| now.saturating_sub(start) < FAILED_LOGIN_WINDOW_SECONDS);
        if window_open && self.recent_failed_logins >= thresholds.failed_logins {
            flags.push(Flag::FailingLogins {
                count: self.recent_failed_logins,
            });
        }
        flags
    }
}

/// Every satellite's health, and which changed since the last flush.
#[derive(Debug, Default)]
pub struct Health {
    sites: Mutex<HashMap<SiteId, (SiteHealth, bool)>>,
    thresholds: Mutex<Thresholds>,
    /// The unix second the tests and the monitor read "now" from when set (0: the clock).
    frozen_now: AtomicU64,
}

impl Health {
    /// The health persisted before, as [`SiteHealth::encode`] wrote it; unreadable entries are
    /// started afresh (health is an operator's aid, never sync state).
    pub fn load(persisted: Vec<(SiteId, Vec<u8>)>) -> Health {
        let sites = persisted
            .into_iter()
            .filter_map(|(site, bytes)| Some((site, (SiteHealth::decode(&bytes)?, false))))
            .collect();
        Health {
            sites: Mutex::new(sites),
            thresholds: Mutex::default(),
            frozen_now: AtomicU64::new(0),
        }
    }

    pub fn thresholds(&self) -> Thresholds {
        *self.thresholds.lock()
    }

    pub fn set_thresholds(&self, thresholds: Thresholds) {
        *self.thresholds.lock() = thresholds;
    }

    pub fn now(&self) -> u64 {
        match self.frozen_now.load(Ordering::Relaxed) {
            0 => super::dump_progress::unix_seconds_now(),
            frozen => frozen,
        }
    }

    fn touch(&self, site: SiteId, change: impl FnOnce(&mut SiteHealth, u64)) {
        let now = self.now();
        let mut sites = self.sites.lock();
        let (health, dirty) = sites.entry(site).or_default();
        change(health, now);
        *dirty = true;
    }

    /// A request the satellite authenticated for.
    pub fn request(&self, site: SiteId, seen: Seen) {
        self.touch(site, |h, now| {
            h.last_request_at = Some(now);
            if h.api.as_deref() != Some(seen.api) {
                h.api = Some(seen.api.to_string());
            }
            if seen.address.is_some() && h.address != seen.address {
                h.address = seen.address;
            }
            if seen.app_version.is_some() && h.app_version != seen.app_version {
                h.app_version = seen.app_version;
            }
        });
    }

    pub fn pushed(&self, site: SiteId) {
        self.touch(site, |h, now| h.last_push_at = Some(now));
    }

    /// A page of the central feed delivered (open-mSupply's: read by cursor, never stuck on a
    /// record).
    pub fn pulled_feed(&self, site: SiteId) {
        self.touch(site, |h, now| h.last_pull_at = Some(now));
    }

    /// A page delivered, `head` its first record (none: nothing was waiting). Returns how many
    /// times in a row that head has now been delivered.
    pub fn pulled(&self, site: SiteId, head: Option<QueueHead>) -> u32 {
        let mut deliveries = 0;
        self.touch(site, |h, now| {
            h.last_pull_at = Some(now);
            match head {
                None => {
                    h.head = None;
                    h.head_deliveries = 0;
                }
                Some(head) => {
                    h.unacknowledged_since.get_or_insert(now);
                    if h.head.as_ref() == Some(&head) {
                        h.head_deliveries += 1;
                    } else {
                        h.head = Some(head);
                        h.head_deliveries = 1;
                    }
                }
            }
            deliveries = h.head_deliveries;
        });
        deliveries
    }

    /// An acknowledgement: the satellite integrated what it was given, so it is not stuck.
    pub fn acknowledged(&self, site: SiteId) {
        self.touch(site, |h, now| {
            h.last_ack_at = Some(now);
            h.unacknowledged_since = None;
            h.head = None;
            h.head_deliveries = 0;
        });
    }

    /// An operator skipped `sync_id` from the site's queue: if it was the head the site was
    /// stuck on, it is stuck no more.
    pub fn skipped(&self, site: SiteId, sync_id: &str) {
        self.touch(site, |h, _| {
            if h.head.as_ref().is_some_and(|head| head.sync_id == sync_id) {
                h.head = None;
                h.head_deliveries = 0;
            }
        });
    }

    /// Credentials that named this site but did not open it (a wrong password, another
    /// machine's hardware id).
    pub fn failed_login(&self, site: SiteId) {
        self.touch(site, |h, now| {
            h.failed_logins += 1;
            h.last_failed_login_at = Some(now);
            let window_open = h
                .failed_window_start
                .is_some_and(|start| now.saturating_sub(start) < FAILED_LOGIN_WINDOW_SECONDS);
            if window_open {
                h.recent_failed_logins += 1;
            } else {
                h.failed_window_start = Some(now);
                h.recent_failed_logins = 1;
            }
        });
    }

    /// One satellite's health (the default for one never seen).
    pub fn of(&self, site: SiteId) -> SiteHealth {
        self.sites.lock().get(&site).map(|(h, _)| h.clone()).unwrap_or_default()
    }

    /// Every satellite's health seen so far.
    pub fn all(&self) -> Vec<(SiteId, SiteHealth)> {
        self.sites
            .lock()
            .iter()
            .map(|(site, (h, _))| (*site, h.clone()))
            .collect()
    }

    /// How many satellites made a request within the last `seconds` (a failed login is not one):
    /// one pass over what is in memory, for the metrics.
    pub fn requested_within(&self, seconds: u64) -> u64 {
        let since = self.now().saturating_sub(seconds);
        let sites = self.sites.lock();
        sites
            .values()
            .filter(|(health, _)| health.last_request_at.is_some_and(|at| at >= since))
            .count() as u64
    }

    /// The sites changed since the last call, encoded, now counted as persisted.
    pub fn take_changed(&self) -> Vec<(SiteId, Vec<u8>)> {
        let mut sites = self.sites.lock();
        sites
            .iter_mut()
            .filter(|(_, (_, dirty))| *dirty)
            .map(|(site, (health, dirty))| {
                *dirty = false;
                (*site, health.encode())
            })
            .collect()
    }

    /// Forgets a removed site.
    pub fn forget(&self, site: SiteId) {
        self.sites.lock().remove(&site);
    }

    /// Reads "now" as `unix_seconds` from here on (tests of the time thresholds).
    pub fn freeze_clock(&self, unix_seconds: u64) {
        self.frozen_now.store(unix_seconds, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(id: &str) -> Option<QueueHead> {
        Some(QueueHead {
            sync_id: format!("S{id}"),
            table: "item".into(),
            record_id: id.into(),
        })
    }

    fn thresholds() -> Thresholds {
        Thresholds {
            stuck_deliveries: 3,
            silent_seconds: 100,
            acks_stopped_seconds: 50,
            failed_logins: 4,
        }
    }

    #[test]
    fn the_same_head_delivered_again_and_again_is_stuck_until_an_acknowledgement() {
        let health = Health::default();
        health.freeze_clock(1_000);
        let site = SiteId(2);
        assert_eq!(health.pulled(site, head("A")), 1);
        assert_eq!(health.pulled(site, head("A")), 2);
        assert!(health.of(site).flags(&thresholds(), 1, 1_000).is_empty());
        assert_eq!(health.pulled(site, head("A")), 3);
        let flags = health.of(site).flags(&thresholds(), 1, 1_000);
        assert_eq!(flags.len(), 1);
        assert!(matches!(&flags[0], Flag::Stuck { head: h, deliveries: 3 } if h.record_id == "A"));
        health.acknowledged(site);
        assert!(health.of(site).flags(&thresholds(), 1, 1_000).is_empty());
        // Skipping the head frees it too; skipping another record does not.
        for _ in 0..3 {
            health.pulled(site, head("A"));
        }
        health.skipped(site, "SB");
        assert_eq!(health.of(site).flags(&thresholds(), 1, 1_000).len(), 1);
        health.skipped(site, "SA");
        assert!(health.of(site).flags(&thresholds(), 1, 1_000).is_empty());
        // Another head starts its own count; an empty page clears it.
        health.pulled(site, head("B"));
        assert_eq!(health.pulled(site, head("C")), 1);
        assert_eq!(health.pulled(site, None), 0);
    }

    #[test]
    fn silence_stopped_acknowledgements_and_failed_logins_are_flagged_past_their_thresholds() {
        let health = Health::default();
        let site = SiteId(2);
        health.freeze_clock(1_000);
        health.request(site, Seen::default());
        health.pulled(site, head("A"));
        health.freeze_clock(1_040);
        health.pulled(site, head("B"));
        let h = health.of(site);
        assert!(h.flags(&thresholds(), 1, 1_040).is_empty());
        let kinds = |now| -> Vec<&str> { h.flags(&thresholds(), 1, now).iter().map(Flag::kind).collect() };
        assert_eq!(kinds(1_060), ["acks-stopped"]);
        assert_eq!(kinds(1_100), ["silent", "acks-stopped"]);
        assert!(
            h.flags(&thresholds(), 0, 1_060).is_empty(),
            "nothing waiting: nothing to acknowledge"
        );

        for _ in 0..3 {
            health.failed_login(site);
        }
        assert!(health.of(site).flags(&thresholds(), 0, 1_040).is_empty());
        health.failed_login(site);
        let flags = health.of(site).flags(&thresholds(), 0, 1_040);
        assert_eq!(flags, [Flag::FailingLogins { count: 4 }]);
        // An hour on, the window has closed (the site is silent by then).
        let later = health.of(site).flags(&thresholds(), 0, 1_040 + 3_600);
        assert!(later.iter().all(|flag| flag.kind() != "failing-logins"), "{later:?}");
        assert_eq!(health.of(site).failed_logins, 4);
    }

    #[test]
    fn sites_that_requested_within_the_window_are_counted_and_failed_logins_are_not() {
        let health = Health::default();
        health.freeze_clock(10_000);
        health.request(SiteId(2), Seen::default());
        health.freeze_clock(10_000 + 3_000);
        health.request(SiteId(3), Seen::default());
        health.failed_login(SiteId(4));
        assert_eq!(health.requested_within(3_600), 2);
        health.freeze_clock(10_000 + 3_601);
        assert_eq!(health.requested_within(3_600), 1, "site 2 is more than an hour ago");
        assert_eq!(health.requested_within(1), 0);
    }

    #[test]
    fn only_what_changed_is_persisted_and_it_reads_back() {
        let health = Health::default();
        health.pushed(SiteId(2));
        health.pushed(SiteId(3));
        let changed = health.take_changed();
        assert_eq!(changed.len(), 2);
        assert!(health.take_changed().is_empty(), "nothing changed since");
        health.acknowledged(SiteId(3));
        let changed = health.take_changed();
        assert_eq!(changed.len(), 1);
        let reloaded = Health::load(changed);
        assert_eq!(reloaded.of(SiteId(3)), health.of(SiteId(3)));
        assert_eq!(reloaded.of(SiteId(2)), SiteHealth::default(), "only what was given");
    }
}
