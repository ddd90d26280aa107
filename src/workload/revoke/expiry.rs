//! `jwt-expiry-only` and `paseto-expiry-only` on a virtual clock: the token cannot be
//! revoked, so its window is its remaining lifetime, stepped through in virtual seconds.

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;

use super::{
    MAX_CONSECUTIVE_ERRORS, Ran, RevokeParams, Strategy, TrialClock, VIRTUAL_STEP, uniform,
};
use crate::claims::ClaimSet;
use crate::clock::{Clock, ManualClock, SystemClock};
use crate::scheme::spec::SchemeKeys;
use crate::scheme::{Rejection, RevocationStrategy, SchemeError, TokenScheme};
use crate::workload::{Settings, claims};

/// An expiry-only strategy on a virtual clock: the window is the token's remaining lifetime.
pub(super) fn run_expiry_only(
    strategy: Strategy,
    settings: &Settings,
    p: &RevokeParams,
    keys: &SchemeKeys,
    k: usize,
    rng: &mut StdRng,
) -> Ran {
    let config = settings.jwt_config();

    let clock = Arc::new(ManualClock::starting_now());
    let nodes: Vec<Arc<dyn TokenScheme>> = (0..k)
        .map(|_| keys.build(config.clone(), RevocationStrategy::None, clock.clone()))
        .collect();
    // `exp` is `iat` plus whole seconds.
    let lifetime = Duration::from_secs(config.lifetime.as_secs());
    let max_steps = lifetime.as_secs().saturating_add(2);

    let mut latencies = Vec::with_capacity(p.trials);
    let mut errors = 0u64;
    let mut in_a_row = 0u64;
    for done in 0..p.trials {
        if in_a_row >= MAX_CONSECUTIVE_ERRORS {
            errors += (p.trials - done) as u64;
            break;
        }
        match virtual_trial(&nodes, &clock, lifetime, max_steps, rng) {
            Ok(ns) => {
                latencies.push(ns);
                in_a_row = 0;
            }
            Err(_) => {
                errors += 1;
                in_a_row += 1;
            }
        }
    }

    Ran {
        strategy,
        clock: TrialClock::Virtual,
        window: Some(lifetime),
        latencies_ns: latencies,
        errors,
        // The cost is measured on the system clock, like every other strategy's.
        probe: keys.build(config, RevocationStrategy::None, Arc::new(SystemClock)),
    }
}

fn virtual_trial(
    nodes: &[Arc<dyn TokenScheme>],
    clock: &ManualClock,
    lifetime: Duration,
    max_steps: u64,
    rng: &mut StdRng,
) -> Result<f64, String> {
    // Issue on a whole second, so `iat` is exactly the virtual issue time.
    clock.set(Duration::from_secs(clock.now_secs().saturating_add(1)));
    let token = nodes[0]
        .issue(&claims(ClaimSet::Typical, rng))
        .map_err(|e| format!("issue: {e}"))?;
    for node in nodes {
        node.validate(&token)
            .map_err(|r| format!("refused at issue: {r}"))?;
    }
    clock.advance(uniform(rng, lifetime));
    match nodes[0].revoke(&token) {
        Err(SchemeError::RevocationUnsupported) => {}
        other => return Err(format!("revoke should be impossible, got {other:?}")),
    }
    let t0 = clock.now();
    let mut refused: Vec<Option<Duration>> = vec![None; nodes.len()];
    for _ in 0..max_steps {
        clock.advance(VIRTUAL_STEP);
        for (node, cell) in nodes.iter().zip(refused.iter_mut()) {
            if cell.is_none() {
                match node.validate(&token) {
                    Ok(_) => {}
                    Err(Rejection::Expired) => *cell = Some(clock.now()),
                    Err(r) => return Err(format!("refused for the wrong reason: {r}")),
                }
            }
        }
        if refused.iter().all(Option::is_some) {
            let last = refused.iter().flatten().max().copied().unwrap_or(t0);
            return Ok((last - t0).as_nanos() as f64);
        }
    }
    Err(format!("still accepted {max_steps} virtual seconds later"))
}
