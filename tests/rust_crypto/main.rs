//! The JWT conformance suite again, with jsonwebtoken on the RustCrypto backend. The
//! provider is process-wide, and each test file is its own process.

#[path = "../common/mod.rs"]
mod common;

use common::suite::*;
use tokenbench::crypto::CryptoBackend;

scheme_conformance!(
    rust_crypto_jwt_hs256,
    CryptoBackend::RustCrypto,
    jwt_subject(JwtAlg::HS256)
);
scheme_conformance!(
    rust_crypto_jwt_rs256,
    CryptoBackend::RustCrypto,
    jwt_subject(JwtAlg::RS256)
);
scheme_conformance!(
    rust_crypto_jwt_es256,
    CryptoBackend::RustCrypto,
    jwt_subject(JwtAlg::ES256)
);
scheme_conformance!(
    rust_crypto_jwt_eddsa,
    CryptoBackend::RustCrypto,
    jwt_subject(JwtAlg::EdDSA)
);

#[test]
fn this_process_really_uses_rust_crypto() {
    tokenbench::crypto::install(CryptoBackend::RustCrypto).unwrap();
    assert_eq!(tokenbench::crypto::active(), CryptoBackend::RustCrypto);
    assert!(tokenbench::crypto::install(CryptoBackend::AwsLc).is_err());
}
