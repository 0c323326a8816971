//! A clean-room validator of the sync-v5 records a primary sends to an open-mSupply remote site.
//!
//! For every record a site pulls (from `central_records` or `queued_records`) it decides what the
//! remote's translators would do with it — integrate it, ignore it, reject it (marked integrated with
//! an error and never retried), or panic and abort the whole integration step — and lists every rule
//! of the record contract the record breaks, whether or not the remote would notice.
//!
//! Its only source is the fact sheet `shared/spec/v5-records.md`; it knows nothing of open-mSupply's
//! code or of any server's own field catalogue, so that a server checked with it cannot merely agree
//! with itself. It reads no file at run time: the contract is Rust data and code.
//!
//! # Layout
//!
//! - `contract.rs` — the shape of the contract: a field (key, presence, kind) and a table.
//! - `kinds.rs` — the value kinds of §2 (plain types and the custom deserialisers) and what each accepts.
//! - `dates.rs` — dates, datetimes, zero dates and the Unix-seconds range chrono accepts.
//! - `enums.rs` — the closed value lists of the legacy enums and the code's known-value lists.
//! - `tables.rs`, `tables_remote.rs`, `tables_features.rs` — the per-table field lists of §3: central
//!   tables, store-owned tables, and the small tables of §3.32 (logs, cold chain, purchasing, ...).
//! - `fields.rs` — reads a `recordData` object against a field list (presence, then kind).
//! - `envelope.rs` — one pull element: `ID`/`syncOutId`, `tableName`, `recordId`, `action`, `recordData`.
//! - `order.rs` — the dependency order of integration and the header/line pairs.
//! - `stream.rs` — the rules over everything received: unique `recordId`s, headers before lines.
//! - `foreign_keys.rs` — the required foreign keys, as data, and their check.
//! - `state.rs` — what the remote database holds after what it has integrated.
//! - `judge.rs` — one buffered record: action support, deserialisation, then the table's rules.
//! - `semantics.rs` — the per-table rules dispatcher and the rules of the central tables.
//! - `programs.rs` — `list_master`: the inactive pitfall and the program settings.
//! - `invoices.rs` — `transact`, `trans_line` and `Goods_received`.
//! - `remote_rules.rs` — requisitions, stocktakes and the cold-chain records that can panic.
//! - `ownership.rs` — which stores the site owns, and own records echoed back to it.
//! - `actions.rs` — deletes and merges.
//! - `prerequisites.rs` — what the site still lacks (§4.2, §7 item 11).
//! - `session.rs` — a site over several syncs: receiving pages, the sync buffer, integration.
//! - `report.rs` — totals and the first failures.
//!
//! # What it does not see
//!
//! Only the `data` arrays of pull pages: not the `/site` answer (the caller gives `Site`), not
//! `maxCursor`/`queueLength`, acknowledgements, pushes, `site_status` or the v6 stubs.
//!
//! # Invariants
//!
//! - Field facts live only in `tables*.rs`; value acceptance only in `kinds.rs`/`dates.rs`.
//! - An outcome other than `Integrated` or an allowed `Ignored` always comes with a defect.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used)]

mod actions;
mod contract;
mod dates;
mod enums;
mod envelope;
mod fields;
mod foreign_keys;
mod invoices;
mod judge;
mod kinds;
mod order;
mod ownership;
mod prerequisites;
mod programs;
mod remote_rules;
mod report;
mod semantics;
mod session;
mod state;
mod stream;
mod tables;
mod tables_features;
mod tables_remote;

use std::fmt;

pub use report::{Report, TableTally};
pub use session::Session;

/// The remote site as `/sync/v5/site` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// `siteId`: a store is active on the site when its `sync_id_remote_site` equals this.
    pub site_id: i32,
    /// The store IDs the site hosts.
    pub own_stores: Vec<String>,
}

/// The pull endpoint a page came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `central_records`: each element has an integer `ID` (the change-log cursor).
    Central,
    /// `queued_records`: each element has a string `syncOutId`.
    Queued,
}

/// What the remote does with one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Integrated,
    /// The translator says Ignored, or no translator takes the table or action. Allowed unless a
    /// defect says the primary must not cause it.
    Ignored(String),
    /// A deserialisation error or a hard check: marked integrated with an error, never retried.
    Rejected(String),
    /// A panic: the whole integration step rolls back and fails again on every later sync.
    Aborts(String),
}

impl Outcome {
    /// The outcome's name, for tallies and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Integrated => "integrated",
            Outcome::Ignored(_) => "ignored",
            Outcome::Rejected(_) => "rejected",
            Outcome::Aborts(_) => "aborts",
        }
    }

    /// Why the record was not integrated, if it was not.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Integrated => None,
            Outcome::Ignored(reason) | Outcome::Rejected(reason) | Outcome::Aborts(reason) => Some(reason),
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

/// The judgement of one buffered record: what the remote does, and every rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// `tableName` as sent.
    pub table: String,
    /// `recordId` as sent.
    pub record_id: String,
    /// `action` as sent.
    pub action: String,
    pub outcome: Outcome,
    pub defects: Vec<String>,
}

impl Verdict {
    /// True when the record is one a correct primary may send: integrated, or ignored for a reason
    /// the contract allows, and no defects. Every ignore the contract does not allow carries a defect.
    pub fn passes(&self) -> bool {
        matches!(self.outcome, Outcome::Integrated | Outcome::Ignored(_)) && self.defects.is_empty()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_prints_on_one_line_without_repeating_its_reason() {
        let verdict = Verdict {
            table: "unit".into(),
            record_id: "U1".into(),
            action: "Insert".into(),
            outcome: Outcome::Rejected("order_number: expected an i32 integer, got 1.0".into()),
            defects: vec![
                "order_number: expected an i32 integer, got 1.0".into(),
                "comment: missing (required)".into(),
            ],
        };
        assert_eq!(
            verdict.to_string(),
            "unit U1: rejected: order_number: expected an i32 integer, got 1.0; comment: missing (required)"
        );
        assert!(!verdict.passes());
        assert_eq!(verdict.outcome.name(), "rejected");
    }

    #[test]
    fn an_allowed_ignore_passes() {
        let verdict = Verdict {
            table: "report".into(),
            record_id: "R1".into(),
            action: "Update".into(),
            outcome: Outcome::Ignored("no translator".into()),
            defects: vec![],
        };
        assert!(verdict.passes());
        assert_eq!(verdict.to_string(), "report R1: ignored: no translator");
    }
}
