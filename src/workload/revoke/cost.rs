//! What each strategy adds to every request: `validate` of a valid token on one of its
//! nodes, every strategy in the same interleaved rounds ([`crate::measure::rounds`]).

use rand::rngs::StdRng;

use super::COST_ROUNDS;
use crate::claims::ClaimSet;
use crate::measure::rounds::{self, Op, Spread};
use crate::measure::{Budget, Measurement};
use crate::scheme::TokenScheme;
use crate::workload::outage::check_valid;
use crate::workload::{Settings, WorkloadResult, claims};

/// Per-request `validate` cost of a fresh valid token on each node of `probes`, every node
/// in the same [`COST_ROUNDS`] interleaved rounds, so that a shared machine's drift (a busy
/// sibling hyperthread, frequency changes, which move the cost of the same code for
/// hundreds of milliseconds at a time) hits every strategy alike. Each measurement keeps
/// its round medians, from which [`added_cost`] takes the difference to a baseline.
pub(super) fn validate_costs(
    probes: &[&dyn TokenScheme],
    settings: &Settings,
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
        warmup: settings.budget.warmup / COST_ROUNDS,
        measure: settings.budget.measure,
        batch: settings.budget.batch,
    };
    let mut ops: Vec<Op<'_>> = probes
        .iter()
        .zip(&tokens)
        .map(|(node, token)| -> Op<'_> {
            let (node, token) = (*node, token.as_str());
            Box::new(move || {
                let _ = std::hint::black_box(node.validate(token));
            })
        })
        .collect();
    let ms = rounds::interleaved(budget, COST_ROUNDS as usize, &mut ops);
    drop(ops);
    for (node, token) in probes.iter().zip(&tokens) {
        // Still valid: the figures are the cost of accepting, not of refusing.
        check_valid(*node, token)?;
    }
    Ok(ms)
}

/// What `cost` adds to `baseline` per request, as recorded: the difference of their medians
/// with the smallest and largest per-round difference. A spread that reaches zero records
/// 0 (no measurable cost) with that spread; a difference below zero throughout is a saving
/// and stays negative, which the report prints as "saves". `None` for the spread when a
/// measurement has no rounds.
pub(super) fn added_cost(cost: &Measurement, baseline: &Measurement) -> (f64, Option<Spread>) {
    let spread = match (&cost.rounds, &baseline.rounds) {
        (Some(a), Some(b)) => Spread::difference(a, b),
        _ => None,
    };
    match spread {
        Some(s) if s.lo <= 0.0 && s.hi >= 0.0 => (0.0, Some(s)),
        Some(s) => (s.median, Some(s)),
        None => (cost.median() - baseline.median(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::rounds::Rounds;
    use crate::measure::stats::Summary;

    fn m(rounds: &[f64]) -> Measurement {
        Measurement {
            batch_size: 1,
            ops: 1,
            wall: Summary::EMPTY,
            cpu: Summary::EMPTY,
            wall_histogram: String::new(),
            timer_overhead_share: 0.0,
            rounds: Some(Rounds {
                wall_ns: rounds.to_vec(),
                cpu_ns: rounds.to_vec(),
            }),
        }
    }

    #[test]
    fn a_spread_through_zero_is_recorded_as_zero_with_its_spread() {
        let base = m(&[100.0, 100.0, 100.0]);
        let (added, s) = added_cost(&m(&[95.0, 103.0, 110.0]), &base);
        assert_eq!(added, 0.0);
        assert_eq!(s.map(|s| (s.lo, s.hi)), Some((-5.0, 10.0)));
        let (added, _) = added_cost(&m(&[120.0, 130.0, 125.0]), &base);
        assert_eq!(added, 25.0);
        // Cheaper in every round: a saving, kept negative for the report to say so.
        let (added, _) = added_cost(&m(&[50.0, 60.0, 55.0]), &base);
        assert_eq!(added, -45.0);
    }
}
