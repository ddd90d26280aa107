//! The verdict of each row of the seed table, computed from the measured figures by a rule
//! stated in words ([`rule`]) beside it in the report. Every function takes the results it
//! needs as `Option`s: a missing workload gives [`Verdict::NotMeasured`], never a guess.
//!
//! Thresholds are constants so that the rule text and the code cannot disagree.

use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::results::schema::revoke::RevokeResults;
use crate::results::schema::revoke::Strategy;
use crate::results::schema::scale::ScaleResults;
use crate::results::schema::size::Entry;
use crate::results::schema::size::SizeResults;
use crate::results::schema::validate::{Operation, ValidateResults, ValidateRow};
use crate::scheme::spec::{SchemeId, StoreKind};
use crate::units;

/// Row 2: a JWT must cost at least this many times a session validate to count as
/// clearly more expensive.
pub const CPU_FACTOR: f64 = 2.0;
/// Row 3: one family scales worse when its best scaling ratio is below this share of the
/// other family's worst.
pub const SCALE_MARGIN: f64 = 0.8;
/// Row 5: expiry-only must keep a token alive at least this many times longer (median)
/// than the central session store's p99 for "hard to revoke" to hold.
pub const EXPIRY_FACTOR: f64 = 1000.0;
/// Row 5: a denylist counts as fast when its p99 is within this factor of the central
/// session store's p99...
pub const DENYLIST_FACTOR: f64 = 10.0;
/// ...and it adds at most this share to the JWT validate cost.
pub const DENYLIST_ADDED_SHARE: f64 = 0.25;
/// Row 6: sliding expiry counts as cheap when it adds at most this share to the same
/// store's fixed-deadline validate.
pub const SLIDING_SHARE: f64 = 0.5;

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
}

impl Judgement {
    fn new(verdict: Verdict, because: impl Into<String>) -> Judgement {
        Judgement {
            verdict,
            because: because.into(),
        }
    }

    fn missing(what: impl Into<String>) -> Judgement {
        Judgement::new(Verdict::NotMeasured, what)
    }
}

/// The embedded session store, the CPU row's session baseline when measured.
pub const SESSION_MEMORY: SchemeId = SchemeId::Session(StoreKind::Memory);

/// The rule of row `n` (1..=7), in words, with the thresholds the code uses.
pub fn rule(n: usize) -> String {
    match n {
        1 => "confirmed if, for every claim set, every JWT's `Cookie:` header is larger than every \
              session's; contradicted if, for every claim set, no JWT's is; nuanced otherwise"
            .into(),
        2 => format!(
            "r = JWT validate median ÷ session validate median (typical claims; session-memory, else \
             the first session store). Confirmed if r ≥ {CPU_FACTOR} for every algorithm and backend and, \
             for each algorithm measured on two crypto backends, the backend gap (slower ÷ faster) is \
             smaller than that algorithm's r on the faster one; contradicted if r ≤ 1 for every one; \
             nuanced otherwise"
        ),
        3 => format!(
            "S = ops/s at the most threads ÷ ops/s at the fewest, per scheme, backend and working set. \
             Confirmed if every session S < {SCALE_MARGIN} × the lowest JWT S and, when server memory was \
             measured, sessions keep bytes per session while JWTs keep none per token; contradicted if \
             every JWT S < {SCALE_MARGIN} × the lowest session S, or if the server keeps as many bytes per \
             issued JWT as per session; nuanced otherwise"
        ),
        4 => "confirmed if every JWT exposes claims bytes to anyone holding it and every session token \
              exposes none and carries ≥ 128 random bits; contradicted if no JWT exposes claims or a \
              session token does; nuanced otherwise"
            .into(),
        5 => format!(
            "confirmed if `jwt-expiry-only` keeps a revoked token accepted (median) ≥ {EXPIRY_FACTOR} × \
             the p99 latency of `session-central` and no JWT denylist strategy is fast (p99 ≤ \
             {DENYLIST_FACTOR} × session-central's, no failed trial, adding ≤ {} to the JWT validate \
             cost); nuanced if one is; contradicted if expiry-only is not that much slower",
            units::percent(DENYLIST_ADDED_SHARE)
        ),
        6 => format!(
            "Δ = validate with sliding expiry − validate with a fixed deadline, per session store \
             (typical claims): the store write sliding expiry adds to the lookup it rides on. \
             Confirmed if Δ ≤ {} of the same store's fixed-deadline validate for every store measured \
             both ways; nuanced otherwise, naming the stores over it. Never contradicted: the run \
             prices server-side expiry but cannot show that expiry is not kept server-side (a store \
             without both rows is named and not judged). Enforcement at the deadline is shown by tests, not by \
             this run: `expiry_boundary_accepts_just_before_and_rejects_at_and_after` (every scheme), \
             `exp_equal_to_now_is_expired_at_zero_leeway` (JWT)",
            units::percent(SLIDING_SHARE)
        ),
        7 => "contradicted if a JWT's `Authorization: Bearer` header exceeds the header limit; confirmed \
              if every JWT header fits and no session token fits the same limits (only a JWT could use \
              the header); nuanced if both tokens fit both transports (crossing origins is then a choice \
              of transport, not of token) or a JWT fits the header but not the cookie limit"
            .into(),
        _ => String::new(),
    }
}

fn join(parts: &[String]) -> String {
    parts.join("; ")
}

/// Row 1, bandwidth.
pub fn bandwidth(size: Option<&SizeResults>) -> Judgement {
    let Some(s) = size else {
        return Judgement::missing("size.json is not in this run");
    };
    let (mut compared, mut all_larger, mut none_larger) = (0, true, true);
    let mut parts = Vec::new();
    for set in ClaimSet::ALL {
        let of = |jwt: bool| {
            s.rows
                .iter()
                .filter(move |r| r.claims == set && r.scheme.is_jwt() == jwt)
                .filter(move |r| jwt || r.scheme.is_session())
                .map(|r| r.cookie_header_bytes)
        };
        let (Some(j_min), Some(j_max)) = (of(true).min(), of(true).max()) else {
            continue;
        };
        let (Some(s_min), Some(s_max)) = (of(false).min(), of(false).max()) else {
            continue;
        };
        compared += 1;
        all_larger &= j_min > s_max;
        none_larger &= j_max <= s_min;
        parts.push(format!(
            "{}: JWT {}–{} vs session {} ({} to {})",
            set.name(),
            units::bytes(j_min as f64),
            units::bytes(j_max as f64),
            units::bytes(s_max as f64),
            units::ratio(j_min as f64 / s_max.max(1) as f64),
            units::ratio(j_max as f64 / s_max.max(1) as f64),
        ));
    }
    if compared == 0 {
        return Judgement::missing("size.json lacks sessions or JWTs for a common claim set");
    }
    let verdict = if all_larger {
        Verdict::Confirmed
    } else if none_larger {
        Verdict::Contradicted
    } else {
        Verdict::Nuanced
    };
    Judgement::new(verdict, format!("`Cookie:` header bytes, {}", join(&parts)))
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

/// A validate of typical claims, the operation the CPU row compares.
fn typical_validate(r: &ValidateRow) -> bool {
    r.operation == Operation::Validate && r.claims == ClaimSet::Typical
}

/// The session validate the CPU row compares with: session-memory, else the first session
/// store, typical claims; only rows without failed operations.
pub fn session_baseline(v: &ValidateResults) -> Option<&ValidateRow> {
    let typical = |r: &&ValidateRow| typical_validate(r) && r.scheme.is_session() && clean(r);
    v.rows
        .iter()
        .filter(typical)
        .find(|r| r.scheme == SESSION_MEMORY)
        .or_else(|| v.rows.iter().find(typical))
}

fn jwt_validates(v: &ValidateResults) -> impl Iterator<Item = &ValidateRow> {
    v.rows
        .iter()
        .filter(|r| typical_validate(r) && r.scheme.is_jwt() && clean(r))
}

fn median(r: &ValidateRow) -> f64 {
    r.measurement.wall.median_ns
}

/// `scheme backend`, or the scheme alone when the row has no backend.
pub(crate) fn with_backend(r: &ValidateRow) -> String {
    match r.backend {
        Some(b) => format!("{} {b}", r.scheme),
        None => r.scheme.to_string(),
    }
}

/// Row 2, CPU.
pub fn cpu(validate: Option<&ValidateResults>) -> Judgement {
    let Some(v) = validate else {
        return Judgement::missing("validate.json is not in this run");
    };
    let Some(base) = session_baseline(v) else {
        return Judgement::missing(format!(
            "validate.json has no session validate row (typical claims) without failed operations{}",
            failed_rows(v, typical_validate)
        ));
    };
    let jwts: Vec<&ValidateRow> = jwt_validates(v).collect();
    if jwts.is_empty() {
        return Judgement::missing(format!(
            "validate.json has no JWT validate row (typical claims) without failed operations{}",
            failed_rows(v, typical_validate)
        ));
    }
    let b = median(base);
    let ratios: Vec<(String, f64)> = jwts
        .iter()
        .map(|r| (with_backend(r), median(r) / b))
        .collect();
    // Per algorithm on two backends: does the library matter more than the scheme?
    let mut backend_notes = Vec::new();
    let mut library_dominates = false;
    let mut schemes: Vec<SchemeId> = Vec::new();
    for r in &jwts {
        if !schemes.contains(&r.scheme) {
            schemes.push(r.scheme);
        }
    }
    for scheme in schemes {
        let rows: Vec<&&ValidateRow> = jwts.iter().filter(|r| r.scheme == scheme).collect();
        if rows.len() < 2 {
            continue;
        }
        let fast = rows.iter().map(|r| median(r)).fold(f64::INFINITY, f64::min);
        let slow = rows.iter().map(|r| median(r)).fold(0.0, f64::max);
        let gap = slow / fast;
        let r_fast = fast / b;
        if gap > r_fast {
            library_dominates = true;
        }
        backend_notes.push(format!(
            "{scheme} backend gap {} {} its r {}",
            units::ratio(gap),
            if gap > r_fast { ">" } else { "<" },
            units::ratio(r_fast)
        ));
    }
    let all_clear = ratios.iter().all(|(_, r)| *r >= CPU_FACTOR);
    let verdict = if ratios.iter().all(|(_, r)| *r <= 1.0) {
        Verdict::Contradicted
    } else if all_clear && !library_dominates {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "r against {} validate {}: {}",
        base.scheme,
        units::ns(b),
        ratios
            .iter()
            .map(|(n, r)| format!("{n} {}", units::ratio(*r)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let close: Vec<&str> = ratios
        .iter()
        .filter(|(_, r)| *r < CPU_FACTOR)
        .map(|(n, _)| n.as_str())
        .collect();
    if !close.is_empty() {
        because.push_str(&format!("; within ×{CPU_FACTOR}: {}", close.join(", ")));
    }
    if !backend_notes.is_empty() {
        because.push_str(&format!("; {}", backend_notes.join(", ")));
    }
    because.push_str(&failed_rows(v, typical_validate));
    Judgement::new(verdict, because)
}

/// Scaling ratio of one line of the scale workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    /// The scheme.
    pub scheme: SchemeId,
    /// Crypto backend (JWTs).
    pub backend: Option<CryptoBackend>,
    /// Working set (sessions).
    pub sessions: Option<usize>,
    /// ops/s at the fewest threads.
    pub low_ops: f64,
    /// ops/s at the most threads.
    pub high_ops: f64,
}

impl Scaling {
    /// `high_ops / low_ops`.
    pub fn ratio(&self) -> f64 {
        self.high_ops / self.low_ops
    }

    /// `scheme [backend] [N sessions]`.
    pub fn label(&self) -> String {
        let mut s = self.scheme.to_string();
        if let Some(b) = &self.backend {
            s.push_str(&format!(" {b}"));
        }
        if let Some(n) = self.sessions {
            s.push_str(&format!(" {} sessions", units::count_tick(n as f64)));
        }
        s
    }
}

/// The fewest and the most threads of the scale workload, and each line's scaling.
pub fn scaling(s: &ScaleResults) -> Option<(usize, usize, Vec<Scaling>)> {
    let lo = s.points.iter().map(|p| p.threads).min()?;
    let hi = s.points.iter().map(|p| p.threads).max()?;
    if lo == hi {
        return None;
    }
    let mut out: Vec<Scaling> = Vec::new();
    for p in s.points.iter().filter(|p| p.threads == lo) {
        let high = s.points.iter().find(|q| {
            q.threads == hi
                && q.scheme == p.scheme
                && q.backend == p.backend
                && q.sessions == p.sessions
        });
        if let Some(q) = high
            && p.ops_per_sec > 0.0
        {
            out.push(Scaling {
                scheme: p.scheme,
                backend: p.backend,
                sessions: p.sessions,
                low_ops: p.ops_per_sec,
                high_ops: q.ops_per_sec,
            });
        }
    }
    Some((lo, hi, out))
}

fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

/// Row 3, scalability.
pub fn scalability(scale: Option<&ScaleResults>, size: Option<&SizeResults>) -> Judgement {
    let Some(s) = scale else {
        return Judgement::missing("scale.json is not in this run");
    };
    let Some((lo, hi, lines)) = scaling(s) else {
        return Judgement::missing("scale.json has a single thread count: no scaling to compare");
    };
    let ratios = |jwt: bool| -> Vec<f64> {
        lines
            .iter()
            .filter(|l| {
                if jwt {
                    l.scheme.is_jwt()
                } else {
                    l.scheme.is_session()
                }
            })
            .map(Scaling::ratio)
            .collect()
    };
    let (sessions, jwts) = (ratios(false), ratios(true));
    if sessions.is_empty() || jwts.is_empty() {
        return Judgement::missing("scale.json lacks sessions or JWTs at both thread counts");
    }
    let (s_min, s_max) = range(&sessions);
    let (j_min, j_max) = range(&jwts);
    let mut because = format!(
        "S from {lo} to {hi} threads on {} cores: sessions {}–{}, JWT {}–{}",
        s.cores,
        units::ratio(s_min),
        units::ratio(s_max),
        units::ratio(j_min),
        units::ratio(j_max)
    );
    // Server state, from the size workload's memory rows when measured.
    let memory = size.map(|z| z.memory.as_slice()).unwrap_or_default();
    let per = |entry: Entry| -> Vec<f64> {
        memory
            .iter()
            .filter(|m| m.entry == entry)
            .map(|m| m.bytes_per_entry)
            .collect()
    };
    let (per_session, per_jwt) = (per(Entry::Session), per(Entry::IssuedJwt));
    let state = if per_session.is_empty() || per_jwt.is_empty() {
        because.push_str("; server memory per session not measured");
        None
    } else {
        let (ps_min, ps_max) = range(&per_session);
        let (_, pj_max) = range(&per_jwt);
        because.push_str(&format!(
            "; server heap {}–{} per session, {} per issued JWT",
            units::bytes(ps_min.round()),
            units::bytes(ps_max.round()),
            units::bytes(pj_max.round())
        ));
        Some((ps_min, pj_max))
    };
    let state_holds = state.is_none_or(|(ps_min, pj_max)| ps_min > 0.0 && pj_max < ps_min);
    let state_fails = state.is_some_and(|(ps_min, pj_max)| pj_max >= ps_min);
    let verdict = if state_fails || j_max < SCALE_MARGIN * s_min {
        Verdict::Contradicted
    } else if s_max < SCALE_MARGIN * j_min && state_holds {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    Judgement::new(verdict, because)
}

/// Row 4, data privacy.
pub fn privacy(size: Option<&SizeResults>) -> Judgement {
    let Some(s) = size else {
        return Judgement::missing("size.json is not in this run");
    };
    let jwts: Vec<_> = s.rows.iter().filter(|r| r.scheme.is_jwt()).collect();
    let sessions: Vec<_> = s.rows.iter().filter(|r| r.scheme.is_session()).collect();
    if jwts.is_empty() || sessions.is_empty() {
        return Judgement::missing("size.json lacks sessions or JWTs");
    }
    let jwt_all = jwts.iter().all(|r| r.readable_payload_bytes > 0);
    let jwt_none = jwts.iter().all(|r| r.readable_payload_bytes == 0);
    let session_opaque = sessions.iter().all(|r| r.readable_payload_bytes == 0);
    let min_bits = sessions.iter().map(|r| r.random_bits).min().unwrap_or(0);
    let readable: Vec<usize> = jwts.iter().map(|r| r.readable_payload_bytes).collect();
    let mut names: Vec<&str> = jwts
        .iter()
        .flat_map(|r| r.readable_claims.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let session_max = sessions
        .iter()
        .map(|r| r.readable_payload_bytes)
        .max()
        .unwrap_or(0);
    let verdict = if jwt_none || !session_opaque {
        Verdict::Contradicted
    } else if jwt_all && min_bits >= 128 {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    Judgement::new(
        verdict,
        format!(
            "JWT: {}–{} of claims readable without a key ({}); session tokens: {} readable, {} random bits \
             (fewest)",
            units::bytes(*readable.iter().min().unwrap_or(&0) as f64),
            units::bytes(*readable.iter().max().unwrap_or(&0) as f64),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            },
            units::bytes(session_max as f64),
            min_bits
        ),
    )
}

/// Row 5, revocation.
pub fn revocation(revoke: Option<&RevokeResults>) -> Judgement {
    let Some(r) = revoke else {
        return Judgement::missing("revoke.json is not in this run");
    };
    let ran = |s: Strategy| r.strategy(s).filter(|s| s.latency.samples > 0);
    let (Some(central), Some(expiry)) =
        (ran(Strategy::SessionCentral), ran(Strategy::JwtExpiryOnly))
    else {
        return Judgement::missing(
            "revoke.json lacks a successful session-central or jwt-expiry-only strategy",
        );
    };
    let c99 = central.latency.p99_ns;
    let hard = expiry.latency.median_ns >= EXPIRY_FACTOR * c99;
    let jwt_cost = expiry.validate_cost.wall.median_ns;
    let mut fast = Vec::new();
    let mut notes = Vec::new();
    for s in r.strategies.iter().filter(|s| s.strategy.is_denylist()) {
        if s.latency.samples == 0 {
            notes.push(format!("{}: no trial succeeded", s.strategy));
            continue;
        }
        let share = s.added_cost_ns / jwt_cost;
        let is_fast = s.errors == 0
            && s.latency.p99_ns <= DENYLIST_FACTOR * c99
            && share <= DENYLIST_ADDED_SHARE;
        notes.push(format!(
            "{} p99 {} ({} session-central), {} per request ({}){}{}",
            s.strategy,
            units::ns(s.latency.p99_ns),
            units::ratio(s.latency.p99_ns / c99),
            units::ns_delta(s.added_cost_ns),
            units::percent(share),
            if s.added_cost_ns < 0.0 {
                " (negative: a denylist check cannot make validate faster, so this is noise)"
            } else {
                ""
            },
            if s.errors > 0 {
                format!(", {} failed trials", s.errors)
            } else {
                String::new()
            }
        ));
        if is_fast {
            fast.push(s.strategy.name());
        }
    }
    let verdict = if !hard {
        Verdict::Contradicted
    } else if fast.is_empty() {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "jwt-expiry-only median {} (lifetime {}, {} clock) vs session-central p99 {} ({})",
        units::ns(expiry.latency.median_ns),
        units::ns(r.jwt_lifetime_s * 1e9),
        expiry.clock,
        units::ns(c99),
        units::ratio(expiry.latency.median_ns / c99)
    );
    if !notes.is_empty() {
        because.push_str(&format!("; {}", notes.join("; ")));
    }
    if !fast.is_empty() {
        because.push_str(&format!(
            "; fast denylists: {} (a shared lookup per request again)",
            fast.join(", ")
        ));
    }
    Judgement::new(verdict, because)
}

/// A session validate of typical claims, with or without sliding expiry (row 6's pair).
fn sliding_pair(r: &ValidateRow) -> bool {
    matches!(
        r.operation,
        Operation::Validate | Operation::ValidateSliding
    ) && r.claims == ClaimSet::Typical
        && r.scheme.is_session()
}

/// Row 6, expiry.
///
/// The article's row is about where expiry lives: a JWT carries `exp`, a session's
/// deadline is kept and enforced by the server. What a run measures of it is the price of
/// keeping the deadline server-side when it slides: a store write per request. Each session
/// store's sliding-expiry validate is judged against that store's own fixed-deadline
/// validate, the lookup the write rides on, so a network store is weighed against its own
/// round trip and not against an in-process signature check. Enforcement at the deadline is
/// shown by tests (named in [`rule`]), not by a run.
///
/// This row can only be confirmed or nuanced (or not measured): no figure of a run
/// contradicts it. A costly sliding write is the price of server-side expiry, not evidence
/// against it; whether a session validate, sliding or not, costs more than a JWT validate is
/// row 2's question; a store measured without its sliding row is a missing figure, named in
/// the reason; a sliding validate cheaper than the fixed one is noise, named as such.
pub fn expiry(validate: Option<&ValidateResults>) -> Judgement {
    let Some(v) = validate else {
        return Judgement::missing("validate.json is not in this run");
    };
    // Every session store with either row, in order of first appearance.
    let mut stores: Vec<(SchemeId, Option<CryptoBackend>)> = Vec::new();
    for r in v.rows.iter().filter(|r| sliding_pair(r)) {
        let key = (r.scheme, r.backend);
        if !stores.contains(&key) {
            stores.push(key);
        }
    }
    let mut parts = Vec::new();
    let (mut over, mut unmeasured, mut noise) = (Vec::new(), Vec::new(), Vec::new());
    for (scheme, backend) in stores {
        let find = |op| {
            v.find(scheme, op, ClaimSet::Typical, backend)
                .filter(|r| clean(r))
        };
        let (Some(fixed), Some(sliding)) =
            (find(Operation::Validate), find(Operation::ValidateSliding))
        else {
            unmeasured.push(scheme.to_string());
            continue;
        };
        let delta = median(sliding) - median(fixed);
        let share = delta / median(fixed);
        // A share that is not a number (a zero fixed cost) is not cheap either.
        if share.is_nan() || share > SLIDING_SHARE {
            over.push(format!("{scheme} {}", units::percent(share)));
        }
        if delta < 0.0 {
            noise.push(scheme.to_string());
        }
        parts.push(format!(
            "{scheme} {} ({}: {} → {})",
            units::ns_delta(delta),
            units::percent(share),
            units::ns(median(fixed)),
            units::ns(median(sliding))
        ));
    }
    if parts.is_empty() {
        return Judgement::missing(format!(
            "validate.json has no session validate with and without sliding expiry{}",
            failed_rows(v, sliding_pair)
        ));
    }
    let verdict = if over.is_empty() {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "sliding expiry per request, against the same store's fixed-deadline validate: {}",
        join(&parts)
    );
    if !over.is_empty() {
        because.push_str(&format!(
            "; over {} of the lookup: {}",
            units::percent(SLIDING_SHARE),
            over.join(", ")
        ));
    }
    if !noise.is_empty() {
        because.push_str(&format!(
            "; negative for {} (a store write cannot make validate faster, so this is noise)",
            noise.join(", ")
        ));
    }
    if !unmeasured.is_empty() {
        because.push_str(&format!(
            "; not measured both ways, so not judged: {}",
            unmeasured.join(", ")
        ));
    }
    because.push_str(&failed_rows(v, sliding_pair));
    Judgement::new(verdict, because)
}

/// Row 7, cross-domain.
pub fn cross_domain(size: Option<&SizeResults>) -> Judgement {
    let Some(s) = size else {
        return Judgement::missing("size.json is not in this run");
    };
    let jwts: Vec<_> = s.rows.iter().filter(|r| r.scheme.is_jwt()).collect();
    let sessions: Vec<_> = s.rows.iter().filter(|r| r.scheme.is_session()).collect();
    if jwts.is_empty() || sessions.is_empty() {
        return Judgement::missing("size.json lacks sessions or JWTs");
    }
    let limit = s.header_limit_bytes;
    let over: Vec<String> = jwts
        .iter()
        .filter(|r| r.authorization_header_bytes > limit)
        .map(|r| format!("{} {}", r.scheme, r.claims.name()))
        .collect();
    let cookie_too_big = jwts.iter().any(|r| !r.fits_cookie_limit);
    let session_fits = sessions
        .iter()
        .all(|r| r.authorization_header_bytes <= limit && r.fits_cookie_limit);
    let max_by = |rows: &[&crate::results::schema::size::SizeRow],
                  f: fn(&crate::results::schema::size::SizeRow) -> usize| {
        rows.iter().map(|r| f(r)).max().unwrap_or(0)
    };
    let verdict = if !over.is_empty() {
        Verdict::Contradicted
    } else if !session_fits && !cookie_too_big {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "largest JWT `Authorization:` header {} of {} ({}), largest JWT `Set-Cookie:` {}; session \
         `Authorization:` {}, `Set-Cookie:` {}; cookie limit {}",
        units::bytes(max_by(&jwts, |r| r.authorization_header_bytes) as f64),
        units::bytes(limit as f64),
        units::percent(max_by(&jwts, |r| r.authorization_header_bytes) as f64 / limit as f64),
        units::bytes(max_by(&jwts, |r| r.set_cookie_header_bytes) as f64),
        units::bytes(max_by(&sessions, |r| r.authorization_header_bytes) as f64),
        units::bytes(max_by(&sessions, |r| r.set_cookie_header_bytes) as f64),
        units::bytes(s.cookie_limit_bytes as f64),
    );
    if !over.is_empty() {
        because.push_str(&format!("; over the header limit: {}", over.join(", ")));
    }
    if cookie_too_big {
        because.push_str("; some JWT cookies exceed the cookie limit (header transport only)");
    }
    if session_fits && over.is_empty() {
        because.push_str("; both tokens fit both transports");
    }
    Judgement::new(verdict, because)
}
