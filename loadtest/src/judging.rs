//! The real clients' judgement of what the simulated satellites receive: over v3 every batch a
//! judged satellite acknowledges goes through mSupply Mobile's rules (`mobile-validator`), over
//! v5 every page an initialising satellite receives goes through open-mSupply's translators
//! (`v5-validator`, integrated when the drain ends), each written from that client's contract.
//! The scenario reports how many records the client would take; a record it would not take fails
//! the scenario like a lost one. Judging costs the harness CPU, which the primary shares, so by
//! default one draining satellite in `every` is judged (the first always).

use std::sync::{Arc, Mutex};

use mobile_validator::{Client, Device};
use satsync::admin::dataset::{site_id, store_id, store_name_id};

use crate::formats::Api;
use crate::scenarios::Outcome;

/// Which satellite a drain judges for, and how: what [`crate::scenarios::DrainOptions`] carries.
#[derive(Clone)]
pub struct JudgeAs {
    pub judging: Arc<Judging>,
    /// Its place among the scenario's draining satellites.
    pub rank: usize,
    /// The device starts empty (the drain follows an initial dump).
    pub fresh: bool,
}

/// A judged satellite's client session.
pub enum Judge {
    /// mSupply Mobile, fed each acknowledged batch in the v2 shape.
    Mobile(Box<mobile_validator::Session>),
    /// open-mSupply, fed each page as received and integrating when the drain ends.
    V5(Box<v5_validator::Session>),
}

impl Judge {
    /// Judges one pull reply: the v2-shaped body for mSupply Mobile, the body as served for
    /// open-mSupply (central pages come in the queued shape, see `formats::central_as_queued`).
    pub fn judge(&mut self, v2_body: &[u8], served: &[u8]) -> anyhow::Result<()> {
        match self {
            Judge::Mobile(session) => {
                let batch: Vec<serde_json::Value> = serde_json::from_slice(v2_body)?;
                session.judge_batch(&batch);
            }
            Judge::V5(session) => {
                let page: serde_json::Value = serde_json::from_slice(served)?;
                let data = page["data"].as_array().cloned().unwrap_or_default();
                session.receive(v5_validator::Endpoint::Queued, &data);
            }
        }
        Ok(())
    }
}

/// How many examples of refused records a report keeps.
const EXAMPLES: usize = 5;

pub struct Judging {
    api: Api,
    every: usize,
    totals: Mutex<Totals>,
}

#[derive(Default)]
struct Totals {
    satellites: u64,
    records: u64,
    accepted: u64,
    examples: Vec<String>,
}

impl Judging {
    /// Judges the first draining satellite and every `every`-th after it, over v3 and v5
    /// (`every` 0: none).
    pub fn new(api: Api, every: usize) -> Judging {
        Judging {
            api,
            every,
            totals: Mutex::default(),
        }
    }

    /// A session for satellite `number` when it is judged (the `rank`-th of the scenario's
    /// draining satellites): over v3 `fresh` after an initial dump (the device starts empty),
    /// otherwise a device that holds its store's settings already; over v5 only `fresh` (what a
    /// remote integrates depends on everything it holds, which a resumed one never received).
    pub fn session(&self, number: usize, rank: usize, fresh: bool) -> Option<Judge> {
        if self.every == 0 || !rank.is_multiple_of(self.every) {
            return None;
        }
        match self.api {
            Api::V3 => {
                let device = Device::new(Client::Head, store_id(number), store_name_id(number));
                Some(Judge::Mobile(Box::new(if fresh {
                    mobile_validator::Session::new(device)
                } else {
                    mobile_validator::Session::resumed(device)
                })))
            }
            Api::V5 if fresh => Some(Judge::V5(Box::new(v5_validator::Session::new(v5_validator::Site {
                site_id: site_id(number).0 as i32,
                own_stores: vec![store_id(number)],
            })))),
            Api::V5 | Api::V1 => None,
        }
    }

    /// Adds what one satellite's session judged.
    pub fn add(&self, judge: Judge) {
        let mut totals = self.totals.lock().expect("judging lock");
        totals.satellites += 1;
        let mut examples = Vec::new();
        match judge {
            Judge::Mobile(session) => {
                let report = session.report();
                totals.records += report.records as u64;
                totals.accepted += report.passed as u64;
                for failure in &report.failures {
                    examples.push(format!(
                        "{} {}: {}: {}",
                        failure.table, failure.record_id, failure.outcome, failure.reason
                    ));
                }
            }
            Judge::V5(mut session) => {
                session.integrate();
                let report = session.report();
                totals.records += report.records as u64;
                // Page defects (order, reused ids) and what the site lacks count as refusals.
                let refused = report.failures() + session.missing_prerequisites().len();
                totals.accepted += report.records.saturating_sub(refused) as u64;
                examples.extend(report.examples.iter().cloned());
                examples.extend(report.stream_examples.iter().cloned());
                examples.extend(session.missing_prerequisites());
            }
        }
        let room = EXAMPLES.saturating_sub(totals.examples.len());
        totals.examples.extend(examples.into_iter().take(room));
    }

    /// The figures of the report, and a failure if the app would refuse any record.
    pub fn conclude(&self, outcome: &mut Outcome) {
        let totals = self.totals.lock().expect("judging lock");
        if totals.satellites == 0 {
            return;
        }
        outcome.figure("validator_satellites_judged", totals.satellites);
        outcome.figure("validator_records_judged", totals.records);
        outcome.figure("validator_records_accepted", totals.accepted);
        if totals.accepted < totals.records {
            outcome.failures.push(format!(
                "mSupply Mobile would not take {} of the {} records judged: {}",
                totals.records - totals.accepted,
                totals.records,
                totals.examples.join("; ")
            ));
        }
    }
}
