//! Totals over a session: records per outcome and per table, the stream defects, the first failures
//! as one-line verdicts, what is still buffered, and what the site still lacks, printable.

use std::collections::BTreeMap;
use std::fmt;

use crate::{Outcome, Verdict};

/// How many failures (verdicts and stream defects each) a report keeps as examples.
const EXAMPLES: usize = 20;

/// Totals so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Calls of `integrate`.
    pub syncs: usize,
    /// Integration steps a panic rolled back (their records are judged again at the next one).
    pub aborted_syncs: usize,
    pub records: usize,
    /// Records a correct primary may send (`Verdict::passes`).
    pub passed: usize,
    pub integrated: usize,
    pub ignored: usize,
    pub rejected: usize,
    pub aborts: usize,
    pub tables: BTreeMap<String, TableTally>,
    /// The first failing verdicts, one line each.
    pub examples: Vec<String>,
    /// Envelope and stream-order defects found while receiving.
    pub stream_defects: usize,
    pub stream_examples: Vec<String>,
    /// Records received and not yet integrated.
    pub buffered: usize,
    /// What the site still lacks (`Session::missing_prerequisites`); not counted as failures.
    pub missing: Vec<String>,
}

/// Totals for one `tableName`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableTally {
    pub records: usize,
    pub passed: usize,
}

impl Report {
    pub(crate) fn add_sync(&mut self, verdicts: &[Verdict], aborted: bool) {
        self.syncs += 1;
        self.aborted_syncs += usize::from(aborted);
        for verdict in verdicts {
            self.records += 1;
            match verdict.outcome {
                Outcome::Integrated => self.integrated += 1,
                Outcome::Ignored(_) => self.ignored += 1,
                Outcome::Rejected(_) => self.rejected += 1,
                Outcome::Aborts(_) => self.aborts += 1,
            }
            let tally = self.tables.entry(verdict.table.clone()).or_default();
            tally.records += 1;
            if verdict.passes() {
                self.passed += 1;
                tally.passed += 1;
            } else if self.examples.len() < EXAMPLES {
                self.examples.push(verdict.to_string());
            }
        }
    }

    pub(crate) fn add_stream_defects(&mut self, defects: &[String]) {
        self.stream_defects += defects.len();
        let room = EXAMPLES.saturating_sub(self.stream_examples.len());
        self.stream_examples.extend(defects.iter().take(room).cloned());
    }

    /// Records that do not pass, plus stream defects.
    pub fn failures(&self) -> usize {
        self.records - self.passed + self.stream_defects
    }

    /// True when every record judged passes and the stream broke no rule. Missing prerequisites are
    /// listed, not counted: a partial stream may lack them legitimately.
    pub fn passes(&self) -> bool {
        self.failures() == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} records pass ({} integrated, {} ignored, {} rejected, {} aborting) over {} syncs ({} aborted); {} stream defects",
            self.passed,
            self.records,
            self.integrated,
            self.ignored,
            self.rejected,
            self.aborts,
            self.syncs,
            self.aborted_syncs,
            self.stream_defects,
        )?;
        if self.buffered > 0 {
            write!(f, "; {} records buffered, not integrated", self.buffered)?;
        }
        let failing: Vec<String> = self
            .tables
            .iter()
            .filter(|(_, tally)| tally.passed < tally.records)
            .map(|(table, tally)| format!("{table} {} of {}", tally.records - tally.passed, tally.records))
            .collect();
        if !failing.is_empty() {
            write!(f, "\nfailing: {}", failing.join(", "))?;
        }
        for example in &self.examples {
            write!(f, "\n  {example}")?;
        }
        for defect in &self.stream_examples {
            write!(f, "\n  stream: {defect}")?;
        }
        for missing in &self.missing {
            write!(f, "\n  missing: {missing}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(outcome: Outcome, defects: &[&str]) -> Verdict {
        Verdict {
            table: "item".into(),
            record_id: "I1".into(),
            action: "Insert".into(),
            outcome,
            defects: defects.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn totals_count_outcomes_tables_failures_and_stream_defects() {
        let mut report = Report::default();
        let rejected = Outcome::Rejected("doses: expected an i32 integer, got 1.0".into());
        report.add_sync(
            &[
                verdict(Outcome::Integrated, &[]),
                verdict(rejected, &["doses: expected an i32 integer, got 1.0"]),
            ],
            false,
        );
        report.add_stream_defects(&["trans_line L: received before its transact".to_string()]);
        assert_eq!((report.records, report.passed, report.rejected), (2, 1, 1));
        assert_eq!(report.tables["item"], TableTally { records: 2, passed: 1 });
        assert_eq!(report.failures(), 2);
        assert!(!report.passes());
        let text = report.to_string();
        assert!(text.starts_with("1 of 2 records pass"), "{text}");
        assert!(text.contains("item I1: rejected: doses"), "{text}");
        assert!(text.contains("stream: trans_line L"), "{text}");
    }
}
