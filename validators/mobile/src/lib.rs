//! A clean-room validator of the sync records a primary sends to the mSupply Mobile app.
//!
//! For every record of a pull batch it decides what the real app would do with it — integrate it,
//! ignore it, drop it in its sanity check (acknowledged and lost), or throw while writing it (the
//! whole batch rolled back and re-sent for ever) — and lists every rule of the app's record contract
//! the record breaks, whether or not the app would notice. It judges both app generations: the
//! current app (`Client::Head`, v8.7.4, `/sync/v3/`) and the 2017 app (`Client::V2017`, v1.2.0,
//! `/sync/v2/`).
//!
//! The crate owns the contract as data and rules: the per-type tables (`tables.rs`, `v2017.rs`), the
//! value rules of the app's parsers (`parsers.rs`, `dates.rs`), the steps of its decision procedure
//! (`envelope.rs`, `sanity.rs`, `filters.rs`, `fields.rs`, `rules.rs`, `documents.rs`), what judging
//! later records needs to remember (`state.rs`, `headers.rs`, `transfers.rs`), batches (`session.rs`)
//! and totals (`report.rs`). It knows nothing of any server's own field catalogue, so that a server
//! checked with it cannot merely agree with itself.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used)]

mod dates;
mod documents;
mod envelope;
mod fields;
mod filters;
mod findings;
mod headers;
mod judge;
mod parsers;
mod report;
mod rules;
mod sanity;
mod session;
mod state;
mod tables;
mod transfers;
mod v2017;

use std::fmt;

pub use report::{Failure, Report, TableTally};
pub use session::{BatchVerdict, Session};

/// Which app generation is judging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Client {
    /// mSupply Mobile v8.7.4, `/sync/v3/`.
    Head,
    /// mSupply Mobile v1.2.0 (August 2017), `/sync/v2/`.
    V2017,
}

/// The device: its client generation and the ids the `/site` answer gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub client: Client,
    /// The `StoreID` of the `/site` answer: "the device's store" in every store rule, compared exactly.
    pub store_id: String,
    /// The `NameID` of the `/site` answer: the store's own name.
    pub name_id: String,
}

impl Device {
    pub fn new(client: Client, store_id: impl Into<String>, name_id: impl Into<String>) -> Device {
        Device {
            client,
            store_id: store_id.into(),
            name_id: name_id.into(),
        }
    }
}

/// What the app does with one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Integrated,
    /// Acknowledged, nothing written; the string says why (another store's transaction, ...).
    Ignored(String),
    /// Rejected by the sanity check: acknowledged and lost.
    Dropped(String),
    /// Integrating it throws: the whole batch is rolled back and comes back for ever.
    Crash(String),
}

impl Outcome {
    /// The outcome's name, for tallies and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Integrated => "integrated",
            Outcome::Ignored(_) => "ignored",
            Outcome::Dropped(_) => "dropped",
            Outcome::Crash(_) => "crash",
        }
    }

    /// Why the app did not integrate the record, if it did not.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Integrated => None,
            Outcome::Ignored(reason) | Outcome::Dropped(reason) | Outcome::Crash(reason) => Some(reason),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            Some(reason) => write!(f, "{}: {}", self.name(), reason),
            None => f.write_str(self.name()),
        }
    }
}

/// The judgement of one record: what the app does, and every rule of the contract it breaks, whether
/// or not the app notices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The `RecordType` as sent ("" when it is missing or not a string).
    pub table: String,
    /// `data.ID`, else `RecordID`, as sent ("" when neither is there).
    pub record_id: String,
    pub outcome: Outcome,
    pub defects: Vec<String>,
}

impl Verdict {
    /// True when the record is one a correct primary may send: integrated, or ignored for a reason the
    /// contract allows (the store record of another store, a `number` record on HEAD, a pref whose item
    /// is not store_preferences, a merge of a type the app does not merge, ...), and no defects. Every
    /// ignore the contract does not allow carries a defect.
    pub fn passes(&self) -> bool {
        matches!(self.outcome, Outcome::Integrated | Outcome::Ignored(_)) && self.defects.is_empty()
    }

    /// The first thing wrong with the record, for one-line reports: what stopped the app from
    /// integrating it, else the first defect.
    pub fn reason(&self) -> Option<&str> {
        let stopped = match &self.outcome {
            Outcome::Dropped(reason) | Outcome::Crash(reason) => Some(reason.as_str()),
            Outcome::Ignored(reason) if self.defects.contains(reason) => Some(reason.as_str()),
            _ => None,
        };
        stopped.or_else(|| self.defects.first().map(String::as_str))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.table, self.record_id, self.outcome)?;
        // The outcome's reason is usually a defect too; print it once.
        for defect in self
            .defects
            .iter()
            .filter(|defect| Some(defect.as_str()) != self.outcome.reason())
        {
            write!(f, "; {defect}")?;
        }
        Ok(())
    }
}
