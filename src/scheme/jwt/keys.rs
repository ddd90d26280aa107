//! Keys of a JWT scheme, generated at run time and never written anywhere, and the two
//! signature operations on them: signing (ES256 signatures normalised to low S) and
//! verifying (high-S ES256 signatures refused).
//!
//! ECDSA signatures are malleable: `(r, s)` and `(r, n - s)` both verify, so every ES256
//! token has a second string that is the same valid token. tokenbench refuses the high-S
//! form (as Bitcoin, Ethereum and many JOSE verifiers do) and only ever issues the low-S
//! form, so each token has exactly one accepted spelling. Ed25519 (both backends refuse
//! `S >= L`), RSASSA-PKCS1-v1_5 and HMAC are deterministic and have no such twin.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::Rng;

use super::JwtAlg;
use crate::scheme::{Rejection, SchemeError};

/// A signing key and its verification key, generated at run time and never persisted.
pub struct JwtKeys {
    alg: JwtAlg,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Public key bytes (PKCS#1 DER for RSA, SEC1 point for EC, raw for Ed25519); `None` for HMAC.
    public_der: Option<Vec<u8>>,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Fresh keys for `alg` from the operating system's CSPRNG.
    pub fn generate(alg: JwtAlg) -> Result<Self, SchemeError> {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
        };
        let err = |what: &str| SchemeError::Signing(format!("{alg} key generation failed: {what}"));
        Ok(match alg {
            JwtAlg::HS256 => {
                let mut secret = [0u8; 32];
                rand::rng().fill_bytes(&mut secret);
                JwtKeys {
                    alg,
                    encoding: EncodingKey::from_secret(&secret),
                    decoding: DecodingKey::from_secret(&secret),
                    public_der: None,
                }
            }
            JwtAlg::RS256 => {
                use aws_lc_rs::encoding::AsDer;
                use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
                use rsa::pkcs8::DecodePrivateKey;
                use rsa::traits::PublicKeyParts;
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|_| err("RSA generate"))?;
                let pkcs8 = pair.as_der().map_err(|_| err("RSA PKCS#8"))?;
                let private = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8.as_ref())
                    .map_err(|e| err(&e.to_string()))?;
                let pkcs1 = private.to_pkcs1_der().map_err(|e| err(&e.to_string()))?;
                let public = private.to_public_key();
                JwtKeys {
                    alg,
                    encoding: EncodingKey::from_rsa_der(pkcs1.as_bytes()),
                    decoding: DecodingKey::from_rsa_raw_components(
                        &public.n().to_bytes_be(),
                        &public.e().to_bytes_be(),
                    ),
                    public_der: Some(
                        public
                            .to_pkcs1_der()
                            .map_err(|e| err(&e.to_string()))?
                            .into_vec(),
                    ),
                }
            }
            JwtAlg::ES256 => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| err("P-256 generate"))?;
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
                    .map_err(|_| err("P-256 parse"))?;
                let point = pair.public_key().as_ref().to_vec();
                JwtKeys {
                    alg,
                    encoding: EncodingKey::from_ec_der(doc.as_ref()),
                    decoding: DecodingKey::from_ec_der(&point),
                    public_der: Some(point),
                }
            }
            JwtAlg::EdDSA => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let doc =
                    Ed25519KeyPair::generate_pkcs8v1(&rng).map_err(|_| err("Ed25519 generate"))?;
                let pair =
                    Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(|_| err("Ed25519 parse"))?;
                let public = pair.public_key().as_ref().to_vec();
                JwtKeys {
                    alg,
                    encoding: EncodingKey::from_ed_der(doc.as_ref()),
                    decoding: DecodingKey::from_ed_der(&public),
                    public_der: Some(public),
                }
            }
        })
    }

    /// The algorithm these keys are for.
    pub fn alg(&self) -> JwtAlg {
        self.alg
    }

    /// The verification key.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The signing key.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The signature segment (base64url) of `message` (`header.payload`, as sent) under
    /// these keys; an ES256 signature comes out in the low-S form, the one verifiers here
    /// accept. For tests and tools that build tokens of their own.
    pub fn sign(&self, message: &[u8]) -> Result<String, SchemeError> {
        let segment = jsonwebtoken::crypto::sign(message, &self.encoding, self.alg.algorithm())
            .map_err(|e| SchemeError::Signing(e.to_string()))?;
        low_s_segment(segment, self.alg)
    }

    /// Public key bytes for asymmetric algorithms; `None` for HS256.
    pub fn public_key_bytes(&self) -> Option<&[u8]> {
        self.public_der.as_deref()
    }
}

/// True for a 64-byte ES256 signature `(r, s)` whose `s` is in the upper half of the
/// group order: the malleable twin of a low-S signature.
pub fn is_high_s(signature: &[u8]) -> bool {
    low_s_twin(signature).is_some()
}

/// `signature` (raw bytes) in the low-S form when it is an ES256 signature in the high-S
/// form; `None` when it already is low-S (or is not 64 bytes, which verification refuses).
fn low_s_twin(signature: &[u8]) -> Option<Vec<u8>> {
    let sig = p256::ecdsa::Signature::from_slice(signature).ok()?;
    sig.normalize_s().map(|low| low.to_bytes().to_vec())
}

/// `token` as issued: unchanged, except that an ES256 signature in the high-S form is
/// replaced by its low-S twin (the same signature, the one spelling verifiers accept).
pub(crate) fn canonical(token: String, alg: JwtAlg) -> Result<String, SchemeError> {
    if alg != JwtAlg::ES256 {
        return Ok(token);
    }
    let Some((message, segment)) = token.rsplit_once('.') else {
        return Err(SchemeError::Signing("the signed token has no '.'".into()));
    };
    Ok(format!(
        "{message}.{}",
        low_s_segment(segment.to_owned(), alg)?
    ))
}

/// A signature segment in the low-S form (unchanged unless ES256 with a high S).
fn low_s_segment(segment: String, alg: JwtAlg) -> Result<String, SchemeError> {
    if alg != JwtAlg::ES256 {
        return Ok(segment);
    }
    let raw = URL_SAFE_NO_PAD
        .decode(&segment)
        .map_err(|e| SchemeError::Signing(format!("signature is not base64url: {e}")))?;
    Ok(match low_s_twin(&raw) {
        Some(low) => URL_SAFE_NO_PAD.encode(low),
        None => segment,
    })
}

/// Verifies the signature segment `signature` over `message` with `keys`, under the keys'
/// algorithm only. A non-canonical spelling (not base64url, high-S ECDSA) is malformed; a
/// signature that does not verify is a bad signature.
pub(crate) fn verify(message: &[u8], signature: &str, keys: &JwtKeys) -> Result<(), Rejection> {
    let raw = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| Rejection::Malformed(format!("signature: base64: {e}")))?;
    if keys.alg == JwtAlg::ES256 && low_s_twin(&raw).is_some() {
        return Err(Rejection::Malformed(
            "ES256 signature with a high S (the malleable twin of a low-S signature)".into(),
        ));
    }
    // The provider jsonwebtoken uses in this process (`crate::crypto`), called on the
    // decoded bytes so the signature is decoded once.
    let provider = crate::crypto::active().provider();
    let verifier = (provider.verifier_factory)(&keys.alg.algorithm(), &keys.decoding)
        .map_err(|e| Rejection::AlgorithmNotAllowed(format!("{}: {e}", keys.alg)))?;
    verifier
        .verify(message, &raw)
        .map_err(|_| Rejection::BadSignature)
}
