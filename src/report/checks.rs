//! Self-checks of a run, printed in the report and the terminal summary, never silent:
//! contradictions and figures recorded as 0 (each results file's own, through
//! [`WorkloadReport::checks`](super::WorkloadReport::checks)), verdicts and budgets decided
//! within their spread of a threshold ("borderline"), and noise (a busy machine, wide
//! run-to-run spreads).

use super::verdicts::{self, TableRow};
use super::{REGISTRY, Run};

/// A spread is wide when its largest round median exceeds its smallest by this factor.
pub const WIDE_SPREAD: f64 = 1.5;

/// How serious a check's finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// A figure or verdict to read with care.
    Warning,
    /// Stated for completeness (e.g. a cost recorded as 0).
    Note,
}

/// One finding of the self-checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Warning or note.
    pub severity: Severity,
    /// What was found, in words, with the figures.
    pub text: String,
}

impl Check {
    pub(crate) fn warning(text: impl Into<String>) -> Check {
        Check {
            severity: Severity::Warning,
            text: text.into(),
        }
    }

    pub(crate) fn note(text: impl Into<String>) -> Check {
        Check {
            severity: Severity::Note,
            text: text.into(),
        }
    }

    /// `**warning**: …` or `note: …`, as the report prints it.
    pub fn line(&self) -> String {
        match self.severity {
            Severity::Warning => format!("**warning**: {}", self.text),
            Severity::Note => format!("note: {}", self.text),
        }
    }
}

/// Every finding of the self-checks on `run`, warnings first: each results file's
/// findings, then the borderline verdicts (the table's rows, then each file's), then noise.
pub fn checks(run: &Run) -> Vec<Check> {
    let rows = verdicts::rows(run);
    let mut out: Vec<Check> = REGISTRY.iter().flat_map(|f| f.checks(run)).collect();
    borderline(&rows, &mut out);
    out.extend(REGISTRY.iter().flat_map(|f| f.borderline(run)));
    load(run, &mut out);
    spreads(run, &mut out);
    out.sort_by_key(|c| c.severity == Severity::Note);
    out
}

/// Verdicts decided within their spread of a threshold.
fn borderline(rows: &[TableRow], out: &mut Vec<Check>) {
    for row in rows {
        if let Some(why) = &row.judgement.borderline {
            out.push(Check::warning(format!(
                "row {} ({}) is borderline: {why}; a rerun may give another verdict than **{}**",
                row.number,
                row.name,
                row.judgement.verdict.label()
            )));
        }
    }
}

/// The figures a busy machine touches while `workload` runs.
fn touched(workload: &str) -> &'static str {
    REGISTRY
        .iter()
        .find(|f| f.name() == workload)
        .map_or("its figures", |f| f.touched())
}

/// A load average above the core count while a workload ran.
fn load(run: &Run, out: &mut Vec<Check>) {
    let cores = run.meta.cores as f64;
    for l in &run.meta.load {
        if l.load1_max > cores {
            out.push(Check::warning(format!(
                "noise: the 1-minute load average reached {:.2} on {} cores while {} ran \
                 ({:.2} at its start, {:.2} at its end): other work competed for the CPU; \
                 figures touched: {}",
                l.load1_max,
                run.meta.cores,
                l.workload,
                l.load1_start,
                l.load1_end,
                touched(&l.workload)
            )));
        }
    }
}

/// Figures whose round medians lie far apart, every file's in one warning.
fn spreads(run: &Run, out: &mut Vec<Check>) {
    let mut wide: Vec<String> = REGISTRY.iter().flat_map(|f| f.wide_spreads(run)).collect();
    if !wide.is_empty() {
        let n = wide.len();
        const SHOWN: usize = 8;
        let more = if n > SHOWN {
            format!(" and {} more (see the tables)", n - SHOWN)
        } else {
            String::new()
        };
        wide.truncate(SHOWN);
        out.push(Check::warning(format!(
            "noise: {n} figures have round medians more than ×{WIDE_SPREAD} apart, so a rerun may \
             move them: {}{more}",
            wide.join("; ")
        )));
    }
}
