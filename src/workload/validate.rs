//! Workload 2, validate: the per-request cost of each scheme.
//!
//! Per scheme and claim set: `validate` of a valid token and `issue`; per scheme the
//! rejection paths (unknown / forged, revoked). Reference rows measured in the same run
//! put the figures in context: a bare map get of the same key, a bare
//! `jsonwebtoken::decode`, a bare HMAC-SHA256 of the signing input, and where a JWT's time
//! goes (header decode, claims decode, signature check).
//!
//! A session store outside the process (`session-redis`) gets the same rows. Their wall time
//! includes the round trip to the server, their `cpu` is this client thread's CPU only, and
//! `server_cpu_ns_per_op` adds the server's side: the growth of the server's
//! `used_cpu_sys + used_cpu_user` (`INFO cpu`) over a counted run of the operation, less
//! what the server used over the same time while this process sent nothing (its cron, other
//! clients), divided by the count. A lookup that fails because the server is unreachable is
//! refused by the scheme (fail closed) and counted in the row's `errors`; the workload then
//! waits for the server (see [`super::remote`]) and gives up with an error naming it if it
//! does not come back.

pub use crate::results::schema::validate::{BudgetCheck, Operation, ValidateResults, ValidateRow};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dashmap::DashMap;

use super::outage::{Remote, check_valid, info_store, server_cpu_secs};
use super::{
    Progress, SchemeSpec, Settings, StoreSpec, Workload, WorkloadError, WorkloadResult, build,
    claims, expect_rejected, expect_valid, issue_many,
};
use crate::claims::ClaimSet;
use crate::clock::{Clock, CoarseClock};
use crate::crypto::CryptoBackend;
use crate::denylist::MemoryDenylist;
use crate::measure::{Measurement, interleaved_ratio, measure};
use crate::results::schema::ResultFile;
use crate::scheme::jwt::{JwtKeys, WireClaims};
use crate::scheme::spec::{SchemeId, StoreKind};
use crate::scheme::{
    JwtAlg, JwtScheme, Rejection, RevocationStrategy, SessionConfig, SessionScheme, TokenScheme,
};
use crate::store::{MemoryStore, RedisStore, SessionRecord, SessionStore};

/// The embedded session scheme the map reference stands beside.
const SESSION_MEMORY: SchemeId = SchemeId::Session(StoreKind::Memory);
/// The JWT scheme the decode references stand beside.
const JWT_HS256: SchemeId = SchemeId::Jwt(JwtAlg::HS256);

/// Fewest operations counted for one server-CPU figure.
const MIN_SERVER_OPS: u64 = 1_000;

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
}

impl ValidateParams {
    /// The defaults of a quick or a full run.
    pub fn defaults(quick: bool) -> Self {
        Self {
            live_sessions: if quick { 1_000 } else { 10_000 },
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
        s: &Settings,
        p: &ValidateParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<ValidateResults> {
        run(s, p, progress)
    }
}

/// Runs the validate workload for the schemes in `opts` on this process's crypto backend.
pub fn run(
    opts: &Settings,
    p: &ValidateParams,
    progress: &dyn Progress,
) -> WorkloadResult<ValidateResults> {
    let schemes = opts.schemes();
    progress.start("validate", schemes.len() as u64 + 1);
    let mut rows = Vec::new();
    let backend = opts.backend;
    for spec in &schemes {
        progress.step(&spec.name());
        match spec {
            SchemeSpec::Session(store) => rows.extend(session_rows(store, opts, p.live_sessions)?),
            SchemeSpec::Jwt(alg) => rows.extend(jwt_rows(*alg, opts, backend)?),
        }
    }
    progress.step("references");
    let mut budget_checks = Vec::new();
    if schemes
        .iter()
        .any(|s| matches!(s, SchemeSpec::Session(StoreSpec::Memory)))
    {
        let (row, check) = map_get_reference(opts, p.live_sessions, &mut rows)?;
        rows.push(row);
        budget_checks.push(check);
    }
    if schemes.contains(&SchemeSpec::Jwt(JwtAlg::HS256)) {
        let (refs, check) = jwt_references(opts, backend)?;
        rows.extend(refs);
        budget_checks.push(check);
    }
    progress.finish();
    Ok(ValidateResults {
        schema_version: <ValidateResults as ResultFile>::VERSION,
        live_sessions: p.live_sessions,
        timer_pair_ns: crate::measure::timer_pair_ns(),
        budget_checks,
        rows,
    })
}

fn row(
    scheme: SchemeId,
    backend: Option<CryptoBackend>,
    operation: Operation,
    claims: ClaimSet,
    m: Measurement,
) -> ValidateRow {
    ValidateRow {
        scheme,
        backend,
        operation,
        claims,
        measurement: m,
        server_cpu_ns_per_op: None,
        errors: 0,
    }
}

/// How one call of a measured operation ended, against what the row expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// As expected (accepted a valid token, refused an invalid one, issued a token).
    Expected,
    /// Did not happen as expected (e.g. refused because the store was unreachable).
    Failed,
    /// Accepted a token that must be refused: never allowed.
    Accepted,
}

/// `validate` of a token that must be accepted.
fn accept(r: &Result<crate::scheme::Principal, Rejection>) -> Verdict {
    if r.is_ok() {
        Verdict::Expected
    } else {
        Verdict::Failed
    }
}

/// `validate` of a token that must be refused (for any reason but an unreachable store).
fn refuse(r: &Result<crate::scheme::Principal, Rejection>) -> Verdict {
    match r {
        Ok(_) => Verdict::Accepted,
        Err(Rejection::StoreUnavailable(_)) => Verdict::Failed,
        Err(_) => Verdict::Expected,
    }
}

/// `issue`.
fn issued(r: &Result<String, crate::scheme::SchemeError>) -> Verdict {
    if r.is_ok() {
        Verdict::Expected
    } else {
        Verdict::Failed
    }
}

/// The server's CPU per operation, for a scheme whose store is a Redis server.
struct ServerCpu {
    info: RedisStore,
    /// Server CPU seconds per wall second while this process sends nothing.
    idle_per_sec: f64,
}

impl ServerCpu {
    /// `None` for an in-process scheme. Measures the server's background CPU first.
    fn new(remote: &Remote, opts: &Settings) -> WorkloadResult<Option<ServerCpu>> {
        let Some(url) = remote.url() else {
            return Ok(None);
        };
        let info = remote.retry("validate: connecting to read INFO", || Ok(info_store(url)?))?;
        let span = opts.budget.measure.max(Duration::from_millis(200));
        let idle_per_sec = remote.retry("validate: reading INFO cpu", || {
            let c0 = server_cpu_secs(&info)?;
            let t0 = Instant::now();
            std::thread::sleep(span);
            let c1 = server_cpu_secs(&info)?;
            Ok(((c1 - c0) / t0.elapsed().as_secs_f64()).max(0.0))
        })?;
        Ok(Some(ServerCpu { info, idle_per_sec }))
    }

    /// Runs `op` for the measuring budget (at least [`MIN_SERVER_OPS`] times, unless that
    /// takes four budgets) between two `INFO cpu` reads; ns of server CPU per call.
    fn per_op(&self, opts: &Settings, op: &mut dyn FnMut()) -> Option<f64> {
        let span = opts.budget.measure;
        let c0 = server_cpu_secs(&self.info).ok()?;
        let t0 = Instant::now();
        let mut n = 0u64;
        loop {
            let elapsed = t0.elapsed();
            if elapsed >= span && (n >= MIN_SERVER_OPS || elapsed >= span * 4) {
                break;
            }
            op();
            n += 1;
        }
        let wall = t0.elapsed().as_secs_f64();
        let c1 = server_cpu_secs(&self.info).ok()?;
        let busy = (c1 - c0 - self.idle_per_sec * wall).max(0.0);
        Some(busy / n as f64 * 1e9)
    }
}

/// Measures `f` (one operation per call) into a row: wall and thread-CPU time, the server's
/// CPU when `server` is given, and the calls that did not end as `judge` expects. A call
/// that accepted a token that must be refused fails the workload; failed calls are counted,
/// after which the workload waits for an unreachable server to come back (or gives up).
#[allow(clippy::too_many_arguments)]
fn timed<T>(
    scheme: SchemeId,
    operation: Operation,
    claims: ClaimSet,
    opts: &Settings,
    remote: &Remote,
    server: Option<&ServerCpu>,
    judge: impl Fn(&T) -> Verdict,
    mut f: impl FnMut() -> T,
) -> WorkloadResult<ValidateRow> {
    let (failed, accepted) = (Cell::new(0u64), Cell::new(0u64));
    let mut counted = || {
        let r = f();
        match judge(&r) {
            Verdict::Expected => {}
            Verdict::Failed => failed.set(failed.get() + 1),
            Verdict::Accepted => accepted.set(accepted.get() + 1),
        }
        r
    };
    let measurement = measure(opts.budget, &mut counted);
    let server_cpu_ns_per_op = server.and_then(|s| {
        s.per_op(opts, &mut || {
            black_box(counted());
        })
    });
    if accepted.get() > 0 {
        return Err(WorkloadError::Broken {
            scheme: scheme.to_string(),
            what: format!(
                "{}: {} tokens that must be refused were accepted",
                operation.name(),
                accepted.get()
            ),
        });
    }
    if failed.get() > 0 {
        remote.ensure_back(
            &format!("validate {scheme} {}", operation.name()),
            &format!("{} operations failed", failed.get()),
        )?;
    }
    Ok(ValidateRow {
        scheme,
        backend: None,
        operation,
        claims,
        measurement,
        server_cpu_ns_per_op,
        errors: failed.get(),
    })
}

fn session_rows(
    store: &StoreSpec,
    opts: &Settings,
    live_sessions: usize,
) -> WorkloadResult<Vec<ValidateRow>> {
    let spec = SchemeSpec::Session(store.clone());
    let name = spec.id();
    let remote = Remote::for_spec(&spec);
    let server = ServerCpu::new(&remote, opts)?;
    let server = server.as_ref();
    let mut out = Vec::new();
    let fixed = SessionConfig {
        sliding: false,
        ..SessionConfig::default()
    };
    let sliding = SessionConfig {
        sliding: true,
        ..SessionConfig::default()
    };
    let clock = Arc::new(CoarseClock);
    let connect = |config: &SessionConfig| {
        remote.retry(&format!("validate {name}: connecting"), || {
            build(
                &spec,
                opts,
                config.clone(),
                RevocationStrategy::None,
                clock.clone(),
            )
        })
    };
    for set in ClaimSet::ALL {
        let mut rng = opts.rng(2);
        for (op, config) in [
            (Operation::Validate, &fixed),
            (Operation::ValidateSliding, &sliding),
        ] {
            let scheme = connect(config)?;
            let tokens = remote.issue_many(scheme.as_ref(), live_sessions.max(1), set, &mut rng)?;
            let token = &tokens[tokens.len() / 2];
            remote.retry("validate: checking the token", || {
                check_valid(scheme.as_ref(), token)
            })?;
            out.push(timed(name, op, set, opts, &remote, server, accept, || {
                scheme.validate(token)
            })?);
        }
        let scheme = connect(&fixed)?;
        let input = claims(set, &mut rng);
        out.push(timed(
            name,
            Operation::Issue,
            set,
            opts,
            &remote,
            server,
            issued,
            || scheme.issue(&input),
        )?);
    }
    // Rejections, typical claims, in a store holding the same live sessions.
    let mut rng = opts.rng(2);
    let scheme = connect(&fixed)?;
    let tokens = remote.issue_many(
        scheme.as_ref(),
        live_sessions.max(1),
        ClaimSet::Typical,
        &mut rng,
    )?;
    let unknown = URL_SAFE_NO_PAD.encode([0x5a_u8; 16]);
    expect_rejected(scheme.as_ref(), &unknown)?;
    out.push(timed(
        name,
        Operation::RejectUnknown,
        ClaimSet::Typical,
        opts,
        &remote,
        server,
        refuse,
        || scheme.validate(&unknown),
    )?);
    let revoked = &tokens[0];
    remote.retry("validate: revoking", || Ok(scheme.revoke(revoked)?))?;
    expect_rejected(scheme.as_ref(), revoked)?;
    out.push(timed(
        name,
        Operation::RejectRevoked,
        ClaimSet::Typical,
        opts,
        &remote,
        server,
        refuse,
        || scheme.validate(revoked),
    )?);
    Ok(out)
}

fn jwt_rows(
    alg: JwtAlg,
    opts: &Settings,
    backend: CryptoBackend,
) -> WorkloadResult<Vec<ValidateRow>> {
    let name = SchemeId::Jwt(alg);
    let b = Some(backend);
    let clock = Arc::new(CoarseClock);
    let mut rng = opts.rng(3);
    let keys = Arc::new(JwtKeys::generate(alg)?);
    let scheme = JwtScheme::with_keys(
        keys.clone(),
        opts.jwt_config(),
        RevocationStrategy::None,
        clock.clone(),
    );
    let mut out = Vec::new();
    for set in ClaimSet::ALL {
        let input = claims(set, &mut rng);
        let token = scheme.issue(&input)?;
        expect_valid(&scheme, &token)?;
        out.push(row(
            name,
            b,
            Operation::Validate,
            set,
            measure(opts.budget, || scheme.validate(&token)),
        ));
        out.push(row(
            name,
            b,
            Operation::Issue,
            set,
            measure(opts.budget, || scheme.issue(&input)),
        ));
    }
    // Rejections: a token signed with another key, and a revoked token.
    let input = claims(ClaimSet::Typical, &mut rng);
    let stranger = JwtScheme::new(
        alg,
        opts.jwt_config(),
        RevocationStrategy::None,
        clock.clone(),
    )?;
    let forged = stranger.issue(&input)?;
    expect_rejected(&scheme, &forged)?;
    out.push(row(
        name,
        b,
        Operation::RejectUnknown,
        ClaimSet::Typical,
        measure(opts.budget, || scheme.validate(&forged)),
    ));
    let with_denylist = JwtScheme::with_keys(
        keys.clone(),
        opts.jwt_config(),
        RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new())),
        clock,
    );
    let revoked = with_denylist.issue(&input)?;
    with_denylist.revoke(&revoked)?;
    expect_rejected(&with_denylist, &revoked)?;
    out.push(row(
        name,
        b,
        Operation::RejectRevoked,
        ClaimSet::Typical,
        measure(opts.budget, || with_denylist.validate(&revoked)),
    ));
    // Where the time goes.
    let token = scheme.issue(&input)?;
    let (message, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| WorkloadError::Other("issued JWT has no '.'".into()))?;
    let payload = message.split('.').nth(1).unwrap_or_default();
    let decoding = keys.decoding_key();
    if !jsonwebtoken::crypto::verify(signature, message.as_bytes(), decoding, alg.algorithm())
        .unwrap_or(false)
    {
        return Err(WorkloadError::Broken {
            scheme: name.to_string(),
            what: "breakdown: signature does not verify".into(),
        });
    }
    out.push(row(
        name,
        b,
        Operation::JwtHeaderDecode,
        ClaimSet::Typical,
        measure(opts.budget, || {
            let header = token.split('.').next().unwrap_or_default();
            crate::scheme::jwt::JoseHeader::parse_checked(header, alg.name())
        }),
    ));
    out.push(row(
        name,
        b,
        Operation::JwtClaimsDecode,
        ClaimSet::Typical,
        measure(opts.budget, || {
            URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<WireClaims>(&bytes).ok())
        }),
    ));
    out.push(row(
        name,
        b,
        Operation::JwtSignatureCheck,
        ClaimSet::Typical,
        measure(opts.budget, || {
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), decoding, alg.algorithm())
        }),
    ));
    Ok(out)
}

fn check(name: String, ratio: crate::measure::Ratio, limit: f64) -> BudgetCheck {
    BudgetCheck {
        name,
        ratio: ratio.median,
        ratio_ci95: ratio.ci95,
        limit,
        pass: ratio.median <= limit,
    }
}

/// A bare DashMap get of the same key, in a map holding as many records as the store, and
/// the budget "session validate within 1.5x of it", measured interleaved.
fn map_get_reference(
    opts: &Settings,
    live_sessions: usize,
    extra: &mut Vec<ValidateRow>,
) -> WorkloadResult<(ValidateRow, BudgetCheck)> {
    let mut rng = opts.rng(2);
    let scheme = SessionScheme::new(
        MemoryStore::new(),
        SessionConfig {
            sliding: false,
            ..SessionConfig::default()
        },
        Arc::new(CoarseClock),
    );
    let tokens = issue_many(&scheme, live_sessions.max(1), ClaimSet::Typical, &mut rng)?;
    let map: DashMap<String, SessionRecord> = DashMap::new();
    for t in &tokens {
        if let Some(r) = scheme.store().get(t)? {
            map.insert(t.clone(), r);
        }
    }
    let key = tokens[tokens.len() / 2].clone();
    if map.get(&key).is_none() {
        return Err(WorkloadError::Other("reference map lost its key".into()));
    }
    expect_valid(&scheme, &key)?;
    // Where a session lookup's time goes, beside the map get.
    extra.push(row(
        SESSION_MEMORY,
        None,
        Operation::SessionIdCheck,
        ClaimSet::Typical,
        measure(opts.budget, || scheme.check_syntax(&key)),
    ));
    extra.push(row(
        SESSION_MEMORY,
        None,
        Operation::ClockRead,
        ClaimSet::Typical,
        measure(opts.budget, || CoarseClock.now()),
    ));
    let get = || map.get(key.as_str()).map(|r| r.value().clone());
    let m = measure(opts.budget, get);
    let ratio = interleaved_ratio(opts.budget, || scheme.validate(&key), get);
    Ok((
        row(
            SESSION_MEMORY,
            None,
            Operation::RefMapGet,
            ClaimSet::Typical,
            m,
        ),
        check(
            "session-memory validate / bare DashMap get".into(),
            ratio,
            1.5,
        ),
    ))
}

/// Bare `jsonwebtoken::decode` and HMAC-SHA256 beside the HS256 scheme, and the budget
/// "HS256 validate within 1.1x of a bare decode", measured interleaved.
fn jwt_references(
    opts: &Settings,
    backend: CryptoBackend,
) -> WorkloadResult<(Vec<ValidateRow>, BudgetCheck)> {
    let mut rng = opts.rng(3);
    let scheme = JwtScheme::new(
        JwtAlg::HS256,
        opts.jwt_config(),
        RevocationStrategy::None,
        Arc::new(CoarseClock),
    )?;
    let token = scheme.issue(&claims(ClaimSet::Typical, &mut rng))?;
    let key = scheme.keys().decoding_key();
    let validation = scheme.validation();
    let decode = || jsonwebtoken::decode::<WireClaims>(&token, key, &validation);
    if decode().is_err() {
        return Err(WorkloadError::Broken {
            scheme: scheme.name(),
            what: "bare decode refused the token".into(),
        });
    }
    expect_valid(&scheme, &token)?;
    let message = token
        .rsplit_once('.')
        .map(|(m, _)| m.to_owned())
        .unwrap_or_default();
    let enc = scheme.keys().encoding_key();
    let b = Some(backend);
    let hmac =
        || jsonwebtoken::crypto::sign(message.as_bytes(), enc, jsonwebtoken::Algorithm::HS256);
    let ratio = interleaved_ratio(opts.budget, || scheme.validate(&token), decode);
    Ok((
        vec![
            row(
                JWT_HS256,
                b,
                Operation::RefJwtDecode,
                ClaimSet::Typical,
                measure(opts.budget, decode),
            ),
            row(
                JWT_HS256,
                b,
                Operation::RefHmacSha256,
                ClaimSet::Typical,
                measure(opts.budget, hmac),
            ),
        ],
        check(
            format!("jwt-HS256 validate / bare jsonwebtoken::decode ({backend})"),
            ratio,
            1.1,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::Budget;
    use crate::workload::{Family, NoProgress};

    #[test]
    fn tiny_validate_run_has_every_row_and_round_trips() {
        let mut opts = Settings::defaults(true);
        opts.budget = Budget {
            warmup: Duration::from_millis(1),
            measure: Duration::from_millis(5),
            batch: Duration::from_micros(20),
        };
        let p = ValidateParams { live_sessions: 50 };
        opts.algs = vec![JwtAlg::HS256, JwtAlg::EdDSA];
        opts.stores = vec![StoreSpec::Memory];
        opts.families = vec![Family::Session, Family::Jwt];
        let r = run(&opts, &p, &NoProgress).unwrap();
        let backend = Some(CryptoBackend::AwsLc);
        for set in ClaimSet::ALL {
            assert!(
                r.find(SESSION_MEMORY, Operation::Validate, set, None)
                    .is_some()
            );
            assert!(
                r.find(SESSION_MEMORY, Operation::ValidateSliding, set, None)
                    .is_some()
            );
            assert!(
                r.find(SchemeId::Jwt(JwtAlg::EdDSA), Operation::Issue, set, backend)
                    .is_some()
            );
        }
        for op in [
            Operation::RejectUnknown,
            Operation::RejectRevoked,
            Operation::JwtSignatureCheck,
            Operation::RefJwtDecode,
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
        assert_eq!(r.budget_checks.len(), 2);
        let back: ValidateResults =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert!(back == r, "JSON round trip changed the results");
    }
}
