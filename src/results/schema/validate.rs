//! `validate.json`: the per-request cost of each scheme's operations, the reference floors
//! beside them, the JWT breakdown and the budget checks.

use serde::{Deserialize, Serialize};

use super::{ResultFile, SummaryRow};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::measure::Measurement;
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
    /// Headline rows for `summary.csv`.
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
            // Each median with its run-to-run spread (`_lo`, `_hi`) when measured in rounds.
            for (metric, median, spread) in [
                (format!("{op}_median"), m.median(), m.spread()),
                (format!("{op}_cpu_median"), m.cpu_median(), m.cpu_spread()),
            ] {
                out.push(row(metric.clone(), median, "ns/op"));
                if let Some(s) = spread {
                    out.push(row(format!("{metric}_lo"), s.lo, "ns/op"));
                    out.push(row(format!("{metric}_hi"), s.hi, "ns/op"));
                }
            }
            out.push(row(format!("{op}_p99"), m.wall.p99_ns, "ns/op"));
            if let Some(server) = r.server_cpu_ns_per_op {
                out.push(row(format!("{op}_server_cpu"), server, "ns/op"));
            }
            if r.errors > 0 {
                out.push(row(format!("{op}_errors"), r.errors as f64, "count"));
            }
        }
        out
    }
}
