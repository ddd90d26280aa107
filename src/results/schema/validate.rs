//! `validate.json`: the per-request cost of each scheme's operations, the reference floors
//! beside them, the JWT breakdown and the budget checks. The breakdown's parts are paired
//! with their whole here ([`ValidateResults::breakdown`]), once, for `summary.csv`, the
//! charts and the tables alike.

use serde::{Deserialize, Serialize};

use super::{ResultFile, SummaryRow};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::measure::Measurement;
use crate::measure::rounds::Spread;
use crate::scheme::spec::SchemeId;

/// What a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `validate` of a valid token (sessions: fixed idle deadline, no store write).
    Validate,
    /// `validate` of a valid session with sliding expiry (a store write per request).
    ValidateSliding,
    /// `issue` of a new token.
    Issue,
    /// `validate` of a token the scheme never issued (session: unknown ID; JWT: signed
    /// with another key).
    RejectUnknown,
    /// `validate` of a revoked token (JWT: with a central in-memory denylist).
    RejectRevoked,
    /// Reference: `DashMap::get` of the same key, cloning the record handle.
    RefMapGet,
    /// Reference: bare `jsonwebtoken::decode` with the scheme's own validation.
    RefJwtDecode,
    /// Reference: HMAC-SHA256 of the signing input (`jsonwebtoken::crypto::sign`).
    RefHmacSha256,
    /// Breakdown: the whole session ID syntax check (length and alphabet). A Redis store
    /// runs it before every lookup; an in-process store checks only the length before the
    /// lookup and the alphabet after a miss, so a hit skips most of it.
    SessionIdCheck,
    /// Breakdown: one read of the clock the schemes use (coarse real-time clock).
    ClockRead,
    /// Breakdown: the strict header parse and policy check the scheme runs
    /// ([`JoseHeader::parse_checked`](crate::scheme::jwt::JoseHeader::parse_checked)).
    JwtHeaderDecode,
    /// Breakdown: base64url decode and JSON parse of the claims.
    JwtClaimsDecode,
    /// Breakdown: signature check (`jsonwebtoken::crypto::verify`).
    JwtSignatureCheck,
}

impl Operation {
    /// Name used in results and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Validate => "validate",
            Operation::ValidateSliding => "validate_sliding",
            Operation::Issue => "issue",
            Operation::RejectUnknown => "reject_unknown",
            Operation::RejectRevoked => "reject_revoked",
            Operation::RefMapGet => "ref_map_get",
            Operation::RefJwtDecode => "ref_jwt_decode",
            Operation::RefHmacSha256 => "ref_hmac_sha256",
            Operation::SessionIdCheck => "session_id_check",
            Operation::ClockRead => "clock_read",
            Operation::JwtHeaderDecode => "jwt_header_decode",
            Operation::JwtClaimsDecode => "jwt_claims_decode",
            Operation::JwtSignatureCheck => "jwt_signature_check",
        }
    }
}

/// The stages of a JWT validate the breakdown measures, in the order they run.
pub const BREAKDOWN: [Operation; 3] = [
    Operation::JwtHeaderDecode,
    Operation::JwtClaimsDecode,
    Operation::JwtSignatureCheck,
];

/// A breakdown part paired with its whole validate, measured in the same rounds: the median
/// of its per-round shares of the whole (each round's part median over that round's whole
/// median), times the whole's median. A round that disturbs the part but not the whole (or
/// the reverse) then cannot put a part above its whole, as the parts' own medians can.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// The part's figure, ns: the median share times the whole's median; the part's own
    /// median when the rows have no rounds in common.
    pub median: f64,
    /// The smallest and largest per-round share, times the whole's median (`None` without
    /// rounds).
    pub spread: Option<(f64, f64)>,
    /// The per-round shares of the whole (`None` without rounds).
    pub share: Option<Spread>,
}

impl Paired {
    /// `part` paired with `whole`: per-round figures (wall or CPU) and the medians.
    fn of(part: &[f64], whole: &[f64], part_median: f64, whole_median: f64) -> Paired {
        let share = (!part.is_empty() && part.len() == whole.len())
            .then(|| {
                let shares: Vec<f64> = part
                    .iter()
                    .zip(whole)
                    .filter(|(_, w)| **w > 0.0)
                    .map(|(p, w)| p / w)
                    .collect();
                Spread::of(&shares)
            })
            .flatten();
        match share {
            Some(s) => Paired {
                median: s.median * whole_median,
                spread: Some((s.lo * whole_median, s.hi * whole_median)),
                share: Some(s),
            },
            None => Paired {
                median: part_median,
                spread: None,
                share: None,
            },
        }
    }
}

/// The breakdown of one JWT scheme and backend (typical claims): each part paired with the
/// whole, their sum, the whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdown {
    /// The parts measured, in [`BREAKDOWN`] order, each paired with the whole.
    pub parts: Vec<(Operation, Paired)>,
    /// The whole validate's median, ns.
    pub whole: f64,
    /// Per round, whether the parts' own round medians sum to more than the whole's;
    /// `None` unless every part and the whole have the same rounds.
    pub sum_above_per_round: Option<Vec<bool>>,
}

impl Breakdown {
    /// The sum of the paired parts, when every part of [`BREAKDOWN`] was measured.
    pub fn sum(&self) -> Option<f64> {
        (self.parts.len() == BREAKDOWN.len()).then(|| self.parts.iter().map(|p| p.1.median).sum())
    }

    /// The paired figure of part `op`, if measured.
    pub fn part(&self, op: Operation) -> Option<&Paired> {
        self.parts.iter().find(|p| p.0 == op).map(|p| &p.1)
    }
}

/// One measured operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidateRow {
    /// The scheme (for references, the scheme they stand beside).
    pub scheme: SchemeId,
    /// jsonwebtoken crypto backend for JWT rows; `None` for sessions and map references.
    pub backend: Option<CryptoBackend>,
    /// The operation.
    pub operation: Operation,
    /// Claim set of the token.
    pub claims: ClaimSet,
    /// Cost per operation.
    pub measurement: Measurement,
    /// Server CPU per operation in ns, for schemes whose store is a server (`session-redis`):
    /// the growth of the server's `used_cpu_sys + used_cpu_user` (`INFO cpu`) over a counted
    /// run of the operation, less the server's CPU over the same time with this process idle,
    /// divided by the count. `None` for in-process schemes (all their CPU is in
    /// `measurement.cpu`) and when `INFO` could not be read.
    #[serde(default)]
    pub server_cpu_ns_per_op: Option<f64>,
    /// Operations that did not end as expected while measuring: a valid token refused, an
    /// issue that failed, or a refusal because the store was unreachable (fail closed).
    /// Must be 0; a token that must be refused and was accepted stops the workload instead.
    #[serde(default)]
    pub errors: u64,
}

/// A budget from the issue tracker, checked in this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetCheck {
    /// What is compared.
    pub name: String,
    /// The ratio of the two rows' medians, measured in the same interleaved rounds (see
    /// [`crate::measure::rounds`]).
    pub ratio: f64,
    /// Files written before rounds: a 95% confidence interval of the ratio; since, the
    /// smallest and largest per-round ratio (as `ratio_lo`, `ratio_hi`).
    #[serde(default)]
    pub ratio_ci95: [f64; 2],
    /// Smallest per-round ratio (absent before rounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_lo: Option<f64>,
    /// Largest per-round ratio (absent before rounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_hi: Option<f64>,
    /// The ratio must not exceed this.
    pub limit: f64,
    /// Whether it held.
    pub pass: bool,
}

/// Everything the validate workload measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidateResults {
    /// [`ResultFile::VERSION`] of the file (0: written before per-file versions).
    #[serde(default)]
    pub schema_version: u32,
    /// Sessions live in each store while measuring.
    pub live_sessions: usize,
    /// Median cost of two `Instant::now()` reads (timer overhead), ns.
    pub timer_pair_ns: f64,
    /// All rows, including the other crypto backend's when it was run.
    pub rows: Vec<ValidateRow>,
    /// Ratios checked against the budgets.
    pub budget_checks: Vec<BudgetCheck>,
}

impl ValidateResults {
    /// The row for (scheme, operation, claims, backend), if measured.
    pub fn find(
        &self,
        scheme: SchemeId,
        op: Operation,
        claims: ClaimSet,
        backend: Option<CryptoBackend>,
    ) -> Option<&ValidateRow> {
        self.rows.iter().find(|r| {
            r.scheme == scheme && r.operation == op && r.claims == claims && r.backend == backend
        })
    }
}

impl ValidateResults {
    /// The breakdown of (scheme, backend), typical claims: `None` without a breakdown part
    /// or without the whole validate.
    pub fn breakdown(&self, scheme: SchemeId, backend: Option<CryptoBackend>) -> Option<Breakdown> {
        let t = ClaimSet::Typical;
        let whole = self.find(scheme, Operation::Validate, t, backend)?;
        let rows: Vec<&ValidateRow> = BREAKDOWN
            .iter()
            .filter_map(|op| self.find(scheme, *op, t, backend))
            .collect();
        if rows.is_empty() {
            return None;
        }
        let parts = rows
            .iter()
            .map(|r| (r.operation, pair(r, whole, Clock::Wall)))
            .collect();
        let rounds = |r: &ValidateRow| r.measurement.rounds.as_ref().map(|x| x.wall_ns.clone());
        let sum_above_per_round = (rows.len() == BREAKDOWN.len())
            .then(|| {
                let w = rounds(whole)?;
                let per: Vec<Vec<f64>> = rows.iter().map(|r| rounds(r)).collect::<Option<_>>()?;
                per.iter().all(|p| p.len() == w.len()).then(|| {
                    (0..w.len())
                        .map(|i| per.iter().map(|p| p[i]).sum::<f64>() > w[i])
                        .collect()
                })
            })
            .flatten();
        Some(Breakdown {
            parts,
            whole: whole.measurement.median(),
            sum_above_per_round,
        })
    }

    /// The whole validate a breakdown part `r` belongs to (same scheme, claims, backend).
    fn whole_of(&self, r: &ValidateRow) -> Option<&ValidateRow> {
        BREAKDOWN
            .contains(&r.operation)
            .then(|| self.find(r.scheme, Operation::Validate, r.claims, r.backend))
            .flatten()
    }
}

/// Which per-round figures a pairing uses.
#[derive(Clone, Copy)]
enum Clock {
    Wall,
    Cpu,
}

/// Part row `part` paired with its whole row on `clock`.
fn pair(part: &ValidateRow, whole: &ValidateRow, clock: Clock) -> Paired {
    let (p, w) = (&part.measurement, &whole.measurement);
    let rounds = |m: &Measurement| -> Vec<f64> {
        m.rounds.as_ref().map_or_else(Vec::new, |r| match clock {
            Clock::Wall => r.wall_ns.clone(),
            Clock::Cpu => r.cpu_ns.clone(),
        })
    };
    match clock {
        Clock::Wall => Paired::of(&rounds(p), &rounds(w), p.median(), w.median()),
        Clock::Cpu => Paired::of(&rounds(p), &rounds(w), p.cpu_median(), w.cpu_median()),
    }
}

impl ResultFile for ValidateResults {
    const FILE: &'static str = "validate";
    /// 3: every row measured in interleaved rounds (`measurement.rounds`), budgets with
    /// their per-round spread.
    const VERSION: u32 = 3;

    /// Adds another process's rows and budget checks (the second crypto backend).
    fn merge(&mut self, other: ValidateResults) {
        self.rows.extend(other.rows);
        self.budget_checks.extend(other.budget_checks);
    }

    /// One line per scheme whose operations failed while measuring (e.g. refused because
    /// Redis was unreachable: fail closed), for the end of a run; empty when none did.
    fn error_notes(&self) -> Vec<String> {
        let mut per_scheme: Vec<(SchemeId, u64, u64)> = Vec::new();
        for r in &self.rows {
            match per_scheme.iter_mut().find(|(s, _, _)| *s == r.scheme) {
                Some((_, errors, ops)) => {
                    *errors += r.errors;
                    *ops += r.measurement.ops;
                }
                None => per_scheme.push((r.scheme, r.errors, r.measurement.ops)),
            }
        }
        per_scheme
            .into_iter()
            .filter(|(_, errors, _)| *errors > 0)
            .map(|(scheme, errors, ops)| {
                format!(
                    "validate {scheme}: {errors} operations failed while measuring (refused, \
                     fail closed; about {ops} timed), see `errors` in validate.json"
                )
            })
            .collect()
    }
    /// Headline rows for `summary.csv`: per row each median with its run-to-run spread
    /// (`_lo`, `_hi`), the p99, the server CPU and the failures; a breakdown part's median
    /// and spread paired with its whole ([`Paired`]), and the parts' sum
    /// (`jwt_breakdown_sum_median`); the budget checks (`budget_ratio`, its spread and
    /// `budget_limit`, the budget's name in the `scheme` column).
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut out = Vec::new();
        for r in &self.rows {
            let op = r.operation.name();
            let row = |metric: String, value: f64, unit: &str| {
                SummaryRow::new(
                    "validate",
                    r.scheme,
                    r.backend,
                    r.claims.name(),
                    &metric,
                    value,
                    unit,
                )
            };
            let m = &r.measurement;
            let spread = |s: Option<Spread>| s.map(|s| (s.lo, s.hi));
            // Each median with its run-to-run spread (`_lo`, `_hi`) when measured in rounds;
            // a breakdown part's paired with its whole, the figure the report shows.
            let figures = match self.whole_of(r) {
                Some(whole) => {
                    let (wall, cpu) = (pair(r, whole, Clock::Wall), pair(r, whole, Clock::Cpu));
                    [(wall.median, wall.spread), (cpu.median, cpu.spread)]
                }
                None => [
                    (m.median(), spread(m.spread())),
                    (m.cpu_median(), spread(m.cpu_spread())),
                ],
            };
            for (metric, (median, spread)) in [format!("{op}_median"), format!("{op}_cpu_median")]
                .into_iter()
                .zip(figures)
            {
                out.push(row(metric.clone(), median, "ns/op"));
                if let Some((lo, hi)) = spread {
                    out.push(row(format!("{metric}_lo"), lo, "ns/op"));
                    out.push(row(format!("{metric}_hi"), hi, "ns/op"));
                }
            }
            out.push(row(format!("{op}_p99"), m.wall.p99_ns, "ns/op"));
            if let Some(server) = r.server_cpu_ns_per_op {
                out.push(row(format!("{op}_server_cpu"), server, "ns/op"));
            }
            if r.errors > 0 {
                out.push(row(format!("{op}_errors"), r.errors as f64, "count"));
            }
            if r.operation == Operation::JwtSignatureCheck
                && r.claims == ClaimSet::Typical
                && let Some(sum) = self.breakdown(r.scheme, r.backend).and_then(|b| b.sum())
            {
                out.push(row("jwt_breakdown_sum_median".to_owned(), sum, "ns/op"));
            }
        }
        for b in &self.budget_checks {
            let row = |metric: &str, value: f64| {
                SummaryRow::new("validate", &b.name, None, "typical", metric, value, "ratio")
            };
            out.push(row("budget_ratio", b.ratio));
            if let (Some(lo), Some(hi)) = (b.ratio_lo, b.ratio_hi) {
                out.push(row("budget_ratio_lo", lo));
                out.push(row("budget_ratio_hi", hi));
            }
            out.push(row("budget_limit", b.limit));
        }
        out
    }
}
