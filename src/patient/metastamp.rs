//! The metastamp kept per (patient, source): what the source says it holds (source, domain and
//! event stamp times), what the primary has stored of it (the stamp of the record stored per uid),
//! the source's error, and since when it has been complete.
//!
//! Stamps accumulate: a source may send its metastamp in parts and newer versions at any time, so a
//! merge keeps the latest stamp of every event, domain and the source, and an older stamp never
//! lowers a kept one (a late, out-of-order message must not undo a newer one).

use std::collections::BTreeMap;

use super::completion;
use super::ids::SourcePid;
use super::stamp::StampTime;
use super::{Source, SyncError};

/// A metastamp as a source sends it: the source's stamp time and, per domain, what it holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Metastamp {
    pub stamp_time: StampTime,
    /// Per domain name (`allergy`, `med`, … any name).
    pub domains: BTreeMap<String, DomainStamps>,
}

/// One domain of a metastamp: its stamp time and its events (record uid → the event's stamp time).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DomainStamps {
    /// Absent until the source sends one; a domain without it is not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp_time: Option<StampTime>,
    #[serde(default)]
    pub events: BTreeMap<String, StampTime>,
}

impl DomainStamps {
    /// Keeps the latest domain stamp and the latest stamp of every event; events only the kept
    /// side knows stay, since a source may send its metastamp in parts.
    fn accumulate(&mut self, newer: &DomainStamps) {
        self.stamp_time = self.stamp_time.max(newer.stamp_time);
        for (uid, &stamp) in &newer.events {
            let kept = self.events.entry(uid.clone()).or_insert(stamp);
            *kept = (*kept).max(stamp);
        }
    }
}

/// Everything kept for one patient at one source. Changed only through the methods below, each of
/// which keeps `sync_complete_as_of` true to the completion rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceSyncState {
    pid: SourcePid,
    /// The source's stamp time; absent until its first metastamp arrives.
    stamp_time: Option<StampTime>,
    domains: BTreeMap<String, DomainStamps>,
    /// Per record uid, the stamp time of the record actually stored. Kept apart from the events:
    /// a record may arrive before the metastamp that lists it.
    stored: BTreeMap<String, StampTime>,
    error: Option<SyncError>,
    /// When the source last became complete; absent while it is not.
    sync_complete_as_of: Option<StampTime>,
    /// The source's stamp time the last time it was complete, kept while it is incomplete again
    /// (`/data-status` shows it). Absent from states kept before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_complete_stamp: Option<StampTime>,
}

impl SourceSyncState {
    /// A source the patient has, that has sent nothing yet.
    pub fn new(pid: SourcePid) -> SourceSyncState {
        SourceSyncState {
            pid,
            stamp_time: None,
            domains: BTreeMap::new(),
            stored: BTreeMap::new(),
            error: None,
            sync_complete_as_of: None,
            last_complete_stamp: None,
        }
    }

    /// The patient's identifier at this source.
    pub fn pid(&self) -> &SourcePid {
        &self.pid
    }

    pub fn source(&self) -> Source {
        self.pid.source()
    }

    /// The source's latest stamp time; `None` when no metastamp has arrived.
    pub fn stamp_time(&self) -> Option<StampTime> {
        self.stamp_time
    }

    pub fn has_metastamp(&self) -> bool {
        self.stamp_time.is_some()
    }

    pub fn domains(&self) -> &BTreeMap<String, DomainStamps> {
        &self.domains
    }

    /// The stamp time of the record stored for `uid`, if one is.
    pub fn stored_stamp(&self, uid: &str) -> Option<StampTime> {
        self.stored.get(uid).copied()
    }

    pub fn error(&self) -> Option<&SyncError> {
        self.error.as_ref()
    }

    /// When the source became complete; `None` while it is not.
    pub fn sync_complete_as_of(&self) -> Option<StampTime> {
        self.sync_complete_as_of
    }

    /// The stamp time of the latest metastamp the source was complete at: its current one while
    /// it is complete, the one before while a newer stamp or an error makes it incomplete; `None`
    /// if it never was complete.
    pub fn completed_stamp_time(&self) -> Option<StampTime> {
        if self.sync_complete_as_of.is_some() {
            self.stamp_time
        } else {
            self.last_complete_stamp
        }
    }

    /// Merges a metastamp the source sent, keeping the latest stamp of everything.
    pub fn merge(&mut self, metastamp: &Metastamp, now: StampTime) {
        self.stamp_time = self.stamp_time.max(Some(metastamp.stamp_time));
        for (domain, stamps) in &metastamp.domains {
            self.domains.entry(domain.clone()).or_default().accumulate(stamps);
        }
        self.refresh_completion(now);
    }

    /// Records that the record stored for `uid` now carries `stamp`. The caller passes the stamp
    /// of what it actually wrote: the event counts as stored only if it equals the latest stamp.
    pub fn record_stored(&mut self, uid: &str, stamp: StampTime, now: StampTime) {
        self.stored.insert(uid.to_string(), stamp);
        self.refresh_completion(now);
    }

    /// Records an error of the source (a failed fetch, a time-out); the source is not complete
    /// until it is cleared, which the sync layer does when it asks the source again.
    pub fn record_error(&mut self, error: SyncError, now: StampTime) {
        self.error = Some(error);
        self.refresh_completion(now);
    }

    pub fn clear_error(&mut self, now: StampTime) {
        self.error = None;
        self.refresh_completion(now);
    }

    /// Keeps the first time of the current complete spell, and forgets it once the source is
    /// incomplete again (a newer stamp arrived, or an error).
    fn refresh_completion(&mut self, now: StampTime) {
        if completion::is_source_complete(self) {
            self.sync_complete_as_of.get_or_insert(now);
            self.last_complete_stamp = self.stamp_time;
        } else {
            self.sync_complete_as_of = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(number: u64) -> StampTime {
        StampTime::from_number(number).unwrap()
    }

    fn metastamp(source_stamp: u64, domain: &str, domain_stamp: u64, events: &[(&str, u64)]) -> Metastamp {
        let events = events
            .iter()
            .map(|(uid, event)| (uid.to_string(), stamp(*event)))
            .collect();
        let stamps = DomainStamps {
            stamp_time: Some(stamp(domain_stamp)),
            events,
        };
        Metastamp {
            stamp_time: stamp(source_stamp),
            domains: BTreeMap::from([(domain.to_string(), stamps)]),
        }
    }

    fn new_state() -> SourceSyncState {
        SourceSyncState::new(SourcePid::parse("9E7A;3").unwrap())
    }

    const UID: &str = "urn:va:allergy:9E7A:3:751";
    const OTHER_UID: &str = "urn:va:allergy:9E7A:3:752";

    #[test]
    fn merges_keep_the_latest_stamp_of_everything_and_every_event() {
        let mut state = new_state();
        let now = stamp(20160706120000);
        state.merge(
            &metastamp(20160706094004, "allergy", 20160706094004, &[(UID, 20050317200936)]),
            now,
        );
        // Older in every stamp, plus one event the first part did not list.
        let older = metastamp(
            20160101000000,
            "allergy",
            20160101000000,
            &[(UID, 20040101000000), (OTHER_UID, 20050101000000)],
        );
        state.merge(&older, now);
        assert_eq!(state.stamp_time(), Some(stamp(20160706094004)));
        let allergy = &state.domains()["allergy"];
        assert_eq!(allergy.stamp_time, Some(stamp(20160706094004)));
        assert_eq!(allergy.events[UID], stamp(20050317200936));
        assert_eq!(allergy.events[OTHER_UID], stamp(20050101000000));

        state.merge(
            &metastamp(20160707000000, "allergy", 20160707000000, &[(UID, 20160707000000)]),
            now,
        );
        assert_eq!(state.domains()["allergy"].events[UID], stamp(20160707000000));
        assert_eq!(state.stamp_time(), Some(stamp(20160707000000)));
    }

    #[test]
    fn a_domain_without_a_stamp_never_loses_a_kept_one() {
        let mut state = new_state();
        let now = stamp(20160706120000);
        state.merge(&metastamp(20160706094004, "vital", 20160706094004, &[]), now);
        let unstamped = DomainStamps {
            stamp_time: None,
            events: BTreeMap::new(),
        };
        let part = Metastamp {
            stamp_time: stamp(20160706094004),
            domains: BTreeMap::from([("vital".to_string(), unstamped)]),
        };
        state.merge(&part, now);
        assert_eq!(state.domains()["vital"].stamp_time, Some(stamp(20160706094004)));
    }

    #[test]
    fn sync_complete_as_of_is_the_start_of_the_current_complete_spell() {
        let mut state = new_state();
        state.merge(
            &metastamp(20160706094004, "allergy", 20160706094004, &[(UID, 20050317200936)]),
            stamp(20160706094100),
        );
        assert_eq!(state.sync_complete_as_of(), None);
        assert_eq!(state.completed_stamp_time(), None, "never complete yet");
        state.record_stored(UID, stamp(20050317200936), stamp(20160706094511));
        assert_eq!(state.sync_complete_as_of(), Some(stamp(20160706094511)));
        // Staying complete keeps the time it became complete.
        state.merge(
            &metastamp(20160706094004, "allergy", 20160706094004, &[]),
            stamp(20160706100000),
        );
        assert_eq!(state.sync_complete_as_of(), Some(stamp(20160706094511)));
        // A newer version of the record makes it incomplete until that version is stored.
        state.merge(
            &metastamp(20160707000000, "allergy", 20160707000000, &[(UID, 20160707000000)]),
            stamp(20160707000100),
        );
        assert_eq!(state.sync_complete_as_of(), None);
        assert_eq!(
            state.completed_stamp_time(),
            Some(stamp(20160706094004)),
            "the stamp it was last complete at"
        );
        state.record_stored(UID, stamp(20160707000000), stamp(20160707000200));
        assert_eq!(state.sync_complete_as_of(), Some(stamp(20160707000200)));
        assert_eq!(state.completed_stamp_time(), Some(stamp(20160707000000)));
        state.record_error(SyncError::new("timeout", "no answer"), stamp(20160707000300));
        assert_eq!(state.sync_complete_as_of(), None);
        state.clear_error(stamp(20160707000400));
        assert_eq!(state.sync_complete_as_of(), Some(stamp(20160707000400)));
    }

    #[test]
    fn the_state_round_trips_through_serde_for_storage() {
        let mut state = new_state();
        state.merge(
            &metastamp(20160706094004, "allergy", 20160706094004, &[(UID, 20050317200936)]),
            stamp(20160706094100),
        );
        state.record_stored(UID, stamp(20050317200936), stamp(20160706094511));
        state.record_stored(OTHER_UID, stamp(20050317200936), stamp(20160706094511));
        state.record_error(SyncError::new("fetch", "connection refused"), stamp(20160706094600));
        let bytes = serde_json::to_vec(&state).unwrap();
        assert_eq!(serde_json::from_slice::<SourceSyncState>(&bytes).unwrap(), state);
    }

    #[test]
    fn a_complete_state_kept_before_the_last_complete_stamp_existed_reads_its_stamp() {
        let mut state = new_state();
        state.merge(
            &metastamp(20160706094004, "vital", 20160706094004, &[]),
            stamp(20160706094100),
        );
        let mut kept = serde_json::to_value(&state).unwrap();
        kept.as_object_mut().unwrap().remove("last_complete_stamp").unwrap();
        let read: SourceSyncState = serde_json::from_value(kept).unwrap();
        assert_eq!(read.completed_stamp_time(), Some(stamp(20160706094004)));
    }
}
