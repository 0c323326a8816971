//! What the primary did over the last hour, a minute at a time: records pushed, delivered and
//! acknowledged, and the writer's groups with their commit latency. Counters in memory (an atomic
//! add per request), for the dashboard's charts; nothing is persisted.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Minutes kept.
pub const MINUTES: usize = 60;

/// One minute's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Minute {
    /// Minutes since the epoch.
    pub minute: u64,
    pub pushed: u64,
    pub delivered: u64,
    pub acknowledged: u64,
    pub groups: u64,
    /// Sum and maximum of the groups' commit times, in microseconds.
    pub commit_micros: u64,
    pub commit_max_micros: u64,
}

/// The last hour, one slot per minute, reused as the clock goes round.
#[derive(Debug, Default)]
pub struct Activity {
    slots: Mutex<Vec<Minute>>,
    /// Totals since start.
    pushed: AtomicU64,
    delivered: AtomicU64,
    acknowledged: AtomicU64,
}

fn minute_now() -> u64 {
    super::dump_progress::unix_seconds_now() / 60
}

impl Activity {
    fn add(&self, change: impl FnOnce(&mut Minute)) {
        let minute = minute_now();
        let mut slots = self.slots.lock();
        if slots.len() < MINUTES {
            slots.resize(MINUTES, Minute::default());
        }
        let slot = &mut slots[(minute % MINUTES as u64) as usize];
        if slot.minute != minute {
            *slot = Minute {
                minute,
                ..Minute::default()
            };
        }
        change(slot);
    }

    pub fn pushed(&self, records: u64) {
        self.pushed.fetch_add(records, Ordering::Relaxed);
        self.add(|m| m.pushed += records);
    }

    pub fn delivered(&self, records: u64) {
        self.delivered.fetch_add(records, Ordering::Relaxed);
        self.add(|m| m.delivered += records);
    }

    pub fn acknowledged(&self, records: u64) {
        self.acknowledged.fetch_add(records, Ordering::Relaxed);
        self.add(|m| m.acknowledged += records);
    }

    /// A group the writer committed, in `micros`.
    pub fn committed(&self, micros: u64) {
        self.add(|m| {
            m.groups += 1;
            m.commit_micros += micros;
            m.commit_max_micros = m.commit_max_micros.max(micros);
        });
    }

    /// The last hour, oldest first, one entry per minute (zero for a quiet one).
    pub fn last_hour(&self) -> Vec<Minute> {
        let now = minute_now();
        let slots = self.slots.lock();
        (now + 1 - MINUTES as u64..=now)
            .map(|minute| {
                slots
                    .get((minute % MINUTES as u64) as usize)
                    .filter(|slot| slot.minute == minute)
                    .copied()
                    .unwrap_or(Minute {
                        minute,
                        ..Minute::default()
                    })
            })
            .collect()
    }

    /// Records pushed, delivered and acknowledged since the primary started.
    pub fn totals(&self) -> (u64, u64, u64) {
        (
            self.pushed.load(Ordering::Relaxed),
            self.delivered.load(Ordering::Relaxed),
            self.acknowledged.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_hour_has_a_minute_each_and_this_minute_holds_what_was_counted() {
        let activity = Activity::default();
        activity.pushed(5);
        activity.delivered(7);
        activity.acknowledged(3);
        activity.committed(100);
        activity.committed(300);
        let hour = activity.last_hour();
        assert_eq!(hour.len(), MINUTES);
        assert!(hour.windows(2).all(|w| w[1].minute == w[0].minute + 1));
        let now = hour.last().unwrap();
        // The minute may have turned between the counts and the read: then the counts are in
        // the one before.
        let counted = if now.pushed == 5 { now } else { &hour[MINUTES - 2] };
        assert_eq!((counted.pushed, counted.delivered, counted.acknowledged), (5, 7, 3));
        assert_eq!(
            (counted.groups, counted.commit_micros, counted.commit_max_micros),
            (2, 400, 300)
        );
        assert_eq!(activity.totals(), (5, 7, 3));
    }
}
