//! The conformance suite on the default crypto backend (aws-lc-rs): the session scheme on
//! each embedded store and on PostgreSQL (`TOKENBENCH_POSTGRES_URL`; Redis's is in
//! `it::redis`), the JWT scheme with each algorithm, PASETO v4 with each purpose (its
//! own attack list is in `paseto.rs`) and the hybrid's access tokens (HS256, ES256; its
//! refresh flow is in `hybrid.rs`). Test names say which, e.g.
//! `jwt_es256::rejects_alg_none_in_any_casing`.

use crate::common::skip;
use crate::common::suite::*;
use tokenbench::claims::Claims;
use tokenbench::crypto::CryptoBackend;
use tokenbench::store::{PostgresStore, RwLockStore};

scheme_conformance!(
    session_memory,
    CryptoBackend::AwsLc,
    session_subject(MemoryStore::new)
);
scheme_conformance!(
    session_rwlock,
    CryptoBackend::AwsLc,
    session_subject(RwLockStore::new)
);
scheme_conformance!(
    optional session_postgres,
    CryptoBackend::AwsLc,
    postgres_session_subject()
);
scheme_conformance!(jwt_hs256, CryptoBackend::AwsLc, jwt_subject(JwtAlg::HS256));
scheme_conformance!(jwt_rs256, CryptoBackend::AwsLc, jwt_subject(JwtAlg::RS256));
scheme_conformance!(jwt_es256, CryptoBackend::AwsLc, jwt_subject(JwtAlg::ES256));
scheme_conformance!(jwt_eddsa, CryptoBackend::AwsLc, jwt_subject(JwtAlg::EdDSA));
scheme_conformance!(
    paseto_v4_public,
    CryptoBackend::AwsLc,
    paseto_subject(PasetoPurpose::Public)
);
scheme_conformance!(
    paseto_v4_local,
    CryptoBackend::AwsLc,
    paseto_subject(PasetoPurpose::Local)
);
scheme_conformance!(
    hybrid_hs256_memory,
    CryptoBackend::AwsLc,
    hybrid_subject(JwtAlg::HS256, MemoryStore::new)
);
scheme_conformance!(
    hybrid_es256_rwlock,
    CryptoBackend::AwsLc,
    hybrid_subject(JwtAlg::ES256, RwLockStore::new)
);

#[test]
fn claims_are_equal_information_in_both_families() {
    tokenbench::crypto::install(CryptoBackend::AwsLc).unwrap();
    let jwt = jwt_subject(JwtAlg::HS256);
    let session = session_subject(MemoryStore::new);
    let claims: Claims = ClaimSet::Large.claims("u");
    let a = jwt
        .scheme
        .validate(&jwt.scheme.issue(&claims).unwrap())
        .unwrap();
    let b = session
        .scheme
        .validate(&session.scheme.issue(&claims).unwrap())
        .unwrap();
    assert_eq!(a.claims, b.claims);
}

/// The session scheme on PostgreSQL: every test (and the property tests' subject, which
/// lives as long as the process) shares two fixed tables, one per store of the subject,
/// so no run leaves a table behind (session IDs are random, so tests never collide).
fn postgres_session_subject() -> Option<Subject> {
    let url = skip::shared_postgres_url()?;
    let tables = ["tokenbench_conformance", "tokenbench_conformance_twin"];
    let next = std::sync::atomic::AtomicUsize::new(0);
    Some(session_subject(|| {
        let table = tables[next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2];
        PostgresStore::connect_with_table(&url, table)
            .unwrap_or_else(|e| panic!("{}", skip::unreachable_postgres(&url, &e)))
            .with_cleanup_on_drop(false)
    }))
}
