//! Workload 1, size: what each token costs on the wire and on the server.
//!
//! Per scheme and claim set: token bytes, `Cookie:`, `Authorization: Bearer` and
//! `Set-Cookie:` header bytes, and what an outsider can read from the token. Per store:
//! heap bytes per live session, measured with the counting allocator over inserting many
//! sessions (JWT: per issued token, which should be zero, and per denylist entry).
//!
//! A networked store keeps its sessions in another process, so the counting allocator sees
//! nothing of them: the server is asked instead, through its probe and its store. After
//! issuing N sessions (at most [`REMOTE_MEMORY_SESSIONS`], from several threads, since each
//! is a round trip), two rows: what the server says each record costs
//! ([`SessionStore::record_bytes`] of a sample of [`MEMORY_USAGE_SAMPLE`]: Redis `MEMORY
//! USAGE`, a PostgreSQL row's size; averaged), and the growth of the server's memory
//! ([`ServerProbe::memory_bytes`]: Redis `used_memory`, PostgreSQL the database's size)
//! over the N inserts, divided by N (which also counts index and hash-table growth, but
//! also anything other clients did meanwhile). With JWTs selected beside a store that holds
//! denylists (Redis), a `MEMORY USAGE` row per `jti` on a Redis denylist too. Each row's
//! `method` says which.
//!
//! [`SessionStore::record_bytes`]: crate::store::SessionStore::record_bytes
//! [`ServerProbe::memory_bytes`]: crate::store::ServerProbe::memory_bytes

use crate::results::schema::ResultFile;
use crate::results::schema::size::{Entry, MemoryRow, SizeResults, SizeRow};
use std::sync::Arc;
use std::time::Duration;

use cookie::SameSite;

use super::outage::{Remote, first_store};
use super::{Progress, SchemeSpec, Settings, StoreSpec, Workload, WorkloadResult, build, claims};
use crate::alloc;
use crate::claims::ClaimSet;
use crate::clock::CoarseClock;
use crate::denylist::{Denylist, MemoryDenylist, RedisDenylist};
use crate::scheme::readable_claims;
use crate::scheme::session::set_cookie;
use crate::scheme::spec::{StoreKind, StoreVisitor};
use crate::scheme::{
    HybridConfig, HybridScheme, JwtScheme, RevocationStrategy, SessionConfig, SessionScheme,
    TokenScheme,
};
use crate::store::{RedisStore, SessionStore, StoreResult, family};
use serde::{Deserialize, Serialize};

/// Name of the cookie carrying either token, so both families pay the same name bytes: the
/// session scheme's default, with its `__Host-` prefix.
pub const COOKIE_NAME: &str = crate::scheme::session::DEFAULT_COOKIE_NAME;
/// Largest cookie (name, value and attributes) browsers must support (RFC 6265 section 6.1).
pub const COOKIE_LIMIT_BYTES: usize = 4096;
/// A common default limit on one request header line (e.g. nginx large_client_header_buffers).
pub const HEADER_LIMIT_BYTES: usize = 8192;
/// Most sessions (or denylist entries) inserted into a networked store to measure its
/// server's memory.
pub const REMOTE_MEMORY_SESSIONS: usize = 10_000;
/// Records whose server-side size ([`SessionStore::record_bytes`]) is read and averaged.
pub const MEMORY_USAGE_SAMPLE: usize = 1_000;

/// How in-process rows are measured.
const ALLOC_METHOD: &str = "counting global allocator: net usable heap bytes (glibc malloc_usable_size) after inserting N entries, divided by N";

/// The size workload.
pub struct Size;

/// Flags of `tokenbench size` (none of its own).
#[derive(Debug, Clone, clap::Args)]
pub struct SizeArgs {}

/// Parameters of the size workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeParams {
    /// Entries inserted to measure server-side bytes per session (or per denylist entry).
    pub memory_sessions: usize,
}

impl SizeParams {
    /// The defaults of a quick or a full run.
    pub fn defaults(quick: bool) -> Self {
        Self {
            memory_sessions: if quick { 10_000 } else { 100_000 },
        }
    }
}

impl Workload for Size {
    const ABOUT: &'static str = "Token, header and server-side bytes";
    type Args = SizeArgs;
    type Params = SizeParams;
    type Results = SizeResults;

    fn params(_: &SizeArgs, quick: bool) -> SizeParams {
        SizeParams::defaults(quick)
    }

    fn run(
        settings: &Settings,
        p: &SizeParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<SizeResults> {
        run(settings, p, progress)
    }
}

/// Runs the size workload.
pub fn run(
    settings: &Settings,
    p: &SizeParams,
    progress: &dyn Progress,
) -> WorkloadResult<SizeResults> {
    let schemes = settings.schemes();
    progress.start("size", (schemes.len() * 2) as u64);
    let clock = Arc::new(CoarseClock);
    let mut rng = settings.rng(1);
    let mut rows = Vec::new();
    let mut memory = Vec::new();
    for spec in &schemes {
        progress.step(&format!("{spec}: token sizes"));
        let remote = Remote::for_spec(spec)?;
        let scheme = remote.retry(&format!("size {spec}: connecting"), || {
            build(
                spec,
                settings,
                SessionConfig::default(),
                RevocationStrategy::None,
                clock.clone(),
            )
        })?;
        // A cookie lives as long as the credential it carries.
        let max_age = if spec.capabilities().expiry_in_token {
            settings.jwt_lifetime
        } else {
            SessionConfig::default().absolute_timeout
        };
        for set in ClaimSet::ALL {
            let input = claims(set, &mut rng);
            let token = remote.retry(&format!("size {spec}: issuing"), || {
                // What travels on each request: for a scheme with refresh tokens, the access
                // token a login gives (it names its refresh family), not a bare issue's.
                let token = match scheme.refreshing() {
                    Some(r) => r.login(&input)?.access,
                    None => scheme.issue(&input)?,
                };
                super::outage::check_valid(scheme.as_ref(), &token)?;
                Ok(token)
            })?;
            rows.push(size_row(spec, set, &token, max_age));
        }
        drop(scheme);
        progress.step(&format!("{spec}: server memory"));
        // The store of what the server keeps per login (a hybrid's families too).
        match spec.any_store().filter(|s| s.is_remote()) {
            Some(store) => memory.extend(remote_session_rows(
                spec,
                store,
                settings,
                &Remote::for_store(store)?,
                p.memory_sessions,
                &mut rng,
            )?),
            _ => memory.extend(memory_rows(spec, settings, p.memory_sessions, &mut rng)?),
        }
        let denylists = first_store(settings, StoreKind::holds_denylists).and_then(StoreSpec::url);
        if let (true, Some(url)) = (spec.capabilities().carries_claims, denylists) {
            memory.push(redis_denylist_row(spec, url, p.memory_sessions)?);
        }
    }
    progress.finish();
    let mut memory_method = if alloc::installed() {
        ALLOC_METHOD.to_owned()
    } else {
        "not measured: the counting allocator is not installed in this process".to_owned()
    };
    if schemes
        .iter()
        .any(|s| s.store().is_some_and(StoreSpec::is_remote))
    {
        memory_method.push_str(
            "; networked stores' rows: the server's own figures, what it says a record costs \
             over a sample and the growth of its memory over N inserts, divided by N (each \
             row's method says which)",
        );
    }
    Ok(SizeResults {
        schema_version: <SizeResults as ResultFile>::VERSION,
        rows,
        memory_method,
        memory,
        cookie_name: COOKIE_NAME.to_owned(),
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
    let (readable_payload_bytes, readable_claims, random_bits) = match readable_claims(token) {
        Some(payload) => {
            let names = payload
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            // The jti is the only random part of a JWT or a PASETO: 16 bytes.
            (payload.to_string().len(), names, 128)
        }
        // Carries its claims, encrypted: the jti inside is still 128 random bits (the
        // nonce is random too, but it is there to encrypt, not to be unguessable).
        None if spec.capabilities().carries_claims => (0, Vec::new(), 128),
        None => (0, Vec::new(), base64_bits(token)),
    };
    SizeRow {
        scheme: spec.id(),
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
    settings: &Settings,
    memory_sessions: usize,
    rng: &mut rand::rngs::StdRng,
) -> WorkloadResult<Vec<MemoryRow>> {
    // A JWT server keeps nothing per issued token; a smaller sample shows that as well
    // without paying for thousands of RSA signatures.
    let n = if spec.capabilities().carries_claims {
        memory_sessions.clamp(1, 1_000)
    } else {
        memory_sessions.max(1)
    };
    let clock = Arc::new(CoarseClock);
    let mut out = Vec::new();
    // Typical claims: the per-session record cost for an ordinary login.
    let set = ClaimSet::Typical;
    let inputs: Vec<_> = (0..n).map(|_| claims(set, rng)).collect();
    let scheme = build(
        spec,
        settings,
        SessionConfig::default(),
        RevocationStrategy::None,
        clock.clone(),
    )?;
    let (issued, delta) = alloc::count(|| -> WorkloadResult<usize> {
        let mut ok = 0;
        for c in &inputs {
            // The token is dropped at once: only what the server keeps remains. A hybrid's
            // login starts a refresh family in its store.
            match scheme.refreshing() {
                Some(r) => drop(r.login(c)?),
                None => drop(scheme.issue(c)?),
            }
            ok += 1;
        }
        Ok(ok)
    });
    let issued = issued?;
    if let Some(d) = delta {
        out.push(MemoryRow {
            scheme: spec.name(),
            entry: Entry::of(spec.id()),
            claims: set,
            entries: issued,
            heap_bytes: d.bytes,
            allocations: d.allocations,
            bytes_per_entry: d.bytes as f64 / issued as f64,
            method: Some(ALLOC_METHOD.into()),
        });
    }
    drop(scheme);
    if spec.capabilities().carries_claims {
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
                entry: Entry::DenylistEntry,
                claims: set,
                entries: n,
                heap_bytes: d.bytes,
                allocations: d.allocations,
                bytes_per_entry: d.bytes as f64 / n as f64,
                method: Some(ALLOC_METHOD.into()),
            });
        }
        let _ = denylist.len();
    }
    Ok(out)
}

/// A session scheme, or a hybrid on the access scheme given, on a freshly built store,
/// and that store's own record sizes.
struct WithRecordBytes(Option<(JwtScheme, HybridConfig)>);

/// The server-side size of one record, as the store reports it.
type RecordBytes = Box<dyn Fn(&str) -> StoreResult<Option<u64>> + Send + Sync>;

impl StoreVisitor for WithRecordBytes {
    type Output = (Arc<dyn TokenScheme>, RecordBytes);
    fn visit<S: SessionStore>(self, store: S) -> Self::Output {
        let clock = Arc::new(CoarseClock);
        if let Some((access, config)) = self.0 {
            let scheme = Arc::new(HybridScheme::with_access(access, store, config, clock));
            let sizes = scheme.clone();
            // A refresh token is `<family>.<secret>`: the record is the family's.
            let bytes = move |token: &str| {
                let family = token.split_once('.').map_or(token, |(f, _)| f);
                sizes.store().record_bytes(&family::record_id(family))
            };
            return (scheme, Box::new(bytes));
        }
        let scheme = Arc::new(SessionScheme::new(store, SessionConfig::default(), clock));
        let sizes = scheme.clone();
        (scheme, Box::new(move |id| sizes.store().record_bytes(id)))
    }
}

/// Server memory per session in a networked store: what the store says a record costs,
/// over a sample, and the growth of the server's memory over all inserts (see the module
/// docs).
fn remote_session_rows(
    spec: &SchemeSpec,
    store: &StoreSpec,
    settings: &Settings,
    remote: &Remote,
    memory_sessions: usize,
    rng: &mut rand::rngs::StdRng,
) -> WorkloadResult<Vec<MemoryRow>> {
    let Some(probe) = remote.probe() else {
        return Ok(Vec::new());
    };
    let n = memory_sessions.clamp(1, REMOTE_MEMORY_SESSIONS);
    let set = ClaimSet::Typical;
    let (scheme, record_bytes) = remote.retry(&format!("size {spec}: connecting"), || {
        let hybrid = match spec.alg().filter(|_| spec.capabilities().refresh_token) {
            Some(alg) => Some((
                JwtScheme::new(
                    alg,
                    settings
                        .hybrid_config()
                        .access_config(settings.jwt_config()),
                    RevocationStrategy::None,
                    Arc::new(CoarseClock),
                )?,
                settings.hybrid_config(),
            )),
            None => None,
        };
        Ok(store.build_with(WithRecordBytes(hybrid))?)
    })?;
    let server = probe.server();
    let before = remote.retry(&format!("size {spec}: {server} memory"), || {
        Ok(probe.memory_bytes()?)
    })?;
    let tokens = remote.login_many(scheme.as_ref(), n, set, rng)?;
    let after = remote.retry(&format!("size {spec}: {server} memory"), || {
        Ok(probe.memory_bytes()?)
    })?;
    let step = (tokens.len() / MEMORY_USAGE_SAMPLE).max(1);
    let sample: Vec<&String> = tokens
        .iter()
        .step_by(step)
        .take(MEMORY_USAGE_SAMPLE)
        .collect();
    let usage = remote.retry(&format!("size {spec}: record sizes"), || {
        let mut sum = 0u64;
        for id in &sample {
            match record_bytes(id)? {
                Some(bytes) => sum += bytes,
                None => return Ok(None),
            }
        }
        Ok(Some(sum))
    })?;
    let mut rows = Vec::new();
    if let Some(usage) = usage {
        rows.push(MemoryRow {
            scheme: spec.name(),
            entry: Entry::of(spec.id()),
            claims: set,
            entries: sample.len(),
            heap_bytes: usage as i64,
            allocations: 0,
            bytes_per_entry: usage as f64 / sample.len() as f64,
            method: Some(format!(
                "{} ({} sessions of {n})",
                probe.record_bytes_method(),
                sample.len()
            )),
        });
    }
    if let (Some(before), Some(after)) = (before, after) {
        let delta = after as i64 - before as i64;
        rows.push(MemoryRow {
            scheme: spec.name(),
            entry: Entry::of(spec.id()),
            claims: set,
            entries: tokens.len(),
            heap_bytes: delta,
            allocations: 0,
            bytes_per_entry: delta as f64 / tokens.len() as f64,
            method: Some(format!("{} (N = {})", probe.memory_method(), tokens.len())),
        });
    }
    Ok(rows)
}

/// Server memory per `jti` on a Redis denylist (`MEMORY USAGE` over a sample).
fn redis_denylist_row(
    spec: &SchemeSpec,
    url: &str,
    memory_sessions: usize,
) -> WorkloadResult<MemoryRow> {
    let n = memory_sessions
        .clamp(1, REMOTE_MEMORY_SESSIONS)
        .min(MEMORY_USAGE_SAMPLE);
    let remote = Remote::for_store(&StoreSpec::Redis(url.to_owned()))?;
    // 22-character jtis (128 bits, base64url), as the JWT scheme issues; exp an hour ahead.
    let jtis: Vec<String> = (0..n).map(|i| format!("{i:022}")).collect();
    let exp = crate::clock::Clock::now_secs(&crate::clock::SystemClock) + 3600;
    let sum = remote.retry(&format!("size {spec}: Redis denylist"), || {
        let denylist = RedisDenylist::connect(url)?;
        let probe = RedisStore::connect_with_prefix(url, denylist.prefix())?
            .with_pool_size(1)
            .with_cleanup_on_drop(false);
        let mut sum = 0u64;
        for j in &jtis {
            denylist.insert(j, exp)?;
        }
        for j in &jtis {
            sum += probe.memory_usage(j)?.unwrap_or(0);
        }
        Ok(sum)
    })?;
    Ok(MemoryRow {
        scheme: format!("{}+denylist-redis", spec.name()),
        entry: Entry::DenylistEntry,
        claims: ClaimSet::Typical,
        entries: n,
        heap_bytes: sum as i64,
        allocations: 0,
        bytes_per_entry: sum as f64 / n as f64,
        method: Some(format!(
            "redis MEMORY USAGE of {n} denylist keys (22-character jti, value exp), averaged"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::NoProgress;

    #[test]
    fn tiny_size_run_covers_every_scheme_and_claim_set() {
        let settings = Settings::defaults(true);
        let p = SizeParams {
            memory_sessions: 10,
        };
        let r = run(&settings, &p, &NoProgress).unwrap();
        assert_eq!(r.rows.len(), settings.schemes().len() * 3);
        let session = r
            .rows
            .iter()
            .find(|x| x.scheme == "session-memory" && x.claims == ClaimSet::Large)
            .unwrap();
        assert_eq!(session.token_bytes, 22);
        assert_eq!(session.random_bits, 128);
        assert_eq!(session.readable_payload_bytes, 0);
        assert_eq!(
            session.cookie_header_bytes,
            "Cookie: __Host-sid=".len() + 22
        );
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
        // PASETO: v4.public shows its claims to the holder, v4.local shows none.
        let paseto = |name: &str| {
            r.rows
                .iter()
                .find(|x| x.scheme == name && x.claims == ClaimSet::Typical)
                .unwrap()
        };
        let public = paseto("paseto-v4-public");
        assert!(public.readable_claims.contains(&"sub".to_string()));
        assert!(public.readable_payload_bytes > 100);
        let local = paseto("paseto-v4-local");
        assert_eq!(local.readable_payload_bytes, 0);
        assert!(local.readable_claims.is_empty());
        assert!(
            local.token_bytes > public.token_bytes / 2,
            "the claims are in it"
        );
        // The hybrid's row is the access token a login gives: the JWT's claims and the
        // family it names (`sid`, 22 characters).
        let hybrid = paseto("hybrid-HS256-memory");
        let jwt = paseto("jwt-HS256");
        assert!(hybrid.readable_claims.contains(&"sid".to_string()));
        assert!(
            hybrid.token_bytes > jwt.token_bytes + 22,
            "{} vs {}",
            hybrid.token_bytes,
            jwt.token_bytes
        );
        // Unit tests do not install the counting allocator: memory is reported as unmeasured.
        assert!(r.memory.is_empty());
        let back: SizeResults = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(!r.summary_rows().is_empty());
    }
}
