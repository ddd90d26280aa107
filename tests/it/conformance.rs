//! The conformance suite on the default crypto backend (aws-lc-rs): the session scheme on
//! each embedded store, the JWT scheme with each algorithm and PASETO v4 with each purpose
//! (its own attack list is in `paseto.rs`). Test names say which, e.g.
//! `jwt_es256::rejects_alg_none_in_any_casing`.

use crate::common::suite::*;
use tokenbench::claims::Claims;
use tokenbench::crypto::CryptoBackend;
use tokenbench::store::RwLockStore;

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
