//! Stage records: when each stage started and ended, and how.

use img_crd::{Stage, StageOutcome, StageRecord};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

fn now() -> Time {
    Time(jiff::Timestamp::now())
}

/// The stages of one run, as they happen.
#[derive(Debug, Default, Clone)]
pub struct Stages {
    records: Vec<StageRecord>,
}

impl Stages {
    /// Starts `stage`.
    pub fn start(&mut self, stage: Stage) {
        self.records.push(StageRecord {
            name: stage,
            started_at: Some(now()),
            finished_at: None,
            outcome: None,
            message: None,
        });
    }

    /// Ends the current stage with `outcome`.
    pub fn end(&mut self, outcome: StageOutcome, message: Option<String>) {
        if let Some(r) = self.records.last_mut().filter(|r| r.outcome.is_none()) {
            r.finished_at = Some(now());
            r.outcome = Some(outcome);
            r.message = message;
        }
    }

    /// Records `stage` as skipped.
    pub fn skip(&mut self, stage: Stage, why: &str) {
        self.start(stage);
        self.end(StageOutcome::Skipped, Some(why.to_owned()));
    }

    /// Fails the stage in progress, if any.
    pub fn fail_current(&mut self, message: &str) {
        self.end(StageOutcome::Failed, Some(message.to_owned()));
    }

    /// Seconds each finished stage took, for the log's summary.
    pub fn durations(&self) -> Vec<(Stage, f64)> {
        self.records
            .iter()
            .filter_map(|r| {
                let (Some(a), Some(b)) = (&r.started_at, &r.finished_at) else {
                    return None;
                };
                Some((r.name, b.0.duration_since(a.0).as_secs_f64()))
            })
            .collect()
    }

    /// The records.
    pub fn into_records(self) -> Vec<StageRecord> {
        self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_record_their_outcomes_in_order() {
        let mut s = Stages::default();
        s.start(Stage::Clone);
        s.end(StageOutcome::Succeeded, None);
        s.skip(Stage::Kickstarter, "a plain kickstart");
        s.start(Stage::Build);
        s.fail_current("mic exited with status 1");
        s.fail_current("ignored: nothing in progress");
        let r = s.clone().into_records();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].outcome, Some(StageOutcome::Skipped));
        assert_eq!(r[2].message.as_deref(), Some("mic exited with status 1"));
        assert_eq!(s.durations().len(), 3);
    }
}
