//! mSupply Mobile's judgement of what the simulated satellites receive over v3: every batch a
//! judged satellite acknowledges goes through the app's rules (`mobile-validator`, written from
//! the app's contract), and the scenario reports how many records the app would take. A record
//! it would not take fails the scenario like a lost one. Judging costs the harness CPU, which
//! the primary shares, so by default one draining satellite in `every` is judged (the first
//! always).

use std::sync::{Arc, Mutex};

use mobile_validator::{Client, Device, Report, Session};
use satsync::admin::dataset::{store_id, store_name_id};

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
    /// Judges the first draining satellite and every `every`-th after it, over v3 (`every` 0:
    /// none).
    pub fn new(api: Api, every: usize) -> Judging {
        Judging {
            api,
            every,
            totals: Mutex::default(),
        }
    }

    /// A session for satellite `number` when it is judged (the `rank`-th of the scenario's
    /// draining satellites): `fresh` after an initial dump (the device starts empty), otherwise a
    /// device that holds its store's settings already.
    pub fn session(&self, number: usize, rank: usize, fresh: bool) -> Option<Session> {
        if self.api != Api::V3 || self.every == 0 || !rank.is_multiple_of(self.every) {
            return None;
        }
        let device = Device::new(Client::Head, store_id(number), store_name_id(number));
        Some(if fresh {
            Session::new(device)
        } else {
            Session::resumed(device)
        })
    }

    /// Adds what one satellite's session judged.
    pub fn add(&self, report: &Report) {
        let mut totals = self.totals.lock().expect("judging lock");
        totals.satellites += 1;
        totals.records += report.records as u64;
        totals.accepted += report.passed as u64;
        for failure in &report.failures {
            if totals.examples.len() < EXAMPLES {
                totals.examples.push(format!(
                    "{} {}: {}: {}",
                    failure.table, failure.record_id, failure.outcome, failure.reason
                ));
            }
        }
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
