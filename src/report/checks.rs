//! Self-checks of a run, printed in the report and the terminal summary, never silent:
//!
//! - a JWT breakdown whose parts exceed their whole (a warning: the stages and the whole
//!   should add up);
//! - an added cost whose per-round spread reaches zero: "no measurable cost (within ±x)",
//!   recorded as 0 (a note);
//! - a verdict or a budget whose deciding ratio lies within its spread of the threshold:
//!   "borderline", with the spread (a warning: a rerun may give the other outcome);
//! - noise: a load average above the core count while a workload ran, or a wide run-to-run
//!   spread (largest round median over the smallest above [`WIDE_SPREAD`]), naming the
//!   figures it touches.

use super::Run;
use super::verdicts::{self, TableRow};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::measure::rounds::Spread;
use crate::results::schema::revoke::AddedCost;
use crate::results::schema::validate::{Operation, ValidateResults};
use crate::scheme::spec::SchemeId;
use crate::units;

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
    fn warning(text: impl Into<String>) -> Check {
        Check {
            severity: Severity::Warning,
            text: text.into(),
        }
    }

    fn note(text: impl Into<String>) -> Check {
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

/// Every finding of the self-checks on `run`, warnings first.
pub fn checks(run: &Run) -> Vec<Check> {
    let rows = verdicts::rows(run);
    let mut out = Vec::new();
    if let Some(v) = &run.validate {
        breakdown(v, &mut out);
    }
    added_costs(run, &mut out);
    borderline(run, &rows, &mut out);
    load(run, &mut out);
    spreads(run, &mut out);
    out.sort_by_key(|c| c.severity == Severity::Note);
    out
}

/// The stages of a JWT validate the breakdown measures.
pub const PARTS: [Operation; 3] = [
    Operation::JwtHeaderDecode,
    Operation::JwtClaimsDecode,
    Operation::JwtSignatureCheck,
];

/// A breakdown part of (scheme, backend), typical claims, paired with its whole: the median
/// of its per-round shares of the whole validate (each round's part median over that round's
/// whole median), and that share of the whole's median in ns. Rounds disturb parts and whole
/// alike within a round, not across rounds, so the paired share is the figure to compare with
/// the whole. The part's own median when the rows have no rounds.
pub fn paired_part(
    v: &ValidateResults,
    scheme: SchemeId,
    b: Option<CryptoBackend>,
    op: Operation,
) -> Option<(f64, Option<Spread>)> {
    let t = ClaimSet::Typical;
    let part = v.find(scheme, op, t, b)?;
    let whole = v.find(scheme, Operation::Validate, t, b)?;
    let share = match (&part.measurement.rounds, &whole.measurement.rounds) {
        (Some(p), Some(w)) if p.wall_ns.len() == w.wall_ns.len() => {
            let shares: Vec<f64> = p
                .wall_ns
                .iter()
                .zip(&w.wall_ns)
                .filter(|(_, y)| **y > 0.0)
                .map(|(x, y)| x / y)
                .collect();
            Spread::of(&shares)
        }
        _ => None,
    };
    Some(match share {
        Some(s) => (s.median * whole.measurement.median(), Some(s)),
        None => (part.measurement.median(), None),
    })
}

/// Per round, whether the breakdown parts of (scheme, backend), typical claims, sum to more
/// than the whole validate; `None` without rounds for every row.
pub fn sum_above_per_round(
    v: &ValidateResults,
    scheme: SchemeId,
    b: Option<CryptoBackend>,
) -> Option<Vec<bool>> {
    let t = ClaimSet::Typical;
    let w = &v
        .find(scheme, Operation::Validate, t, b)?
        .measurement
        .rounds
        .as_ref()?
        .wall_ns;
    let per: Vec<&Vec<f64>> = PARTS
        .iter()
        .map(|op| {
            Some(
                &v.find(scheme, *op, t, b)?
                    .measurement
                    .rounds
                    .as_ref()?
                    .wall_ns,
            )
        })
        .collect::<Option<_>>()?;
    per.iter().all(|p| p.len() == w.len()).then(|| {
        (0..w.len())
            .map(|i| per.iter().map(|p| p[i]).sum::<f64>() > w[i])
            .collect()
    })
}

/// Parts of a JWT breakdown above their whole.
fn breakdown(v: &ValidateResults, out: &mut Vec<Check>) {
    let t = ClaimSet::Typical;
    for sig in v
        .rows
        .iter()
        .filter(|r| r.operation == Operation::JwtSignatureCheck && r.claims == t)
    {
        let (scheme, b) = (sig.scheme, sig.backend);
        let Some(whole) = v.find(scheme, Operation::Validate, t, b) else {
            continue;
        };
        let whole_ns = whole.measurement.median();
        let parts: Vec<(Operation, f64, Option<Spread>)> = PARTS
            .iter()
            .filter_map(|op| paired_part(v, scheme, b, *op).map(|(ns, s)| (*op, ns, s)))
            .collect();
        let sum: f64 = parts.iter().map(|p| p.1).sum();
        let name = verdicts::with_backend(whole);
        for (op, ns, share) in &parts {
            if *ns <= whole_ns {
                continue;
            }
            let text = format!(
                "breakdown of {name}: the part {} ({}, paired with its whole per round) is above \
                 its whole validate ({})",
                op.name(),
                units::ns(*ns),
                units::ns(whole_ns)
            );
            // Above the whole in every round is a contradiction; in most rounds but not all,
            // the two lie within each other's run-to-run spread.
            match share {
                Some(s) if s.lo <= 1.0 => out.push(Check::note(format!(
                    "{text}, within the run-to-run spread: per-round shares of the whole from \
                     {} to {}",
                    units::percent(s.lo),
                    units::percent(s.hi)
                ))),
                _ => out.push(Check::warning(format!(
                    "{text} in every round; the parts were measured in the same rounds as the \
                     whole, so the part does work the whole skips"
                ))),
            }
        }
        if parts.len() == PARTS.len() && sum > whole_ns && parts.iter().all(|p| p.1 <= whole_ns) {
            // Above the whole in every round: a contradiction. In some rounds only: within
            // the run-to-run spread, said as a note.
            let rounds = sum_above_per_round(v, scheme, b);
            let text = format!(
                "breakdown of {name}: its parts sum to {}, above its whole validate ({})",
                units::ns(sum),
                units::ns(whole_ns)
            );
            match rounds {
                Some(r) if !r.iter().all(|x| *x) => out.push(Check::note(format!(
                    "{text}, within the run-to-run spread: the parts sum to no more than the \
                     whole in {} of {} rounds",
                    r.iter().filter(|x| !**x).count(),
                    r.len()
                ))),
                _ => out.push(Check::warning(text)),
            }
        }
    }
}

/// Added costs recorded as 0 because their spread reaches zero.
fn added_costs(run: &Run, out: &mut Vec<Check>) {
    let Some(r) = &run.revoke else { return };
    for s in &r.strategies {
        if let AddedCost::Unmeasurable { within } = s.added() {
            out.push(Check::note(format!(
                "revoke {}: no measurable cost per request (within ±{} of {}), recorded as 0",
                s.strategy,
                units::ns(within),
                s.strategy.baseline()
            )));
        }
    }
}

/// Verdicts and budgets decided within their spread of a threshold.
fn borderline(run: &Run, rows: &[TableRow], out: &mut Vec<Check>) {
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
    if let Some(v) = &run.validate {
        for b in &v.budget_checks {
            if let (Some(lo), Some(hi)) = (b.ratio_lo, b.ratio_hi)
                && verdicts::straddles(lo, hi, b.limit)
            {
                out.push(Check::warning(format!(
                    "budget {} is borderline: {:.3} (rounds {lo:.3}–{hi:.3}) against the limit {}",
                    b.name, b.ratio, b.limit
                )));
            }
        }
    }
}

/// The figures a busy machine touches while `workload` runs.
fn touched(workload: &str) -> &'static str {
    match workload {
        "validate" => "the validate medians, the budgets and rows 2 (CPU) and 6 (Expiry)",
        "revoke" => "the revocation latencies and added costs (row 5)",
        "scale" => {
            "the throughput and latency under load (row 3); scale's own threads count in this load"
        }
        "size" => "nothing timed (sizes are counted), only the memory figures' allocator timing",
        "http" => "the HTTP latencies and rates",
        _ => "its figures",
    }
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

/// Figures whose round medians lie far apart.
fn spreads(run: &Run, out: &mut Vec<Check>) {
    let mut wide: Vec<String> = Vec::new();
    if let Some(v) = &run.validate {
        for r in &v.rows {
            if let Some(s) = r.measurement.spread()
                && s.width() > WIDE_SPREAD
            {
                wide.push(format!(
                    "validate {} {} {} ({}–{}, ×{:.2})",
                    verdicts::with_backend(r),
                    r.operation.name(),
                    r.claims.name(),
                    units::ns(s.lo),
                    units::ns(s.hi),
                    s.width()
                ));
            }
        }
    }
    if let Some(rv) = &run.revoke {
        for s in &rv.strategies {
            if let Some(sp) = s.validate_cost.spread()
                && sp.width() > WIDE_SPREAD
            {
                wide.push(format!(
                    "revoke {} validate cost ({}–{}, ×{:.2})",
                    s.strategy,
                    units::ns(sp.lo),
                    units::ns(sp.hi),
                    sp.width()
                ));
            }
        }
    }
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
