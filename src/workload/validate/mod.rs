//! Workload 2, validate: the per-request cost of each scheme.
//!
//! Per scheme and claim set: `validate` of a valid token (sessions: with a fixed idle
//! deadline, and with sliding expiry) and `issue`; per scheme the rejection paths (unknown
//! or forged, revoked). Reference rows put the figures in context: a bare map get of the
//! same key, a bare `jsonwebtoken::decode`, a bare HMAC-SHA256 of the signing input; and
//! the stages of a JWT validate (header, signature, claims: the steps `JwtScheme::validate`
//! really takes), and of a session lookup (the ID check, the clock read).
//!
//! Every row is measured in the same interleaved rounds ([`crate::measure::rounds`]): in
//! each round every row runs for an equal share of the budget, so a shared machine's drift
//! hits every row alike, and each row carries the median of its round medians with their
//! range (the run-to-run spread). The budgets are ratios of two rows of the table, computed
//! from the same rounds, so a budget always agrees with the table it summarises. The rows
//! of the other crypto backend come from a child process, with rounds of their own.
//!
//! A session store outside the process (`session-redis`, `session-postgres`) gets the same
//! rows. Their wall time includes the round trip to the server, their `cpu` is this client
//! thread's CPU only, and `server_cpu_ns_per_op` adds the server's side (`server`: the
//! growth of the server's own CPU over a counted run, through its
//! [`ServerProbe`](crate::store::ServerProbe)). A lookup that fails because the server is
//! unreachable is refused by the scheme (fail closed) and counted in the row's `errors`;
//! the workload then waits for the server (see [`super::outage`]) and gives up with an
//! error naming it if it does not come back.

mod fixtures;
mod server;

pub use crate::results::schema::validate::{BudgetCheck, Operation, ValidateResults, ValidateRow};

use fixtures::{DecodeReference, MapReference, Planned, SessionFixture, TokenFixture};

use super::{Progress, Settings, Workload, WorkloadError, WorkloadResult};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::measure::rounds::{self, Op, Spread};
use crate::results::schema::ResultFile;
use crate::scheme::JwtAlg;
use crate::scheme::spec::{SchemeId, StoreKind};
use crate::scheme::spec::{SchemeSpec, StoreSpec};

/// The embedded session scheme the map reference stands beside.
const SESSION_MEMORY: SchemeId = SchemeId::Session(StoreKind::Memory);
/// The JWT scheme the decode references stand beside.
const JWT_HS256: SchemeId = SchemeId::Jwt(JwtAlg::HS256);

/// Budget: session-memory validate within this factor of a bare DashMap get.
pub const SESSION_BUDGET: f64 = 1.5;
/// Budget: HS256 validate within this factor of a bare `jsonwebtoken::decode`.
pub const HS256_BUDGET: f64 = 1.1;

/// The validate workload.
pub struct Validate;

/// Flags of `tokenbench validate` (none of its own).
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {}

/// Parameters of the validate workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidateParams {
    /// Sessions live in each store while validate is measured.
    pub live_sessions: usize,
    /// Interleaved rounds (absent in parameters recorded before rounds: the default).
    #[serde(default = "default_rounds")]
    pub rounds: usize,
}

fn default_rounds() -> usize {
    rounds::QUICK_ROUNDS
}

impl ValidateParams {
    /// The defaults of a quick or a full run.
    pub fn defaults(quick: bool) -> Self {
        Self {
            live_sessions: if quick { 1_000 } else { 10_000 },
            rounds: if quick {
                rounds::QUICK_ROUNDS
            } else {
                rounds::FULL_ROUNDS
            },
        }
    }
}

impl Workload for Validate {
    const ABOUT: &'static str = "Per-request cost of validate and issue";
    const PER_BACKEND: bool = true;
    type Args = ValidateArgs;
    type Params = ValidateParams;
    type Results = ValidateResults;

    fn params(_: &ValidateArgs, quick: bool) -> ValidateParams {
        ValidateParams::defaults(quick)
    }

    fn run(
        settings: &Settings,
        p: &ValidateParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<ValidateResults> {
        run(settings, p, progress)
    }
}

/// Runs the validate workload for the schemes in `settings` on this process's crypto backend.
pub fn run(
    settings: &Settings,
    p: &ValidateParams,
    progress: &dyn Progress,
) -> WorkloadResult<ValidateResults> {
    let schemes = settings.schemes();
    progress.start("validate", schemes.len() as u64 + 2);
    let backend = settings.backend;
    let mut sessions = Vec::new();
    let mut tokens = Vec::new();
    for spec in &schemes {
        progress.step(&format!("{spec}: setting up"));
        match spec.store() {
            Some(store) => sessions.push(SessionFixture::build(store, settings, p.live_sessions)?),
            None => tokens.push(TokenFixture::build(spec, settings)?),
        }
    }
    progress.step("references");
    let map = schemes
        .contains(&SchemeSpec::Session(StoreSpec::Memory))
        .then(|| MapReference::build(settings, p.live_sessions))
        .transpose()?;
    let decode = schemes
        .contains(&SchemeSpec::Jwt(JwtAlg::HS256))
        .then(|| DecodeReference::build(settings))
        .transpose()?;

    let mut planned: Vec<Planned<'_>> = Vec::new();
    sessions.iter().for_each(|f| f.plan(&mut planned));
    tokens.iter().for_each(|f| f.plan(&mut planned));
    if let Some(m) = &map {
        m.plan(&mut planned);
    }
    if let Some(d) = &decode {
        d.plan(backend, &mut planned);
    }
    progress.step(&format!(
        "{} rows, {} interleaved rounds",
        planned.len(),
        p.rounds
    ));
    let mut ops: Vec<Op<'_>> = planned
        .iter_mut()
        .map(|r| std::mem::replace(&mut r.op, Box::new(|| {})))
        .collect();
    let measurements = rounds::interleaved(settings.budget, p.rounds, &mut ops);

    let mut rows = Vec::with_capacity(planned.len());
    for ((plan, measurement), op) in planned.iter().zip(measurements).zip(ops.iter_mut()) {
        // The server's CPU per operation, over a counted pass of its own.
        let server_cpu_ns_per_op = plan.server.and_then(|s| s.per_op(settings, op.as_mut()));
        let (failed, accepted) = (plan.counts.failed.get(), plan.counts.accepted.get());
        if accepted > 0 {
            return Err(WorkloadError::Broken {
                scheme: plan.scheme.to_string(),
                what: format!(
                    "{}: {accepted} tokens that must be refused were accepted",
                    plan.operation.name()
                ),
            });
        }
        if failed > 0
            && let Some(remote) = plan.remote
        {
            remote.ensure_back(
                &format!("validate {} {}", plan.scheme, plan.operation.name()),
                &format!("{failed} operations failed"),
            )?;
        }
        rows.push(ValidateRow {
            scheme: plan.scheme,
            backend: plan.backend,
            operation: plan.operation,
            claims: plan.claims,
            measurement,
            server_cpu_ns_per_op,
            errors: failed,
        });
    }
    drop(ops);
    drop(planned);
    let budget_checks = budgets(&rows, backend);
    progress.finish();
    Ok(ValidateResults {
        schema_version: <ValidateResults as ResultFile>::VERSION,
        live_sessions: p.live_sessions,
        timer_pair_ns: crate::measure::timer_pair_ns(),
        budget_checks,
        rows,
    })
}

/// The budgets, as ratios of two rows of the table measured in the same rounds.
fn budgets(rows: &[ValidateRow], backend: CryptoBackend) -> Vec<BudgetCheck> {
    let find = |scheme: SchemeId, op: Operation, b: Option<CryptoBackend>| {
        rows.iter().find(|r| {
            r.scheme == scheme
                && r.operation == op
                && r.claims == ClaimSet::Typical
                && r.backend == b
        })
    };
    let mut out = Vec::new();
    for (name, a, b, limit) in [
        (
            "session-memory validate / bare DashMap get".to_owned(),
            find(SESSION_MEMORY, Operation::Validate, None),
            find(SESSION_MEMORY, Operation::RefMapGet, None),
            SESSION_BUDGET,
        ),
        (
            format!("jwt-HS256 validate / bare jsonwebtoken::decode ({backend})"),
            find(JWT_HS256, Operation::Validate, Some(backend)),
            find(JWT_HS256, Operation::RefJwtDecode, Some(backend)),
            HS256_BUDGET,
        ),
    ] {
        let (Some(a), Some(b)) = (a, b) else { continue };
        let (Some(ra), Some(rb)) = (&a.measurement.rounds, &b.measurement.rounds) else {
            continue;
        };
        let Some(ratio) = Spread::ratio(ra, rb) else {
            continue;
        };
        out.push(BudgetCheck {
            name,
            ratio: ratio.median,
            ratio_ci95: [ratio.lo, ratio.hi],
            ratio_lo: Some(ratio.lo),
            ratio_hi: Some(ratio.hi),
            limit,
            pass: ratio.median <= limit,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::Budget;
    use crate::scheme::PasetoPurpose;
    use crate::workload::NoProgress;

    #[test]
    fn tiny_validate_run_has_every_row_and_round_trips() {
        let mut settings = Settings::defaults(true);
        settings.budget = Budget {
            warmup: Duration::from_millis(1),
            measure: Duration::from_millis(5),
            batch: Duration::from_micros(20),
        };
        let p = ValidateParams {
            live_sessions: 50,
            rounds: 3,
        };
        settings.algs = vec![JwtAlg::HS256, JwtAlg::EdDSA];
        settings.pasetos = vec![PasetoPurpose::Public];
        settings.stores = vec![StoreSpec::Memory];
        let r = run(&settings, &p, &NoProgress).unwrap();
        let backend = Some(CryptoBackend::AwsLc);
        for set in ClaimSet::ALL {
            for op in [
                Operation::Validate,
                Operation::ValidateSliding,
                Operation::Issue,
            ] {
                assert!(r.find(SESSION_MEMORY, op, set, None).is_some(), "{op:?}");
            }
            assert!(
                r.find(SchemeId::Jwt(JwtAlg::EdDSA), Operation::Issue, set, backend)
                    .is_some()
            );
            // PASETO's crypto is its own: measured once, with no backend.
            let paseto = SchemeId::Paseto(PasetoPurpose::Public);
            for op in [Operation::Validate, Operation::Issue] {
                assert!(r.find(paseto, op, set, None).is_some(), "{op:?}");
            }
        }
        let paseto = SchemeId::Paseto(PasetoPurpose::Public);
        for op in [Operation::RejectUnknown, Operation::RejectRevoked] {
            assert!(
                r.find(paseto, op, ClaimSet::Typical, None).is_some(),
                "{op:?}"
            );
        }
        assert!(
            r.rows
                .iter()
                .filter(|row| row.scheme == paseto)
                .all(|row| row.operation != Operation::JwtSignatureCheck),
            "the JWT breakdown is a JWT's"
        );
        for op in [
            Operation::RejectUnknown,
            Operation::RejectRevoked,
            Operation::JwtHeaderDecode,
            Operation::JwtSignatureCheck,
            Operation::JwtClaimsDecode,
            Operation::RefJwtDecode,
            Operation::RefHmacSha256,
        ] {
            assert!(
                r.find(JWT_HS256, op, ClaimSet::Typical, backend).is_some(),
                "{op:?}"
            );
        }
        assert!(
            r.find(
                SESSION_MEMORY,
                Operation::RefMapGet,
                ClaimSet::Typical,
                None
            )
            .is_some()
        );
        // Every row was measured in every round.
        for row in &r.rows {
            let rounds = row.measurement.rounds.as_ref().expect("rounds");
            assert_eq!(rounds.wall_ns.len(), 3, "{:?}", row.operation);
            assert_eq!(row.errors, 0);
        }
        // A budget is the ratio of two table rows, and lies within its own spread.
        assert_eq!(r.budget_checks.len(), 2);
        for b in &r.budget_checks {
            let (lo, hi) = (b.ratio_lo.unwrap(), b.ratio_hi.unwrap());
            assert!(lo <= b.ratio && b.ratio <= hi, "{b:?}");
        }
        let v = r
            .find(JWT_HS256, Operation::Validate, ClaimSet::Typical, backend)
            .unwrap();
        let d = r
            .find(
                JWT_HS256,
                Operation::RefJwtDecode,
                ClaimSet::Typical,
                backend,
            )
            .unwrap();
        let hs = r
            .budget_checks
            .iter()
            .find(|b| b.name.starts_with("jwt-HS256"))
            .unwrap();
        assert_eq!(hs.ratio, v.measurement.median() / d.measurement.median());
        let back: ValidateResults =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert!(back == r, "JSON round trip changed the results");
    }
}
