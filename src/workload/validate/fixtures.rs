//! What the validate workload measures, set up before anything is timed: per scheme its
//! schemes, stores and tokens, per reference its floor; and the rows each contributes,
//! as operations for the interleaved rounds. Everything lives until the rounds are over,
//! so that every row is measured in every round.

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dashmap::DashMap;
use jsonwebtoken::Validation;

use super::server::ServerCpu;
use super::{JWT_HS256, Operation, SESSION_MEMORY};
use crate::claims::{ClaimSet, Claims};
use crate::clock::{Clock, CoarseClock};
use crate::crypto::CryptoBackend;
use crate::denylist::MemoryDenylist;
use crate::measure::rounds::Op;
use crate::scheme::jwt::WireClaims;
use crate::scheme::spec::{SchemeId, SchemeKeys};
use crate::scheme::{
    JwtAlg, JwtScheme, Principal, Rejection, RevocationStrategy, SchemeError, SessionConfig,
    SessionScheme, TokenScheme,
};
use crate::store::{MemoryStore, SessionRecord, SessionStore};
use crate::workload::outage::{Remote, check_valid};
use crate::workload::{
    SchemeSpec, Settings, StoreSpec, WorkloadError, WorkloadResult, build, claims, expect_rejected,
    expect_valid, issue_many,
};

/// How one call of a measured operation ended, against what the row expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// As expected (accepted a valid token, refused an invalid one, issued a token).
    Expected,
    /// Did not happen as expected (e.g. refused because the store was unreachable).
    Failed,
    /// Accepted a token that must be refused: never allowed.
    Accepted,
}

/// `validate` of a token that must be accepted.
fn accept(r: &Result<Principal, Rejection>) -> Verdict {
    if r.is_ok() {
        Verdict::Expected
    } else {
        Verdict::Failed
    }
}

/// `validate` of a token that must be refused (for any reason but an unreachable store).
fn refuse(r: &Result<Principal, Rejection>) -> Verdict {
    match r {
        Ok(_) => Verdict::Accepted,
        Err(Rejection::StoreUnavailable(_)) => Verdict::Failed,
        Err(_) => Verdict::Expected,
    }
}

/// `issue`.
fn issued(r: &Result<String, SchemeError>) -> Verdict {
    if r.is_ok() {
        Verdict::Expected
    } else {
        Verdict::Failed
    }
}

/// The calls of one row that did not end as expected.
#[derive(Debug, Default)]
pub(super) struct Counts {
    /// Refused while the store was unreachable, or an issue that failed.
    pub(super) failed: Cell<u64>,
    /// Accepted although it had to be refused.
    pub(super) accepted: Cell<u64>,
}

impl Counts {
    fn count(&self, v: Verdict) {
        match v {
            Verdict::Expected => {}
            Verdict::Failed => self.failed.set(self.failed.get() + 1),
            Verdict::Accepted => self.accepted.set(self.accepted.get() + 1),
        }
    }
}

/// One row to measure: what it is, its operation, and where its failures are counted.
pub(super) struct Planned<'a> {
    pub(super) scheme: SchemeId,
    pub(super) backend: Option<CryptoBackend>,
    pub(super) operation: Operation,
    pub(super) claims: ClaimSet,
    pub(super) op: Op<'a>,
    pub(super) counts: Rc<Counts>,
    /// The server behind the row, for its outages and its CPU.
    pub(super) remote: Option<&'a Remote>,
    pub(super) server: Option<&'a ServerCpu>,
}

/// Where rows come from: their scheme, backend and server.
#[derive(Clone, Copy)]
struct Site<'a> {
    scheme: SchemeId,
    backend: Option<CryptoBackend>,
    remote: Option<&'a Remote>,
    server: Option<&'a ServerCpu>,
}

impl<'a> Site<'a> {
    /// A row whose calls end as `judge` expects.
    fn row<T: 'a>(
        self,
        operation: Operation,
        claims: ClaimSet,
        judge: fn(&T) -> Verdict,
        mut f: impl FnMut() -> T + 'a,
    ) -> Planned<'a> {
        let counts = Rc::new(Counts::default());
        let c = counts.clone();
        Planned {
            scheme: self.scheme,
            backend: self.backend,
            operation,
            claims,
            op: Box::new(move || {
                let r = f();
                c.count(judge(&r));
                black_box(r);
            }),
            counts,
            remote: self.remote,
            server: self.server,
        }
    }

    /// A reference or breakdown row (typical claims): its result is computed, not judged.
    fn reference<T: 'a>(self, operation: Operation, mut f: impl FnMut() -> T + 'a) -> Planned<'a> {
        Planned {
            scheme: self.scheme,
            backend: self.backend,
            operation,
            claims: ClaimSet::Typical,
            op: Box::new(move || drop(black_box(f()))),
            counts: Rc::new(Counts::default()),
            remote: self.remote,
            server: None,
        }
    }
}

/// One claim set of a session scheme: a store with a fixed idle deadline, one with
/// sliding expiry, each with a token to validate, and one to issue into.
struct SessionSet {
    set: ClaimSet,
    fixed: Arc<dyn TokenScheme>,
    fixed_token: String,
    sliding: Arc<dyn TokenScheme>,
    sliding_token: String,
    issuer: Arc<dyn TokenScheme>,
    input: Claims,
}

/// A session scheme on one store, ready to be measured.
pub(super) struct SessionFixture {
    id: SchemeId,
    remote: Remote,
    server: Option<ServerCpu>,
    sets: Vec<SessionSet>,
    /// A store holding the live sessions, for the refusals.
    reject: Arc<dyn TokenScheme>,
    unknown: String,
    revoked: String,
}

fn config(sliding: bool) -> SessionConfig {
    SessionConfig {
        sliding,
        ..SessionConfig::default()
    }
}

impl SessionFixture {
    /// Stores holding `live_sessions` sessions each (waiting for a server that is away).
    pub(super) fn build(
        store: &StoreSpec,
        settings: &Settings,
        live_sessions: usize,
    ) -> WorkloadResult<SessionFixture> {
        let spec = SchemeSpec::Session(store.clone());
        let id = spec.id();
        let remote = Remote::for_spec(&spec)?;
        let server = ServerCpu::new(&remote, settings)?;
        let clock: Arc<dyn Clock> = Arc::new(CoarseClock);
        let connect = |config: SessionConfig| {
            remote.retry(&format!("validate {id}: connecting"), || {
                build(
                    &spec,
                    settings,
                    config.clone(),
                    RevocationStrategy::None,
                    clock.clone(),
                )
            })
        };
        let live = |scheme: &dyn TokenScheme, set, rng: &mut _| {
            let tokens = remote.issue_many(scheme, live_sessions.max(1), set, rng)?;
            let token = tokens[tokens.len() / 2].clone();
            remote.retry("validate: checking the token", || {
                check_valid(scheme, &token)
            })?;
            Ok::<_, WorkloadError>((tokens, token))
        };
        let mut sets = Vec::new();
        for set in ClaimSet::ALL {
            let mut rng = settings.rng(2);
            let fixed = connect(config(false))?;
            let (_, fixed_token) = live(fixed.as_ref(), set, &mut rng)?;
            let sliding = connect(config(true))?;
            let (_, sliding_token) = live(sliding.as_ref(), set, &mut rng)?;
            sets.push(SessionSet {
                set,
                fixed,
                fixed_token,
                sliding,
                sliding_token,
                issuer: connect(config(false))?,
                input: claims(set, &mut rng),
            });
        }
        let mut rng = settings.rng(2);
        let reject = connect(config(false))?;
        let (tokens, _) = live(reject.as_ref(), ClaimSet::Typical, &mut rng)?;
        let unknown = URL_SAFE_NO_PAD.encode([0x5a_u8; 16]);
        expect_rejected(reject.as_ref(), &unknown)?;
        let revoked = tokens[0].clone();
        remote.retry("validate: revoking", || Ok(reject.revoke(&revoked)?))?;
        expect_rejected(reject.as_ref(), &revoked)?;
        Ok(SessionFixture {
            id,
            remote,
            server,
            sets,
            reject,
            unknown,
            revoked,
        })
    }

    /// The rows of this scheme.
    pub(super) fn plan<'a>(&'a self, rows: &mut Vec<Planned<'a>>) {
        let site = Site {
            scheme: self.id,
            backend: None,
            remote: self.remote.is_remote().then_some(&self.remote),
            server: self.server.as_ref(),
        };
        for s in &self.sets {
            rows.push(site.row(Operation::Validate, s.set, accept, || {
                s.fixed.validate(&s.fixed_token)
            }));
            rows.push(site.row(Operation::ValidateSliding, s.set, accept, || {
                s.sliding.validate(&s.sliding_token)
            }));
            rows.push(site.row(Operation::Issue, s.set, issued, || s.issuer.issue(&s.input)));
        }
        let typical = ClaimSet::Typical;
        rows.push(site.row(Operation::RejectUnknown, typical, refuse, || {
            self.reject.validate(&self.unknown)
        }));
        rows.push(site.row(Operation::RejectRevoked, typical, refuse, || {
            self.reject.validate(&self.revoked)
        }));
    }
}

/// A scheme whose tokens carry their claims (a JWT algorithm, a PASETO purpose), ready to
/// be measured; for a JWT, the stages of its validate too.
pub(super) struct TokenFixture {
    id: SchemeId,
    backend: Option<CryptoBackend>,
    scheme: Arc<dyn TokenScheme>,
    sets: Vec<(ClaimSet, Claims, String)>,
    /// Issued by the same scheme with other keys.
    forged: String,
    with_denylist: Arc<dyn TokenScheme>,
    revoked: String,
    /// A JWT's validate, stage by stage, on a token of typical claims.
    breakdown: Option<(JwtScheme, String)>,
}

impl TokenFixture {
    /// Fresh keys for `spec`, a token per claim set, a forgery and a revoked token.
    pub(super) fn build(spec: &SchemeSpec, settings: &Settings) -> WorkloadResult<TokenFixture> {
        let clock: Arc<dyn Clock> = Arc::new(CoarseClock);
        let mut rng = settings.rng(3);
        let generate = || {
            SchemeKeys::generate(spec)?.ok_or_else(|| WorkloadError::Broken {
                scheme: spec.name(),
                what: "a scheme without keys of its own is not a token fixture".into(),
            })
        };
        let keys = generate()?;
        let scheme = keys.build(
            settings.jwt_config(),
            RevocationStrategy::None,
            clock.clone(),
        );
        let mut sets = Vec::new();
        for set in ClaimSet::ALL {
            let input = claims(set, &mut rng);
            let token = scheme.issue(&input)?;
            expect_valid(scheme.as_ref(), &token)?;
            sets.push((set, input, token));
        }
        let input = claims(ClaimSet::Typical, &mut rng);
        let stranger = generate()?.build(
            settings.jwt_config(),
            RevocationStrategy::None,
            clock.clone(),
        );
        let forged = stranger.issue(&input)?;
        expect_rejected(scheme.as_ref(), &forged)?;
        let with_denylist = keys.build(
            settings.jwt_config(),
            RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new())),
            clock.clone(),
        );
        let revoked = with_denylist.issue(&input)?;
        with_denylist.revoke(&revoked)?;
        expect_rejected(with_denylist.as_ref(), &revoked)?;
        let breakdown = match &keys {
            SchemeKeys::Jwt(jwt_keys) => {
                let jwt = JwtScheme::with_keys(
                    jwt_keys.clone(),
                    settings.jwt_config(),
                    RevocationStrategy::None,
                    clock,
                );
                let token = jwt.issue(&input)?;
                for stage in [
                    JwtScheme::stage_header,
                    JwtScheme::stage_signature,
                    JwtScheme::stage_claims,
                ] {
                    stage(&jwt, &token).map_err(|r| WorkloadError::Broken {
                        scheme: jwt.name(),
                        what: format!("breakdown: a stage refused a valid token: {r}"),
                    })?;
                }
                Some((jwt, token))
            }
            SchemeKeys::Paseto(_) => None,
        };
        Ok(TokenFixture {
            id: spec.id(),
            backend: spec
                .capabilities()
                .per_crypto_backend
                .then_some(settings.backend),
            scheme,
            sets,
            forged,
            with_denylist,
            revoked,
            breakdown,
        })
    }

    /// The rows of this scheme.
    pub(super) fn plan<'a>(&'a self, rows: &mut Vec<Planned<'a>>) {
        let site = Site {
            scheme: self.id,
            backend: self.backend,
            remote: None,
            server: None,
        };
        for (set, input, token) in &self.sets {
            rows.push(site.row(Operation::Validate, *set, accept, || {
                self.scheme.validate(token)
            }));
            rows.push(site.row(Operation::Issue, *set, issued, || self.scheme.issue(input)));
        }
        let typical = ClaimSet::Typical;
        rows.push(site.row(Operation::RejectUnknown, typical, refuse, || {
            self.scheme.validate(&self.forged)
        }));
        rows.push(site.row(Operation::RejectRevoked, typical, refuse, || {
            self.with_denylist.validate(&self.revoked)
        }));
        if let Some((s, t)) = &self.breakdown {
            let t = t.as_str();
            rows.push(site.reference(Operation::JwtHeaderDecode, move || s.stage_header(t)));
            rows.push(site.reference(Operation::JwtSignatureCheck, move || s.stage_signature(t)));
            rows.push(site.reference(Operation::JwtClaimsDecode, move || s.stage_claims(t)));
        }
    }
}

/// A bare DashMap get of the same key, in a map holding as many records as the store,
/// beside the parts of a session lookup (the ID check, the clock read).
pub(super) struct MapReference {
    scheme: SessionScheme<MemoryStore>,
    map: DashMap<String, SessionRecord>,
    key: String,
}

impl MapReference {
    pub(super) fn build(settings: &Settings, live_sessions: usize) -> WorkloadResult<MapReference> {
        let mut rng = settings.rng(2);
        let scheme = SessionScheme::new(MemoryStore::new(), config(false), Arc::new(CoarseClock));
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
        Ok(MapReference { scheme, map, key })
    }

    pub(super) fn plan<'a>(&'a self, rows: &mut Vec<Planned<'a>>) {
        let site = Site {
            scheme: SESSION_MEMORY,
            backend: None,
            remote: None,
            server: None,
        };
        let key = self.key.as_str();
        rows.push(site.reference(Operation::SessionIdCheck, move || {
            self.scheme.check_syntax(key)
        }));
        rows.push(site.reference(Operation::ClockRead, || CoarseClock.now()));
        rows.push(site.reference(Operation::RefMapGet, move || {
            self.map.get(key).map(|r| r.value().clone())
        }));
    }
}

/// A bare `jsonwebtoken::decode` (the crate's own validation, same key) and a bare
/// HMAC-SHA256 of the signing input, beside the HS256 scheme.
pub(super) struct DecodeReference {
    scheme: JwtScheme,
    token: String,
    message: String,
    validation: Validation,
}

impl DecodeReference {
    pub(super) fn build(settings: &Settings) -> WorkloadResult<DecodeReference> {
        let mut rng = settings.rng(3);
        let scheme = JwtScheme::new(
            JwtAlg::HS256,
            settings.jwt_config(),
            RevocationStrategy::None,
            Arc::new(CoarseClock),
        )?;
        let token = scheme.issue(&claims(ClaimSet::Typical, &mut rng))?;
        let validation = scheme.validation();
        if jsonwebtoken::decode::<WireClaims>(&token, scheme.keys().decoding_key(), &validation)
            .is_err()
        {
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
        Ok(DecodeReference {
            scheme,
            token,
            message,
            validation,
        })
    }

    pub(super) fn plan<'a>(&'a self, backend: CryptoBackend, rows: &mut Vec<Planned<'a>>) {
        let site = Site {
            scheme: JWT_HS256,
            backend: Some(backend),
            remote: None,
            server: None,
        };
        let key = self.scheme.keys().decoding_key();
        rows.push(site.reference(Operation::RefJwtDecode, move || {
            jsonwebtoken::decode::<WireClaims>(&self.token, key, &self.validation)
        }));
        // Generated keys always hold their signing key (only verify-only keys lack one).
        if let Some(enc) = self.scheme.keys().encoding_key() {
            rows.push(site.reference(Operation::RefHmacSha256, move || {
                jsonwebtoken::crypto::sign(
                    self.message.as_bytes(),
                    enc,
                    jsonwebtoken::Algorithm::HS256,
                )
            }));
        }
    }
}
