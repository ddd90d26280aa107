//! Workload `validate`: what a server pays per request to accept or refuse a token.
//!
//! - `validate`: the hit path, a valid token, for every scheme and claim set. Session stores
//!   hold `BACKGROUND_SESSIONS` other sessions and, as in the CLI's `validate` row, use a
//!   fixed idle deadline (no sliding), so a session hit is a lookup only.
//! - `validate_reject`: refusals: a well-formed session ID that was never issued, a revoked
//!   session, a JWT with a tampered signature, a JWT signed with another key, a revoked JWT
//!   (same keys plus an in-memory denylist).
//! - `reference`: the floor under each family: a `DashMap::get` (cloning the record handle,
//!   as the store does) in a map of the same size, a bare `jsonwebtoken::decode` of an
//!   HS256 token with the scheme's `Validation`, and the bare HMAC-SHA256 over its signing
//!   input.
//!
//! Every measured token is checked outside the timing, before and after, to be accepted or
//! refused for the intended reason.

#[path = "common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dashmap::DashMap;
use jsonwebtoken::Algorithm;
use tokenbench::claims::ClaimSet;
use tokenbench::denylist::{Denylist, MemoryDenylist};
use tokenbench::scheme::jwt::WireClaims;
use tokenbench::scheme::{
    JwtAlg, JwtConfig, JwtScheme, Rejection, RevocationStrategy, TokenScheme,
};
use tokenbench::store::{SessionRecord, SessionStore};

use tokenbench::scheme::spec::{Family, SchemeKeys};

/// Times `scheme.validate(token)` after checking it is accepted with `claims`.
fn bench_hit(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    scheme: &dyn TokenScheme,
    token: &str,
    claims: &tokenbench::claims::Claims,
) {
    common::assert_valid(scheme, token, claims);
    group.bench_function(id, |b| {
        b.iter(|| scheme.validate(black_box(token)));
        common::assert_valid(scheme, token, claims);
    });
}

/// Times `scheme.validate(token)` after checking it is refused with `expected`.
fn bench_reject(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    scheme: &dyn TokenScheme,
    token: &str,
    expected: &Rejection,
) {
    common::assert_rejected(scheme, token, expected);
    group.bench_function(id, |b| {
        b.iter(|| scheme.validate(black_box(token)));
        common::assert_rejected(scheme, token, expected);
    });
}

fn validate(c: &mut Criterion) {
    let subjects = common::subjects(common::BACKGROUND_SESSIONS, || RevocationStrategy::None);
    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(1));
    for subject in &subjects {
        let scheme = subject.scheme.as_ref();
        for set in ClaimSet::ALL {
            let claims = common::claims(set);
            let token = scheme.issue(&claims).expect("issue");
            let id = BenchmarkId::new(&subject.name, set.name());
            bench_hit(&mut group, id, scheme, &token, &claims);
        }
    }
    group.finish();
}

fn validate_reject(c: &mut Criterion) {
    let subjects = common::subjects(common::BACKGROUND_SESSIONS, || RevocationStrategy::None);
    let claims = common::claims(ClaimSet::Typical);
    let mut group = c.benchmark_group("validate_reject");
    group.throughput(Throughput::Elements(1));
    for subject in &subjects {
        let scheme = subject.scheme.as_ref();
        match subject.family() {
            Family::Session => {
                let unknown = common::unknown_session_id();
                let id = BenchmarkId::new(&subject.name, "unknown-id");
                bench_reject(&mut group, id, scheme, &unknown, &Rejection::UnknownSession);

                let revoked = scheme.issue(&claims).expect("issue");
                common::assert_valid(scheme, &revoked, &claims);
                scheme.revoke(&revoked).expect("revoke");
                let id = BenchmarkId::new(&subject.name, "revoked");
                bench_reject(&mut group, id, scheme, &revoked, &Rejection::UnknownSession);
            }
            Family::Jwt => {
                let token = scheme.issue(&claims).expect("issue");
                common::assert_valid(scheme, &token, &claims);
                let tampered = common::tamper_signature(&token);
                let id = BenchmarkId::new(&subject.name, "tampered-signature");
                bench_reject(&mut group, id, scheme, &tampered, &Rejection::BadSignature);

                let alg = subject
                    .id
                    .alg()
                    .expect("a JWT subject is named after its algorithm");
                let stranger = JwtScheme::new(
                    alg,
                    JwtConfig::default(),
                    RevocationStrategy::None,
                    common::clock(),
                )
                .expect("JWT key generation");
                let forged = stranger.issue(&claims).expect("issue");
                let id = BenchmarkId::new(&subject.name, "other-key");
                bench_reject(&mut group, id, scheme, &forged, &Rejection::BadSignature);
            }
            // Any other self-contained family: a changed character mid-token (its
            // signature or tag no longer verifies, or it no longer parses) and a token of
            // the same scheme with other keys, refused however the format says.
            _ => {
                let token = scheme.issue(&claims).expect("issue");
                common::assert_valid(scheme, &token, &claims);
                let tampered = common::tamper_middle(&token);
                let refusal = scheme.validate(&tampered).expect_err("a tampered token");
                let id = BenchmarkId::new(&subject.name, "tampered");
                bench_reject(&mut group, id, scheme, &tampered, &refusal);

                let spec = subject.spec.clone();
                let stranger = SchemeKeys::generate(&spec)
                    .expect("key generation")
                    .expect("a self-contained scheme has keys")
                    .build(
                        JwtConfig::default(),
                        RevocationStrategy::None,
                        common::clock(),
                    );
                let forged = stranger.issue(&claims).expect("issue");
                let refusal = scheme.validate(&forged).expect_err("another key's token");
                let id = BenchmarkId::new(&subject.name, "other-key");
                bench_reject(&mut group, id, scheme, &forged, &refusal);
            }
        }
    }
    // Revoked self-contained tokens need schemes that can revoke: each with an in-memory
    // denylist (the JWTs on the process's shared keys).
    let denylists = RefCell::new(Vec::new());
    let with_denylist = || {
        let d = Arc::new(MemoryDenylist::new());
        denylists.borrow_mut().push(d.clone());
        RevocationStrategy::CentralDenylist(d)
    };
    for subject in common::subjects(0, with_denylist)
        .iter()
        .filter(|s| s.id.capabilities().carries_claims)
    {
        let scheme = subject.scheme.as_ref();
        let token = scheme.issue(&claims).expect("issue");
        common::assert_valid(scheme, &token, &claims);
        scheme.revoke(&token).expect("revoke");
        let id = BenchmarkId::new(&subject.name, "revoked");
        bench_reject(&mut group, id, scheme, &token, &Rejection::Revoked);
    }
    assert!(denylists.borrow().iter().any(|d| d.len() == 1));
    group.finish();
}

fn reference(c: &mut Criterion) {
    let mut group = c.benchmark_group("reference");
    group.throughput(Throughput::Elements(1));

    // A bare DashMap lookup, in a map as full as the session stores of `validate`
    // (background sessions plus one token per claim set), holding real session records.
    let sessions = common::BACKGROUND_SESSIONS + ClaimSet::ALL.len();
    let source = common::session_memory(common::fixed_sessions());
    let ids = common::issue_many(&source, ClaimSet::Typical, sessions);
    let map: DashMap<String, SessionRecord> = ids
        .iter()
        .map(|id| {
            let record = source.store().get(id).expect("get").expect("issued");
            (id.clone(), record)
        })
        .collect();
    let key = ids.last().expect("at least one session").as_str();
    assert_eq!(
        key.len(),
        22,
        "a 128-bit session ID is 22 base64url characters"
    );
    assert_eq!(map.len(), sessions);
    assert!(map.get(key).is_some());
    group.bench_function(
        BenchmarkId::new("dashmap-get", format!("{sessions}-sessions")),
        |b| b.iter(|| map.get(black_box(key)).map(|r| r.value().clone())),
    );

    // The crate's own decode with the equivalent validation and the same key: the floor a
    // `JwtScheme::validate` (strict header, signature, claims policy) is compared with.
    let scheme = common::jwt(JwtAlg::HS256, RevocationStrategy::None);
    let claims = common::claims(ClaimSet::Typical);
    let token = scheme.issue(&claims).expect("issue");
    common::assert_valid(&scheme, &token, &claims);
    let validation = scheme.validation();
    let decode = || {
        jsonwebtoken::decode::<WireClaims>(
            black_box(token.as_str()),
            scheme.keys().decoding_key(),
            &validation,
        )
    };
    let decoded = decode().expect("bare decode of a valid token");
    assert_eq!(decoded.claims.sub, claims.user_id);
    group.bench_function(
        BenchmarkId::new("jsonwebtoken-decode-HS256", ClaimSet::Typical.name()),
        |b| b.iter(decode),
    );

    // The HMAC alone: signing input in, base64url signature out, as jsonwebtoken does it.
    let (signing_input, signature) = token.rsplit_once('.').expect("three segments");
    let key = scheme.keys().encoding_key().expect("generated keys sign");
    let sign =
        || jsonwebtoken::crypto::sign(black_box(signing_input.as_bytes()), key, Algorithm::HS256);
    assert_eq!(
        sign().expect("HMAC"),
        signature,
        "HMAC must reproduce the signature"
    );
    group.bench_function(
        BenchmarkId::new("hmac-sha256", ClaimSet::Typical.name()),
        |b| b.iter(sign),
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = validate, validate_reject, reference
}
criterion_main!(benches);
