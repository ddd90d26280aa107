//! The seed article's comparison table, rebuilt from a run: one file per row ([`ROWS`],
//! in the article's order), each with the article's claim, its thresholds (constants, so
//! the rule text and the code cannot disagree), its rule in words, its cell per scheme
//! column and its judgement. A row whose files the run lacks is [`Verdict::NotMeasured`],
//! never a guess. This file holds what the rows share.

pub mod bandwidth;
pub mod cpu;
pub mod cross_domain;
pub mod expiry;
pub mod hybrid;
pub mod privacy;
pub mod revocation;
pub mod scalability;

use super::{REGISTRY, Run};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::results::schema::size::{SizeResults, SizeRow};
use crate::results::schema::validate::{Operation, ValidateResults, ValidateRow};
use crate::scheme::spec::{SchemeId, StoreKind};

/// One row of the article's table, described: what the article claims, how a run fills the row
/// in and how it is judged.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// 1..=7, the row's place in the article's table.
    pub number: usize,
    /// Row name, as in the article.
    pub name: &'static str,
    /// The article's claim, in our words.
    pub claim: &'static str,
    /// The rule deciding the verdict, in words, with the thresholds the code uses.
    pub rule: fn() -> String,
    /// The figures of one scheme column, `None` where the run has none.
    pub cell: fn(&Run, SchemeId) -> Option<String>,
    /// The verdict, from the results of the run.
    pub judge: fn(&Run) -> Judgement,
}

/// The seven rows, in the article's order.
pub const ROWS: [Row; 7] = [
    bandwidth::ROW,
    cpu::ROW,
    scalability::ROW,
    privacy::ROW,
    revocation::ROW,
    expiry::ROW,
    cross_domain::ROW,
];

/// One row of the table, as a run fills it in.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// 1..=7.
    pub number: usize,
    /// Row name, as in the article.
    pub name: &'static str,
    /// The article's claim, in our words.
    pub claim: &'static str,
    /// Figures per column of [`columns`], `not measured` where the run has none.
    pub cells: Vec<String>,
    /// The rule deciding the verdict.
    pub rule: String,
    /// The results files its figures come from (registry names, in registry order): the
    /// files whose [`WorkloadReport::ROWS`](crate::report::WorkloadReport::ROWS) name it.
    pub evidence: Vec<&'static str>,
    /// The verdict and what decided it.
    pub judgement: Judgement,
}

/// The outcome of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The measurements agree with the article's claim.
    Confirmed,
    /// The claim holds in part, or under conditions the measurements make visible.
    Nuanced,
    /// The measurements disagree with the claim.
    Contradicted,
    /// The run lacks the figures the rule needs.
    NotMeasured,
}

impl Verdict {
    /// As printed in the report.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::Nuanced => "nuanced",
            Verdict::Contradicted => "contradicted",
            Verdict::NotMeasured => "not measured in this run",
        }
    }
}

/// A verdict and the figures that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// The deciding figures, in words.
    pub because: String,
    /// Set when a deciding ratio lies within its run-to-run spread of a threshold: which
    /// ratio, its spread and the threshold. A rerun could give the other verdict.
    pub borderline: Option<String>,
}

impl Judgement {
    fn new(verdict: Verdict, because: impl Into<String>) -> Judgement {
        Judgement {
            verdict,
            because: because.into(),
            borderline: None,
        }
    }

    /// This judgement, marked borderline for the reasons given (none: unchanged).
    fn borderline(mut self, reasons: Vec<String>) -> Judgement {
        if !reasons.is_empty() {
            self.borderline = Some(reasons.join("; "));
        }
        self
    }

    fn missing(what: impl Into<String>) -> Judgement {
        Judgement::new(Verdict::NotMeasured, what)
    }
}

/// The embedded session store, the CPU row's session baseline when measured.
pub const SESSION_MEMORY: SchemeId = SchemeId::Session(StoreKind::Memory);

const NOT_MEASURED: &str = "not measured";

/// How the report names every token that carries its claims (a JWT, and any other format
/// whose [`Capabilities::carries_claims`](crate::scheme::spec::Capabilities) holds),
/// against a session's opaque reference to server-side state.
pub const SELF_CONTAINED: &str = "self-contained";

/// The scheme columns: the main session store (session-memory when measured), then every
/// scheme whose token carries its claims, in [`SchemeId::order`].
pub fn columns(run: &Run) -> Vec<SchemeId> {
    let mut all: Vec<SchemeId> = Vec::new();
    let mut push = |n: SchemeId| {
        if !all.contains(&n) {
            all.push(n);
        }
    };
    REGISTRY
        .iter()
        .flat_map(|f| f.schemes(run))
        .for_each(&mut push);
    let session = all
        .iter()
        .find(|n| **n == SESSION_MEMORY)
        .or_else(|| all.iter().find(|n| n.capabilities().store_lookup))
        .copied();
    let mut carrying: Vec<SchemeId> = all
        .iter()
        .filter(|n| n.capabilities().carries_claims)
        .copied()
        .collect();
    carrying.sort_by_key(|n| n.order());
    session.into_iter().chain(carrying).collect()
}

/// The crypto backend figures are quoted for (schemes measured per backend): the run's
/// main backend.
pub(crate) fn main_backend(run: &Run) -> Option<CryptoBackend> {
    run.meta.crypto_backend.parse().ok()
}

/// The validate-workload row of `scheme` for `op`, typical claims, on the main backend
/// (any backend when the main one was not measured, none for a scheme not measured per
/// backend).
fn validate_row(run: &Run, scheme: SchemeId, op: Operation) -> Option<&ValidateRow> {
    let v = run.get::<ValidateResults>()?;
    let candidates = || {
        v.rows.iter().filter(move |r| {
            r.scheme == scheme && r.operation == op && r.claims == ClaimSet::Typical
        })
    };
    candidates()
        .find(|r| r.backend.is_none() || r.backend == main_backend(run))
        .or_else(|| candidates().next())
}

fn per_claim_set(run: &Run, scheme: SchemeId, f: fn(&SizeRow) -> usize) -> Option<String> {
    let s = run.get::<SizeResults>()?;
    let v: Vec<String> = ClaimSet::ALL
        .iter()
        .filter_map(|set| {
            s.rows
                .iter()
                .find(|r| r.scheme == scheme && r.claims == *set)
                .map(|r| f(r).to_string())
        })
        .collect();
    (!v.is_empty()).then(|| labelled_triple(&v, " B"))
}

/// Figures per claim set with their unit, labelled with the sets they stand for:
/// `34 / 34 / 34 B (minimal / typical / large)`.
pub(crate) fn labelled_triple(v: &[String], unit: &str) -> String {
    let sets: Vec<&str> = ClaimSet::ALL.iter().map(|s| s.name()).collect();
    if v.len() == sets.len() {
        format!("{}{unit} ({})", v.join(" / "), sets.join(" / "))
    } else {
        format!("{}{unit}", v.join(" / "))
    }
}

/// Whether `threshold` lies within `[lo, hi]`: a verdict decided by that ratio could flip on a
/// rerun.
pub(crate) fn straddles(lo: f64, hi: f64, threshold: f64) -> bool {
    lo <= threshold && threshold <= hi
}

/// The rows of `size.json` of tokens that carry their claims and of session tokens, or,
/// when the run lacks either, the judgement saying so.
fn families(
    size: Option<&SizeResults>,
) -> Result<(&SizeResults, Vec<&SizeRow>, Vec<&SizeRow>), Judgement> {
    let Some(s) = size else {
        return Err(Judgement::missing("size.json is not in this run"));
    };
    let carrying: Vec<_> = s
        .rows
        .iter()
        .filter(|r| r.scheme.capabilities().carries_claims)
        .collect();
    let sessions: Vec<_> = s
        .rows
        .iter()
        .filter(|r| r.scheme.capabilities().store_lookup)
        .collect();
    if carrying.is_empty() || sessions.is_empty() {
        return Err(Judgement::missing(format!(
            "size.json lacks sessions or {SELF_CONTAINED} tokens"
        )));
    }
    Ok((s, carrying, sessions))
}

fn join(parts: &[String]) -> String {
    parts.join("; ")
}

/// True when a row's operations all succeeded. A row with failed operations (refused while
/// Redis was down: fail closed) timed refusals as well as lookups, so no verdict uses it.
fn clean(r: &ValidateRow) -> bool {
    r.errors == 0
}

/// `"; left out for failed operations: …"` naming the rows `relevant` selects that had
/// failures, or nothing when none had.
fn failed_rows(v: &ValidateResults, relevant: impl Fn(&ValidateRow) -> bool) -> String {
    let failed: Vec<String> = v
        .rows
        .iter()
        .filter(|r| relevant(r) && !clean(r))
        .map(|r| {
            format!(
                "{} {} ({} failed)",
                with_backend(r),
                r.operation.name(),
                r.errors
            )
        })
        .collect();
    if failed.is_empty() {
        String::new()
    } else {
        format!("; left out for failed operations: {}", join(&failed))
    }
}

fn median(r: &ValidateRow) -> f64 {
    r.measurement.median()
}

/// `scheme backend`, or the scheme alone when the row has no backend.
pub(crate) fn with_backend(r: &ValidateRow) -> String {
    match r.backend {
        Some(b) => format!("{} {b}", r.scheme),
        None => r.scheme.to_string(),
    }
}

/// The seven rows, with cells for [`columns`].
pub fn rows(run: &Run) -> Vec<TableRow> {
    let cols = columns(run);
    ROWS.iter()
        .map(|row| TableRow {
            number: row.number,
            name: row.name,
            claim: row.claim,
            cells: cols
                .iter()
                .map(|c| (row.cell)(run, *c).unwrap_or_else(|| NOT_MEASURED.to_owned()))
                .collect(),
            rule: (row.rule)(),
            evidence: REGISTRY
                .iter()
                .filter(|f| f.rows().contains(&row.number))
                .map(|f| f.name())
                .collect(),
            judgement: (row.judge)(run),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_in_order_with_a_rule_each() {
        for (i, row) in ROWS.iter().enumerate() {
            assert_eq!(row.number, i + 1, "{}", row.name);
            assert!(!(row.rule)().is_empty(), "{}", row.name);
        }
    }
}
