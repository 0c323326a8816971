//! Totals over a session: records per outcome and per table, the first few failures, and what a
//! device that started empty still lacks, with a compact human summary.

use std::collections::BTreeMap;
use std::fmt;

use crate::session::BatchVerdict;
use crate::state::DeviceState;
use crate::{Client, Device, Outcome};

/// How many failures a report keeps as examples.
const EXAMPLES: usize = 10;

/// Totals so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub batches: usize,
    pub rolled_back: usize,
    pub records: usize,
    /// Records a correct primary may send (`Verdict::passes`).
    pub passed: usize,
    pub integrated: usize,
    pub ignored: usize,
    pub dropped: usize,
    pub crashed: usize,
    /// Records with at least one defect, whatever their outcome.
    pub defective: usize,
    pub tables: BTreeMap<String, TableTally>,
    /// The first failures, in the order they were judged.
    pub failures: Vec<Failure>,
    /// What a device that started empty in this session never received although the app needs it.
    pub missing: Vec<String>,
}

/// Totals for one `RecordType`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableTally {
    pub records: usize,
    pub passed: usize,
}

/// One record that does not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub table: String,
    pub record_id: String,
    /// The outcome's name: integrated, ignored, dropped or crash.
    pub outcome: String,
    pub reason: String,
}

impl Report {
    pub(crate) fn add(&mut self, batch: &BatchVerdict) {
        self.batches += 1;
        self.rolled_back += usize::from(batch.rolled_back);
        for verdict in &batch.records {
            self.records += 1;
            match verdict.outcome {
                Outcome::Integrated => self.integrated += 1,
                Outcome::Ignored(_) => self.ignored += 1,
                Outcome::Dropped(_) => self.dropped += 1,
                Outcome::Crash(_) => self.crashed += 1,
            }
            self.defective += usize::from(!verdict.defects.is_empty());
            let tally = self.tables.entry(verdict.table.clone()).or_default();
            tally.records += 1;
            if verdict.passes() {
                self.passed += 1;
                tally.passed += 1;
            } else if self.failures.len() < EXAMPLES {
                self.failures.push(Failure {
                    table: verdict.table.clone(),
                    record_id: verdict.record_id.clone(),
                    outcome: verdict.outcome.name().to_string(),
                    reason: verdict.reason().unwrap_or_default().to_string(),
                });
            }
        }
    }

    /// Lists what the app needs that a fresh device has not received.
    pub(crate) fn note_missing(&mut self, device: &Device, state: &DeviceState) {
        if device.client == Client::Head && !state.own_store_record {
            self.missing
                .push(format!("the device's own store record {}", device.store_id));
        }
        if !state.own_name {
            self.missing.push(format!(
                "the device's own name {} (the app looks it up for its master lists)",
                device.name_id
            ));
        }
        if !state.invad_name {
            self.missing
                .push("a name of type invad (inventory adjustments need one)".to_string());
        }
    }

    /// True when every record judged passes.
    pub fn all_passed(&self) -> bool {
        self.passed == self.records
    }
}

/// `4812` as `4,812`.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    format!("{} {word}{}", grouped(n), if n == 1 { "" } else { "es" })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} records accepted ({} integrated, {} ignored, {} dropped, {} crashed) in {}, {} rolled back",
            grouped(self.passed),
            grouped(self.records),
            grouped(self.integrated),
            grouped(self.ignored),
            grouped(self.dropped),
            grouped(self.crashed),
            plural(self.batches, "batch"),
            grouped(self.rolled_back),
        )?;
        let failing: Vec<String> = self
            .tables
            .iter()
            .filter(|(_, tally)| tally.passed < tally.records)
            .map(|(table, tally)| {
                format!(
                    "{table} {} of {}",
                    grouped(tally.records - tally.passed),
                    grouped(tally.records)
                )
            })
            .collect();
        if !failing.is_empty() {
            write!(f, "\nfailing: {}", failing.join(", "))?;
        }
        for failure in &self.failures {
            write!(
                f,
                "\n  {} {} ({}): {}",
                failure.table, failure.record_id, failure.outcome, failure.reason
            )?;
        }
        if !self.missing.is_empty() {
            write!(f, "\nnot delivered: {}", self.missing.join("; "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn verdict(outcome: Outcome, defects: &[&str]) -> Verdict {
        let defects = defects.iter().map(|d| d.to_string()).collect();
        Verdict {
            table: "item".into(),
            record_id: "I1".into(),
            outcome,
            defects,
        }
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(4812), "4,812");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(12), "12");
    }

    #[test]
    fn totals_count_outcomes_tables_and_failures() {
        let mut report = Report::default();
        let records = vec![
            verdict(Outcome::Integrated, &[]),
            verdict(Outcome::Dropped("code blank".into()), &["code blank"]),
        ];
        report.add(&BatchVerdict {
            records,
            rolled_back: false,
            culprit: None,
        });
        assert_eq!(
            (report.records, report.passed, report.integrated, report.dropped),
            (2, 1, 1, 1)
        );
        assert_eq!(report.tables["item"], TableTally { records: 2, passed: 1 });
        assert_eq!(report.failures[0].reason, "code blank");
        let summary = report.to_string();
        assert!(summary.starts_with("1 of 2 records accepted") && summary.contains("1 batch, 0 rolled back"));
        assert!(summary.contains("item I1 (dropped): code blank"));
    }
}
