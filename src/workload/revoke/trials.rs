//! Wall-clock trials: K validator threads validate each trial's token until they refuse it;
//! node 0 revokes it at t0; the latency is until the last node refused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use super::TrialClock;
use super::nodes::Nodes;
use super::{
    CONCURRENT_TRIALS, MAX_CONSECUTIVE_ERRORS, REMOTE_SETTLE, REQUEST_GAP, Ran, RevokeParams,
    Strategy, broken, uniform,
};
use crate::claims::ClaimSet;
use crate::scheme::{Rejection, TokenScheme};
use crate::workload::outage::Remote;
use crate::workload::{WorkloadResult, claims};

/// One revocation trial as the validator nodes see it: its token, and what each node saw.
struct Trial {
    token: String,
    /// When each node starts validating.
    starts: Vec<Instant>,
    /// Each node's first acceptance.
    first_ok: Vec<OnceLock<Instant>>,
    /// Each node's first refusal, and why.
    first_reject: Vec<OnceLock<(Instant, Rejection)>>,
}

impl Trial {
    fn warm(&self) -> bool {
        self.first_ok.iter().all(|c| c.get().is_some())
    }

    fn any_rejected(&self) -> Option<&Rejection> {
        self.first_reject
            .iter()
            .find_map(|c| c.get().map(|(_, r)| r))
    }

    fn rejected(&self) -> usize {
        self.first_reject
            .iter()
            .filter(|c| c.get().is_some())
            .count()
    }

    /// The latency once revoked at `t0`: until the last node refused, for the expected
    /// reason, none before `t0`.
    fn latency(&self, strategy: Strategy, t0: Instant) -> Result<f64, String> {
        let mut last = t0;
        for cell in &self.first_reject {
            let (at, r) = cell.get().ok_or("a node's refusal vanished")?;
            if *at < t0 {
                return Err(format!("refused before revocation: {r}"));
            }
            if !super::expected(strategy, r) {
                return Err(format!("refused for the wrong reason: {r}"));
            }
            last = last.max(*at);
        }
        Ok((last - t0).as_nanos() as f64)
    }
}

/// Trials that run at the same time on the same nodes, each with its own token.
struct Round {
    trials: Vec<Trial>,
    /// Set by the coordinator when the round is over (or abandoned).
    stop: AtomicBool,
}

/// What the coordinator posts for the nodes.
#[derive(Default)]
struct BoardState {
    generation: u64,
    round: Option<Arc<Round>>,
    shutdown: bool,
}

#[derive(Default)]
struct Board {
    state: Mutex<BoardState>,
    changed: Condvar,
}

impl Board {
    fn lock(&self) -> MutexGuard<'_, BoardState> {
        // The state is plain data that stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn post(&self, round: Arc<Round>) {
        let mut s = self.lock();
        s.generation += 1;
        s.round = Some(round);
        self.changed.notify_all();
    }

    fn shut_down(&self) {
        self.lock().shutdown = true;
        self.changed.notify_all();
    }

    /// Blocks until a round newer than `seen` is posted; `None` on shutdown.
    fn next(&self, seen: &mut u64) -> Option<Arc<Round>> {
        let mut s = self.lock();
        loop {
            if s.shutdown {
                return None;
            }
            if s.generation != *seen
                && let Some(r) = &s.round
            {
                *seen = s.generation;
                return Some(r.clone());
            }
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A validator node: for each posted round, validates every token whose start has come,
/// in turn, until each is refused.
fn validator(i: usize, node: &dyn TokenScheme, board: &Board) {
    let mut seen = 0;
    while let Some(round) = board.next(&mut seen) {
        let mut pending: Vec<&Trial> = round.trials.iter().collect();
        while !pending.is_empty() && !round.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            let mut validated = false;
            pending.retain(|trial| {
                if now < trial.starts[i] {
                    return true;
                }
                validated = true;
                match node.validate(&trial.token) {
                    Ok(_) => {
                        if trial.first_ok[i].get().is_none() {
                            let _ = trial.first_ok[i].set(Instant::now());
                        }
                        true
                    }
                    Err(r) => {
                        let _ = trial.first_reject[i].set((Instant::now(), r));
                        false
                    }
                }
            });
            if validated {
                std::thread::sleep(REQUEST_GAP);
            } else if let Some(next) = pending.iter().map(|t| t.starts[i]).min() {
                // Short naps so an abandoned round releases the node quickly.
                let wait = next.saturating_duration_since(now);
                std::thread::sleep(wait.min(Duration::from_millis(2)));
            }
        }
    }
}

/// Polls `done` until it holds or `deadline` passes; true when it held.
fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

/// Trials per round of `fleet`: [`CONCURRENT_TRIALS`] when it has a staleness window
/// (so the rounds overlap their waits), else one.
fn round_size(fleet: &Nodes) -> usize {
    if fleet.window.is_some() {
        CONCURRENT_TRIALS
    } else {
        1
    }
}

/// Runs the trials of a wall-clock strategy on its nodes, in rounds.
pub(super) fn run_wall(
    strategy: Strategy,
    fleet: &Nodes,
    p: &RevokeParams,
    remote: &Remote,
    rng: &mut StdRng,
) -> WorkloadResult<Ran> {
    let k = fleet.nodes.len();
    let board = Arc::new(Board::default());
    let (exited_tx, exited_rx) = mpsc::channel::<usize>();
    let mut handles: Vec<Option<JoinHandle<()>>> = Vec::with_capacity(k);
    let mut spawn_error = None;
    for (i, node) in fleet.nodes.iter().enumerate() {
        let (node, board, exited) = (node.clone(), board.clone(), exited_tx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("revoke-node-{i}"))
            .spawn(move || {
                validator(i, node.as_ref(), &board);
                let _ = exited.send(i);
            });
        match spawned {
            Ok(h) => handles.push(Some(h)),
            Err(e) => {
                spawn_error = Some(broken(strategy, format!("cannot start node {i}: {e}")));
                break;
            }
        }
    }

    let window = fleet.window.unwrap_or(Duration::ZERO);
    let bound = window * 10 + Duration::from_secs(5);
    let mut latencies = Vec::with_capacity(p.trials);
    let mut errors = 0u64;
    let mut fatal = None;
    if spawn_error.is_none() {
        let (mut done, mut failed_rounds) = (0, 0u64);
        while done < p.trials {
            if failed_rounds >= MAX_CONSECUTIVE_ERRORS {
                errors += (p.trials - done) as u64;
                break;
            }
            let m = round_size(fleet).min(p.trials - done);
            done += m;
            let mut why = None;
            for outcome in wall_round(strategy, fleet, &board, bound, m, rng) {
                match outcome {
                    Ok(ns) => latencies.push(ns),
                    Err(e) => {
                        errors += 1;
                        why.get_or_insert(e);
                    }
                }
            }
            let Some(why) = why else {
                failed_rounds = 0;
                continue;
            };
            failed_rounds += 1;
            if remote.is_remote() {
                // A server that went away: wait for it, then carry on with the trials.
                if !remote.reachable() {
                    match remote.ensure_back(&format!("revoke {}", strategy.name()), &why) {
                        Ok(()) => failed_rounds = 0,
                        Err(e) => {
                            fatal = Some(e);
                            break;
                        }
                    }
                }
                // Subscribers dial again every 100 ms and pollers refresh within P:
                // give them that long before the next round.
                std::thread::sleep(window + REMOTE_SETTLE);
            }
        }
    }

    // Stop the nodes; one that does not exit in time is left detached and counted.
    board.shut_down();
    let deadline = Instant::now() + bound;
    let mut exited = 0;
    while exited < handles.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match exited_rx.recv_timeout(left) {
            Ok(i) => {
                if let Some(h) = handles[i].take() {
                    let _ = h.join();
                }
                exited += 1;
            }
            Err(_) => {
                errors += (handles.len() - exited) as u64;
                break;
            }
        }
    }
    if let Some(e) = spawn_error.or(fatal) {
        return Err(e);
    }

    Ok(Ran {
        strategy,
        clock: TrialClock::Wall,
        window: fleet.window,
        latencies_ns: latencies,
        errors,
        probe: fleet.nodes[0].clone(),
    })
}

/// One round of `m` wall-clock trials: fresh tokens, nodes warm, each token revoked on
/// node 0 at its own time, then waiting for every node to refuse each. Returns each
/// trial's latency in nanoseconds, or why it failed.
fn wall_round(
    strategy: Strategy,
    fleet: &Nodes,
    board: &Board,
    bound: Duration,
    m: usize,
    rng: &mut StdRng,
) -> Vec<Result<f64, String>> {
    let k = fleet.nodes.len();
    let issuer = fleet.nodes[0].as_ref();
    let mut tokens = Vec::with_capacity(m);
    for _ in 0..m {
        match issuer.issue(&claims(ClaimSet::Typical, rng)) {
            Ok(t) => tokens.push(t),
            Err(e) => return vec![Err(format!("issue: {e}")); m],
        }
    }
    let started = Instant::now();
    let trials = tokens
        .into_iter()
        .map(|token| Trial {
            token,
            starts: (0..k)
                .map(|_| started + fleet.stagger.map_or(Duration::ZERO, |w| uniform(rng, w)))
                .collect(),
            first_ok: (0..k).map(|_| OnceLock::new()).collect(),
            first_reject: (0..k).map(|_| OnceLock::new()).collect(),
        })
        .collect();
    let round = Arc::new(Round {
        trials,
        stop: AtomicBool::new(false),
    });
    board.post(round.clone());
    let outcome = drive(strategy, fleet, &round, started, bound, rng);
    round.stop.store(true, Ordering::SeqCst);
    outcome
}

fn drive(
    strategy: Strategy,
    fleet: &Nodes,
    round: &Round,
    started: Instant,
    bound: Duration,
    rng: &mut StdRng,
) -> Vec<Result<f64, String>> {
    let k = fleet.nodes.len();
    let trials = &round.trials;
    let settled = wait_until(started + bound, || {
        trials
            .iter()
            .all(|t| t.warm() || t.any_rejected().is_some())
    });
    // With staggered starts every node's cache entry has a uniform remaining life at
    // `started + stagger`; otherwise sample the phase against the pollers by sleeping.
    let warm_at = Instant::now();
    let mut plan: Vec<(Instant, usize)> = (0..trials.len())
        .map(|j| {
            let at = match (fleet.stagger, fleet.phase) {
                (Some(w), _) => started + w,
                (None, Some(p)) => warm_at + uniform(rng, p),
                (None, None) => warm_at,
            };
            (at, j)
        })
        .collect();
    plan.sort();

    let mut t0s: Vec<Result<Instant, String>> = vec![Err(String::new()); trials.len()];
    for (at, j) in plan {
        let trial = &trials[j];
        t0s[j] = if let Some(r) = trial.any_rejected() {
            Err(format!("refused before revocation: {r}"))
        } else if !settled && !trial.warm() {
            Err(format!("nodes not warm within {bound:?}"))
        } else {
            sleep_until(at);
            let t0 = Instant::now();
            match fleet.nodes[0].revoke(&trial.token) {
                Ok(()) => Ok(t0),
                Err(e) => Err(format!("revoke: {e}")),
            }
        };
    }
    let last_t0 = t0s
        .iter()
        .filter_map(|t| t.as_ref().ok())
        .max()
        .copied()
        .unwrap_or_else(Instant::now);
    wait_until(last_t0 + bound, || {
        trials
            .iter()
            .zip(&t0s)
            .all(|(t, t0)| t0.is_err() || t.rejected() == k)
    });
    trials
        .iter()
        .zip(t0s)
        .map(|(trial, t0)| {
            let t0 = t0?;
            if trial.rejected() < k {
                return Err(format!(
                    "{} of {k} nodes refused within {bound:?}",
                    trial.rejected()
                ));
            }
            trial.latency(strategy, t0)
        })
        .collect()
}
