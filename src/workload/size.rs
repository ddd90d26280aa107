//! Workload 1, size: what each token costs on the wire and on the server.
//!
//! Per scheme and claim set: token bytes, `Cookie:`, `Authorization: Bearer` and
//! `Set-Cookie:` header bytes, and what an outsider can read from the token. Per store:
//! heap bytes per live session, measured with the counting allocator over inserting many
//! sessions (JWT: per issued token, which should be zero, and per denylist entry).

use std::sync::Arc;
use std::time::Duration;

use cookie::SameSite;
use serde::{Deserialize, Serialize};

use super::{Options, Progress, SchemeSpec, SummaryRow, WorkloadResult, build, claims};
use crate::alloc;
use crate::claims::ClaimSet;
use crate::clock::CoarseClock;
use crate::denylist::{Denylist, MemoryDenylist};
use crate::scheme::jwt::peek;
use crate::scheme::session::set_cookie;
use crate::scheme::{RevocationStrategy, SessionConfig};

/// Name of the cookie carrying either token, so both families pay the same name bytes.
pub const COOKIE_NAME: &str = "sid";
/// Largest cookie (name, value and attributes) browsers must support (RFC 6265 section 6.1).
pub const COOKIE_LIMIT_BYTES: usize = 4096;
/// A common default limit on one request header line (e.g. nginx large_client_header_buffers).
pub const HEADER_LIMIT_BYTES: usize = 8192;

/// Sizes of one scheme's token for one claim set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeRow {
    /// Scheme name.
    pub scheme: String,
    /// Claim set.
    pub claims: ClaimSet,
    /// Bytes of the token itself.
    pub token_bytes: usize,
    /// Bytes of the request header line `Cookie: sid=<token>`.
    pub cookie_header_bytes: usize,
    /// Bytes of the request header line `Authorization: Bearer <token>`.
    pub authorization_header_bytes: usize,
    /// Bytes of the response header line `Set-Cookie: sid=<token>; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=...`.
    pub set_cookie_header_bytes: usize,
    /// Bytes of claims JSON anyone holding the token can decode without a key (0: opaque).
    pub readable_payload_bytes: usize,
    /// Claims an outsider can read by name (e.g. `sub`, `roles`, `profile`), empty when opaque.
    pub readable_claims: Vec<String>,
    /// Bits of randomness in the token (session ID bits, or the JWT `jti` bits).
    pub random_bits: usize,
    /// Whether the cookie fits the 4096-byte browser limit.
    pub fits_cookie_limit: bool,
}

/// Server-side heap per live session (or per denylist entry), measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryRow {
    /// Scheme (or denylist) name.
    pub scheme: String,
    /// What one entry is: `session`, `issued-jwt` or `denylist-entry`.
    pub entry: String,
    /// Claim set of the entries.
    pub claims: ClaimSet,
    /// Entries inserted.
    pub entries: usize,
    /// Net heap bytes they occupy (allocator usable sizes, including map tables).
    pub heap_bytes: i64,
    /// Net live allocations they occupy.
    pub allocations: i64,
    /// `heap_bytes / entries`.
    pub bytes_per_entry: f64,
}

/// Everything the size workload measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeResults {
    /// Token and header sizes.
    pub rows: Vec<SizeRow>,
    /// Heap per session; empty when the counting allocator is not installed.
    pub memory: Vec<MemoryRow>,
    /// How memory was measured.
    pub memory_method: String,
    /// The cookie limit drawn on charts.
    pub cookie_limit_bytes: usize,
    /// The header limit drawn on charts.
    pub header_limit_bytes: usize,
}

impl SizeResults {
    /// Headline rows for `summary.csv`.
    pub fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut out = Vec::new();
        for r in &self.rows {
            let p = r.claims.name();
            out.push(SummaryRow::new(
                "size",
                &r.scheme,
                "",
                p,
                "token",
                r.token_bytes as f64,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                &r.scheme,
                "",
                p,
                "cookie_header",
                r.cookie_header_bytes as f64,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                &r.scheme,
                "",
                p,
                "authorization_header",
                r.authorization_header_bytes as f64,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                &r.scheme,
                "",
                p,
                "set_cookie_header",
                r.set_cookie_header_bytes as f64,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                &r.scheme,
                "",
                p,
                "readable_payload",
                r.readable_payload_bytes as f64,
                "bytes",
            ));
        }
        for m in &self.memory {
            out.push(SummaryRow::new(
                "size",
                &m.scheme,
                "",
                m.claims.name(),
                &format!("server_heap_per_{}", m.entry.replace('-', "_")),
                m.bytes_per_entry,
                "bytes",
            ));
        }
        out
    }
}

/// Runs the size workload.
pub fn run(opts: &Options, progress: &dyn Progress) -> WorkloadResult<SizeResults> {
    let schemes = opts.schemes();
    progress.start("size", (schemes.len() * 2) as u64);
    let clock = Arc::new(CoarseClock);
    let mut rng = opts.rng(1);
    let mut rows = Vec::new();
    let mut memory = Vec::new();
    for spec in &schemes {
        progress.step(&format!("{spec}: token sizes"));
        let scheme = build(
            spec,
            opts,
            SessionConfig::default(),
            RevocationStrategy::None,
            clock.clone(),
        )?;
        let max_age = match spec {
            SchemeSpec::Session(_) => SessionConfig::default().absolute_timeout,
            SchemeSpec::Jwt(_) => opts.jwt_lifetime,
        };
        for set in ClaimSet::ALL {
            let token = scheme.issue(&claims(set, &mut rng))?;
            super::expect_valid(scheme.as_ref(), &token)?;
            rows.push(size_row(spec, set, &token, max_age));
        }
        progress.step(&format!("{spec}: server memory"));
        memory.extend(memory_rows(spec, opts, &mut rng)?);
    }
    progress.finish();
    Ok(SizeResults {
        rows,
        memory_method: if alloc::installed() {
            "counting global allocator: net usable heap bytes (glibc malloc_usable_size) after inserting N entries, divided by N".into()
        } else {
            "not measured: the counting allocator is not installed in this process".into()
        },
        memory,
        cookie_limit_bytes: COOKIE_LIMIT_BYTES,
        header_limit_bytes: HEADER_LIMIT_BYTES,
    })
}

fn size_row(spec: &SchemeSpec, set: ClaimSet, token: &str, max_age: Duration) -> SizeRow {
    let cookie_header = format!("Cookie: {COOKIE_NAME}={token}");
    let bearer = format!("Authorization: Bearer {token}");
    let set_cookie_header = format!(
        "Set-Cookie: {}",
        set_cookie(COOKIE_NAME, token, SameSite::Lax, max_age)
    );
    let (readable_payload_bytes, readable_claims, random_bits) = match peek(token) {
        Some((_, payload)) => {
            let names = payload
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            // The jti is the only random part of a JWT: 16 bytes.
            (payload.to_string().len(), names, 128)
        }
        None => (0, Vec::new(), base64_bits(token)),
    };
    SizeRow {
        scheme: spec.name(),
        claims: set,
        token_bytes: token.len(),
        cookie_header_bytes: cookie_header.len(),
        authorization_header_bytes: bearer.len(),
        fits_cookie_limit: set_cookie_header.len() - "Set-Cookie: ".len() <= COOKIE_LIMIT_BYTES,
        set_cookie_header_bytes: set_cookie_header.len(),
        readable_payload_bytes,
        readable_claims,
        random_bits,
    }
}

/// Bits carried by an unpadded base64url string of this length.
fn base64_bits(token: &str) -> usize {
    token.len() * 6 / 8 * 8
}

fn memory_rows(
    spec: &SchemeSpec,
    opts: &Options,
    rng: &mut rand::rngs::StdRng,
) -> WorkloadResult<Vec<MemoryRow>> {
    // A JWT server keeps nothing per issued token; a smaller sample shows that as well
    // without paying for thousands of RSA signatures.
    let n = if spec.is_jwt() {
        opts.memory_sessions.clamp(1, 1_000)
    } else {
        opts.memory_sessions.max(1)
    };
    let clock = Arc::new(CoarseClock);
    let mut out = Vec::new();
    // Typical claims: the per-session record cost for an ordinary login.
    let set = ClaimSet::Typical;
    let inputs: Vec<_> = (0..n).map(|_| claims(set, rng)).collect();
    let scheme = build(
        spec,
        opts,
        SessionConfig::default(),
        RevocationStrategy::None,
        clock.clone(),
    )?;
    let (issued, delta) = alloc::count(|| -> WorkloadResult<usize> {
        let mut ok = 0;
        for c in &inputs {
            // The token is dropped at once: only what the server keeps remains.
            drop(scheme.issue(c)?);
            ok += 1;
        }
        Ok(ok)
    });
    let issued = issued?;
    if let Some(d) = delta {
        out.push(MemoryRow {
            scheme: spec.name(),
            entry: if spec.is_jwt() {
                "issued-jwt"
            } else {
                "session"
            }
            .into(),
            claims: set,
            entries: issued,
            heap_bytes: d.bytes,
            allocations: d.allocations,
            bytes_per_entry: d.bytes as f64 / issued as f64,
        });
    }
    drop(scheme);
    if spec.is_jwt() {
        // What revocation costs a stateless scheme: one denylist entry per revoked token.
        let denylist = MemoryDenylist::new();
        let jtis: Vec<String> = (0..n).map(|i| format!("{:022}", i)).collect();
        let ((), delta) = alloc::count(|| {
            for j in &jtis {
                // MemoryDenylist::insert cannot fail.
                let _ = denylist.insert(j, u64::MAX);
            }
        });
        if let Some(d) = delta {
            out.push(MemoryRow {
                scheme: format!("{}+denylist-memory", spec.name()),
                entry: "denylist-entry".into(),
                claims: set,
                entries: n,
                heap_bytes: d.bytes,
                allocations: d.allocations,
                bytes_per_entry: d.bytes as f64 / n as f64,
            });
        }
        let _ = denylist.len();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::NoProgress;

    #[test]
    fn tiny_size_run_covers_every_scheme_and_claim_set() {
        let mut opts = Options::defaults(true);
        opts.memory_sessions = 10;
        let r = run(&opts, &NoProgress).unwrap();
        assert_eq!(r.rows.len(), opts.schemes().len() * 3);
        let session = r
            .rows
            .iter()
            .find(|x| x.scheme == "session-memory" && x.claims == ClaimSet::Large)
            .unwrap();
        assert_eq!(session.token_bytes, 22);
        assert_eq!(session.random_bits, 128);
        assert_eq!(session.readable_payload_bytes, 0);
        assert_eq!(session.cookie_header_bytes, "Cookie: sid=".len() + 22);
        let jwt = r
            .rows
            .iter()
            .find(|x| x.scheme == "jwt-RS256" && x.claims == ClaimSet::Large)
            .unwrap();
        assert!(jwt.token_bytes > 1000, "{}", jwt.token_bytes);
        assert!(jwt.readable_claims.contains(&"roles".to_string()));
        assert_eq!(
            jwt.authorization_header_bytes,
            "Authorization: Bearer ".len() + jwt.token_bytes
        );
        // Unit tests do not install the counting allocator: memory is reported as unmeasured.
        assert!(r.memory.is_empty());
        let back: SizeResults = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(!r.summary_rows().is_empty());
    }
}
