//! The highest rate that meets a p99 objective: steps the offered rate up geometrically
//! from a start rate until a step fails (p99 above the objective, errors above the allowed
//! share, the generator lagging, or answers falling short of the offer), then bisects
//! between the last passing and the first failing rate. Every loop is bounded.

use serde::{Deserialize, Serialize};

use super::{Generator, LoadError};
use crate::results::schema::http::StepResult;
pub use crate::results::schema::http::{Limit, SearchParams, SearchStep};

/// The outcome of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The p99 objective, ns.
    pub p99_objective_ns: f64,
    /// Every step, in order.
    pub steps: Vec<SearchStep>,
    /// The highest passing rate; `None` when even the lowest rate tried failed.
    pub max_rate: Option<f64>,
    /// What bounded it.
    pub limited_by: Limit,
}

/// Whether `s` meets the objective of `p`. A step where the generator lagged still passes
/// when it meets the objective (lag only adds latency, so the server did at least as
/// well); one that misses it is inconclusive, and the search reports
/// [`Limit::Generator`] when it stops on such a step.
pub fn passes(s: &StepResult, p: &SearchParams) -> bool {
    s.requests > 0
        && s.latency.p99_ns <= p.p99_objective.as_nanos() as f64
        && s.error_rate() <= p.max_error_rate
        && s.achieved_rate >= 0.9 * s.offered_rate
}

/// Searches the highest rate meeting `p` (at most 40 steps).
pub fn search(
    g: &mut Generator,
    p: &SearchParams,
    mut on_step: impl FnMut(&SearchStep),
) -> Result<SearchResult, LoadError> {
    let mut steps = Vec::new();
    // A failing step where the pacer lagged is run once more (the lag is often a
    // neighbour's burst on a shared machine); both are kept.
    let mut run = |g: &mut Generator,
                   rate: f64,
                   steps: &mut Vec<SearchStep>|
     -> Result<(bool, bool), LoadError> {
        let mut last = (false, false);
        for _ in 0..2 {
            let step = g.run_step(rate, p.warmup, p.window)?;
            let pass = passes(&step, p);
            let valid = step.valid;
            let s = SearchStep { step, pass };
            on_step(&s);
            steps.push(s);
            last = (pass, valid);
            if pass || valid {
                break;
            }
        }
        Ok(last)
    };
    let mut rate = p.start_rate.clamp(1.0, p.max_rate.max(1.0));
    let mut good: Option<f64> = None;
    let mut bad: Option<(f64, bool)> = None;
    for _ in 0..30 {
        let (pass, valid) = run(g, rate, &mut steps)?;
        if pass {
            good = Some(rate);
            if rate >= p.max_rate {
                break;
            }
            rate = (rate * p.growth.max(1.1)).min(p.max_rate);
        } else {
            bad = Some((rate, valid));
            break;
        }
    }
    let Some((mut hi, mut hi_valid)) = bad else {
        return Ok(SearchResult {
            p99_objective_ns: p.p99_objective.as_nanos() as f64,
            steps,
            max_rate: good,
            limited_by: Limit::Cap,
        });
    };
    let mut lo = good.unwrap_or(0.0);
    for _ in 0..p.bisect_steps.min(10) {
        let mid = if lo > 0.0 { (lo + hi) / 2.0 } else { hi / 4.0 };
        if mid < 1.0 {
            break;
        }
        let (pass, valid) = run(g, mid, &mut steps)?;
        if pass {
            lo = mid;
            good = Some(mid);
        } else {
            hi = mid;
            hi_valid = valid;
        }
    }
    Ok(SearchResult {
        p99_objective_ns: p.p99_objective.as_nanos() as f64,
        steps,
        max_rate: good,
        limited_by: if hi_valid {
            Limit::Objective
        } else {
            Limit::Generator
        },
    })
}
