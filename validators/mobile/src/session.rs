//! A device receiving pull batches over one or more syncs. The app integrates a batch record by record
//! in one database transaction and acknowledges every record of it, unless one record throws: then the
//! whole batch is rolled back and comes back on every later sync. The session mirrors that: a batch
//! works on a copy of what the device holds, kept only if nothing crashed.

use std::collections::HashSet;

use serde_json::Value;

use crate::report::Report;
use crate::state::DeviceState;
use crate::{judge, Device, Outcome, Verdict};

/// The judgement of one pull batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchVerdict {
    /// One verdict per record, in order. Records after a crash are judged as if it had not happened,
    /// so that every defect of the batch shows at once.
    pub records: Vec<Verdict>,
    /// A record crashed: the app undid the batch, acknowledged nothing, and will pull it again.
    pub rolled_back: bool,
    /// The index of the first crashing record.
    pub culprit: Option<usize>,
}

impl BatchVerdict {
    /// True when every record passes (and so nothing was rolled back).
    pub fn passes(&self) -> bool {
        self.records.iter().all(Verdict::passes)
    }

    /// The records that do not pass.
    pub fn failures(&self) -> impl Iterator<Item = &Verdict> {
        self.records.iter().filter(|verdict| !verdict.passes())
    }
}

/// A device receiving batches over one or more syncs: keeps what judging later records needs (own
/// store record received before, headers integrated or ignored, batch IDs received, transfers numbered).
#[derive(Clone, Debug)]
pub struct Session {
    device: Device,
    state: DeviceState,
    report: Report,
    /// The device started empty in this session, so whatever it never received it does not have.
    fresh: bool,
}

impl Session {
    /// A device on its first sync: it holds nothing yet.
    pub fn new(device: Device) -> Session {
        Session {
            device,
            state: DeviceState::default(),
            report: Report::default(),
            fresh: true,
        }
    }

    /// A device initialised in an earlier session: it already has its own store record, so a later
    /// store record without `tags` or `code` keeps the earlier values instead of crashing.
    pub fn resumed(device: Device) -> Session {
        let state = DeviceState {
            own_store_record: true,
            ..DeviceState::default()
        };
        Session {
            device,
            state,
            report: Report::default(),
            fresh: false,
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Judges one pull batch (the JSON array a `queued_records` GET returned, as parsed values) the way
    /// the app integrates it: record by record in one transaction. A crash anywhere rolls the batch
    /// back, and the session then keeps none of the batch's changes to what the device holds.
    pub fn judge_batch(&mut self, batch: &[Value]) -> BatchVerdict {
        let mut working = self.state.clone();
        let mut sync_ids = HashSet::new();
        let records: Vec<Verdict> = batch
            .iter()
            .map(|record| judge::judge(&self.device, &mut working, record, &mut sync_ids))
            .collect();
        let culprit = records
            .iter()
            .position(|verdict| matches!(verdict.outcome, Outcome::Crash(_)));
        if culprit.is_none() {
            self.state = working;
        }
        let verdict = BatchVerdict {
            records,
            rolled_back: culprit.is_some(),
            culprit,
        };
        self.report.add(&verdict);
        verdict
    }

    /// Judges a pull answer as received: it must be a JSON array of objects.
    pub fn judge_answer(&mut self, answer: &Value) -> Result<BatchVerdict, String> {
        match answer {
            Value::Array(batch) => Ok(self.judge_batch(batch)),
            _ => Err("the pull answer is not a json array".to_string()),
        }
    }

    /// Totals so far: per outcome, per table, with the first few failures, and what a fresh device
    /// still lacks.
    pub fn report(&self) -> Report {
        let mut report = self.report.clone();
        if self.fresh {
            report.note_missing(&self.device, &self.state);
        }
        report
    }
}
