//! What judging one record finds: the decisive outcome, taken in the order of the app's own decision
//! procedure (an earlier step decides, whatever later steps would have done), and every defect found
//! along the way, whether or not the app would notice it.

use crate::Outcome;

/// The steps of the app's decision procedure, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// The envelope: record type, sync type, `data` (steps 1 to 5).
    Envelope,
    /// The ID test and the sanity lists (steps 6 to 9).
    Sanity,
    /// The type-specific filters after the check (step 10).
    Filter,
    /// Writing the row (step 11).
    Write,
}

#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// The deciding step, its outcome, and whether the contract allows it (an allowed ignore).
    decision: Option<(Stage, Outcome, bool)>,
    defects: Vec<String>,
}

impl Findings {
    /// Records an outcome unless an earlier step (or an earlier finding of the same step) decided.
    fn decide(&mut self, stage: Stage, outcome: Outcome, allowed: bool) {
        if self.decision.as_ref().is_none_or(|(decided, _, _)| stage < *decided) {
            self.decision = Some((stage, outcome, allowed));
        }
    }

    /// A rule broken without changing what the app does.
    pub(crate) fn defect(&mut self, message: impl Into<String>) {
        self.defects.push(message.into());
    }

    /// An ignore the contract allows (another store's `store` record, ...): no defect.
    pub(crate) fn ignored_allowed(&mut self, stage: Stage, reason: impl Into<String>) {
        self.decide(stage, Outcome::Ignored(reason.into()), true);
    }

    /// An ignore that makes the record pointless or loses data: a defect too.
    pub(crate) fn ignored(&mut self, stage: Stage, reason: impl Into<String>) {
        let reason = reason.into();
        self.defect(reason.clone());
        self.decide(stage, Outcome::Ignored(reason), false);
    }

    pub(crate) fn dropped(&mut self, stage: Stage, reason: impl Into<String>) {
        let reason = reason.into();
        self.defect(reason.clone());
        self.decide(stage, Outcome::Dropped(reason), false);
    }

    pub(crate) fn crashed(&mut self, stage: Stage, reason: impl Into<String>) {
        let reason = reason.into();
        self.defect(reason.clone());
        self.decide(stage, Outcome::Crash(reason), false);
    }

    /// Whether an ignore the contract allows decided: the record's fields are then not read at all.
    pub(crate) fn allowed_ignore(&self) -> bool {
        matches!(self.decision, Some((_, _, true)))
    }

    pub(crate) fn finish(self) -> (Outcome, Vec<String>) {
        let outcome = self.decision.map_or(Outcome::Integrated, |(_, outcome, _)| outcome);
        (outcome, self.defects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_step_decides_and_every_defect_is_kept() {
        let mut findings = Findings::default();
        findings.crashed(Stage::Write, "doses blank");
        findings.dropped(Stage::Sanity, "code blank");
        findings.ignored(Stage::Filter, "another store");
        findings.dropped(Stage::Sanity, "item_name blank");
        let (outcome, defects) = findings.finish();
        assert_eq!(outcome, Outcome::Dropped("code blank".to_string()));
        assert_eq!(defects.len(), 4);
    }

    #[test]
    fn an_allowed_ignore_leaves_no_defect() {
        let mut findings = Findings::default();
        findings.ignored_allowed(Stage::Filter, "the store record of another store");
        assert!(findings.allowed_ignore());
        let (outcome, defects) = findings.finish();
        assert!(matches!(outcome, Outcome::Ignored(_)) && defects.is_empty());
    }
}
