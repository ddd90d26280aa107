//! What each strategy adds to every request: `validate` of a valid token on one of its
//! nodes, in interleaved rounds.

use rand::rngs::StdRng;

use super::COST_ROUNDS;
use crate::claims::ClaimSet;
use crate::measure::{Budget, Measurement, measure};
use crate::scheme::TokenScheme;
use crate::workload::outage::check_valid;
use crate::workload::{Settings, WorkloadResult, claims};

/// Per-request `validate` cost of a fresh valid token on each node of `probes`, measured
/// in [`COST_ROUNDS`] interleaved rounds of an equal share of the budget each (the starting
/// node rotating), keeping for each node the round with the lowest median. On a shared
/// machine the cost of the same code jumps between levels for hundreds of milliseconds at
/// a time (a busy sibling hyperthread, frequency changes): one long measurement per
/// strategy would compare strategies measured at different levels, while the best of
/// several short interleaved rounds compares every strategy at its least disturbed.
pub(super) fn validate_costs(
    probes: &[&dyn TokenScheme],
    opts: &Settings,
    rng: &mut StdRng,
) -> WorkloadResult<Vec<Measurement>> {
    let tokens = probes
        .iter()
        .map(|node| {
            let token = node.issue(&claims(ClaimSet::Typical, rng))?;
            check_valid(*node, &token)?;
            Ok(token)
        })
        .collect::<WorkloadResult<Vec<_>>>()?;
    let budget = Budget {
        warmup: opts.budget.warmup / COST_ROUNDS,
        measure: opts.budget.measure / COST_ROUNDS,
        batch: opts.budget.batch,
    };
    let n = probes.len();
    let mut rounds: Vec<Vec<Measurement>> = vec![Vec::new(); n];
    for round in 0..COST_ROUNDS as usize {
        for j in 0..n {
            let i = (j + round) % n;
            let (node, token) = (probes[i], tokens[i].as_str());
            rounds[i].push(measure(budget, || node.validate(token)));
        }
    }
    for (node, token) in probes.iter().zip(&tokens) {
        // Still valid: the figures are the cost of accepting, not of refusing.
        check_valid(*node, token)?;
    }
    Ok(rounds
        .into_iter()
        .filter_map(|ms| {
            ms.into_iter()
                .min_by(|a, b| a.wall.median_ns.total_cmp(&b.wall.median_ns))
        })
        .collect())
}
