//! Keys of a JWT scheme and the two signature operations on them: signing (ES256
//! signatures normalised to low S) and verifying (high-S ES256 signatures refused).
//!
//! Keys are generated at run time, or read back from their serialized form
//! ([`JwtKeys::from_private_der`], what `scheme::keyfile` keeps in a site's key
//! directory), or hold a public key alone ([`JwtKeys::from_public_key`],
//! [`JwtKeys::from_public_jwk`]): a verify-only node, which can verify but never sign.
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

/// Fewest bits of an RSA modulus accepted from a file or a JWK (what RS256 keys here have).
pub const MIN_RSA_BITS: usize = 2048;

/// Bytes of an HS256 secret: the hash's output size (RFC 7518 3.2 asks for at least that).
const HMAC_SECRET_BYTES: usize = 32;

/// A verification key and, unless the keys are verify-only, its signing key.
pub struct JwtKeys {
    alg: JwtAlg,
    /// `None` for verify-only keys (a public key alone).
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    /// Public key bytes (PKCS#1 DER for RSA, SEC1 point for EC, raw for Ed25519); `None` for HMAC.
    public_der: Option<Vec<u8>>,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("alg", &self.alg)
            .field("can_sign", &self.encoding.is_some())
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Fresh keys for `alg` from the operating system's CSPRNG.
    pub fn generate(alg: JwtAlg) -> Result<Self, SchemeError> {
        Self::from_private_der(alg, &Self::generate_private_der(alg)?)
    }

    /// A fresh private key for `alg` in its serialized form: the 32-byte secret for HS256,
    /// a PKCS#8 document otherwise (what [`from_private_der`](Self::from_private_der) reads).
    /// Secret: it is for a key file of mode 0600 and nothing else.
    pub fn generate_private_der(alg: JwtAlg) -> Result<Vec<u8>, SchemeError> {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
        let err = |what: &str| SchemeError::Key(format!("{alg} key generation failed: {what}"));
        let rng = aws_lc_rs::rand::SystemRandom::new();
        Ok(match alg {
            JwtAlg::HS256 => {
                let mut secret = vec![0u8; HMAC_SECRET_BYTES];
                rand::rng().fill_bytes(&mut secret);
                secret
            }
            JwtAlg::RS256 => aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| err("RSA generate"))?
                .as_der()
                .map_err(|_| err("RSA PKCS#8"))?
                .as_ref()
                .to_vec(),
            JwtAlg::ES256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| err("P-256 generate"))?
                .as_ref()
                .to_vec(),
            JwtAlg::EdDSA => Ed25519KeyPair::generate_pkcs8v1(&rng)
                .map_err(|_| err("Ed25519 generate"))?
                .as_ref()
                .to_vec(),
        })
    }

    /// Keys for `alg` from a serialized private key (see
    /// [`generate_private_der`](Self::generate_private_der)); the public key is derived
    /// from it. A key of another algorithm, a short HMAC secret or RSA modulus, or bytes
    /// that are no key are refused (the error never shows the bytes).
    pub fn from_private_der(alg: JwtAlg, der: &[u8]) -> Result<Self, SchemeError> {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
        };
        let err = |what: &str| SchemeError::Key(format!("{alg} private key: {what}"));
        Ok(match alg {
            JwtAlg::HS256 => {
                if der.len() < HMAC_SECRET_BYTES {
                    return Err(err(&format!(
                        "a secret of {} bytes; at least {HMAC_SECRET_BYTES} are required",
                        der.len()
                    )));
                }
                JwtKeys {
                    alg,
                    encoding: Some(EncodingKey::from_secret(der)),
                    decoding: DecodingKey::from_secret(der),
                    public_der: None,
                }
            }
            JwtAlg::RS256 => {
                use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
                use rsa::pkcs8::DecodePrivateKey;
                use rsa::traits::PublicKeyParts;
                let private = rsa::RsaPrivateKey::from_pkcs8_der(der)
                    .map_err(|_| err("not an RSA PKCS#8 document"))?;
                let bits = private.n().bits();
                if bits < MIN_RSA_BITS {
                    return Err(err(&format!(
                        "a modulus of {bits} bits; at least {MIN_RSA_BITS} are required"
                    )));
                }
                let pkcs1 = private
                    .to_pkcs1_der()
                    .map_err(|_| err("cannot encode as PKCS#1"))?;
                let public = private.to_public_key();
                JwtKeys {
                    alg,
                    encoding: Some(EncodingKey::from_rsa_der(pkcs1.as_bytes())),
                    decoding: DecodingKey::from_rsa_raw_components(
                        &public.n().to_bytes_be(),
                        &public.e().to_bytes_be(),
                    ),
                    public_der: Some(
                        public
                            .to_pkcs1_der()
                            .map_err(|_| err("cannot encode the public key"))?
                            .into_vec(),
                    ),
                }
            }
            JwtAlg::ES256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| err("not a P-256 PKCS#8 document"))?;
                let point = pair.public_key().as_ref().to_vec();
                JwtKeys {
                    alg,
                    encoding: Some(EncodingKey::from_ec_der(der)),
                    decoding: DecodingKey::from_ec_der(&point),
                    public_der: Some(point),
                }
            }
            JwtAlg::EdDSA => {
                let pair = Ed25519KeyPair::from_pkcs8(der)
                    .map_err(|_| err("not an Ed25519 PKCS#8 document"))?;
                let public = pair.public_key().as_ref().to_vec();
                JwtKeys {
                    alg,
                    encoding: Some(EncodingKey::from_ed_der(der)),
                    decoding: DecodingKey::from_ed_der(&public),
                    public_der: Some(public),
                }
            }
        })
    }

    /// Verify-only keys for `alg` from public key bytes (the form of
    /// [`public_key_bytes`](Self::public_key_bytes)): PKCS#1 DER for RS256 (at least
    /// [`MIN_RSA_BITS`]), an uncompressed SEC1 point on P-256 for ES256, 32 bytes of a
    /// point of large order for EdDSA. HS256 has no public key: refused.
    pub fn from_public_key(alg: JwtAlg, bytes: &[u8]) -> Result<Self, SchemeError> {
        let err = |what: &str| SchemeError::Key(format!("{alg} public key: {what}"));
        let decoding = match alg {
            JwtAlg::HS256 => {
                return Err(err(
                    "HS256 verifies with the shared secret: there is no public key",
                ));
            }
            JwtAlg::RS256 => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                use rsa::traits::PublicKeyParts;
                let public = rsa::RsaPublicKey::from_pkcs1_der(bytes)
                    .map_err(|_| err("not a PKCS#1 RSA public key"))?;
                let bits = public.n().bits();
                if bits < MIN_RSA_BITS {
                    return Err(err(&format!(
                        "a modulus of {bits} bits; at least {MIN_RSA_BITS} are required"
                    )));
                }
                DecodingKey::from_rsa_raw_components(
                    &public.n().to_bytes_be(),
                    &public.e().to_bytes_be(),
                )
            }
            JwtAlg::ES256 => {
                aws_lc_rs::signature::ParsedPublicKey::new(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
                    bytes,
                )
                .map_err(|_| err("not a point on P-256"))?;
                if bytes.first() != Some(&0x04) || bytes.len() != 65 {
                    return Err(err("not an uncompressed SEC1 point (0x04 || x || y)"));
                }
                DecodingKey::from_ec_der(bytes)
            }
            JwtAlg::EdDSA => {
                check_ed25519_public(bytes).map_err(|e| err(&e))?;
                DecodingKey::from_ed_der(bytes)
            }
        };
        Ok(JwtKeys {
            alg,
            encoding: None,
            decoding,
            public_der: Some(bytes.to_vec()),
        })
    }

    /// Verify-only keys for `alg` from one public JWK (RFC 7517; as a JWK set's member):
    /// its `kty` (and `crv`) must be `alg`'s, its `alg` member, when present, `alg`
    /// itself, and its `use`, when present, `sig`; the key then passes the checks of
    /// [`from_public_key`](Self::from_public_key). A JWK holding a private or secret part
    /// (`d`, `k`) is refused: a verifier must not be handed one.
    pub fn from_public_jwk(alg: JwtAlg, jwk: &serde_json::Value) -> Result<Self, SchemeError> {
        let err = |what: String| SchemeError::Key(format!("{alg} JWK: {what}"));
        let obj = jwk
            .as_object()
            .ok_or_else(|| err("not a JSON object".into()))?;
        let text = |name: &str| -> Result<Option<&str>, SchemeError> {
            match obj.get(name) {
                None => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(err(format!("\"{name}\" is not a string"))),
            }
        };
        let bytes = |name: &str| -> Result<Vec<u8>, SchemeError> {
            let s = text(name)?.ok_or_else(|| err(format!("no \"{name}\"")))?;
            URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|_| err(format!("\"{name}\" is not base64url")))
        };
        if obj.contains_key("d") || obj.contains_key("k") {
            return Err(err(
                "it holds a private or secret key; a verifier takes the public key only".into(),
            ));
        }
        if let Some(named) = text("alg")?
            && named != alg.name()
        {
            return Err(err(format!("its \"alg\" is {named}")));
        }
        if let Some(u) = text("use")?
            && u != "sig"
        {
            return Err(err(format!("its \"use\" is {u}, not sig")));
        }
        let (kty, crv) = (text("kty")?, text("crv")?);
        let public = match (alg, kty, crv) {
            (JwtAlg::RS256, Some("RSA"), _) => {
                use rsa::pkcs1::EncodeRsaPublicKey;
                let n = rsa::BigUint::from_bytes_be(&bytes("n")?);
                let e = rsa::BigUint::from_bytes_be(&bytes("e")?);
                rsa::RsaPublicKey::new(n, e)
                    .map_err(|e| err(format!("not an RSA public key: {e}")))?
                    .to_pkcs1_der()
                    .map_err(|_| err("cannot encode the RSA key".into()))?
                    .into_vec()
            }
            (JwtAlg::ES256, Some("EC"), Some("P-256")) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(err("P-256 coordinates are 32 bytes each".into()));
                }
                let mut point = vec![0x04];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                point
            }
            (JwtAlg::EdDSA, Some("OKP"), Some("Ed25519")) => bytes("x")?,
            _ => {
                return Err(err(format!(
                    "a key of type {} (curve {}) does not verify {alg}",
                    kty.unwrap_or("?"),
                    crv.unwrap_or("none")
                )));
            }
        };
        Self::from_public_key(alg, &public)
    }

    /// True when these keys can sign (false for verify-only keys).
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// The algorithm these keys are for.
    pub fn alg(&self) -> JwtAlg {
        self.alg
    }

    /// The verification key.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The signing key; `None` for verify-only keys.
    pub fn encoding_key(&self) -> Option<&EncodingKey> {
        self.encoding.as_ref()
    }

    /// The signature segment (base64url) of `message` (`header.payload`, as sent) under
    /// these keys; an ES256 signature comes out in the low-S form, the one verifiers here
    /// accept. For tests and tools that build tokens of their own.
    pub fn sign(&self, message: &[u8]) -> Result<String, SchemeError> {
        let key = self.encoding.as_ref().ok_or_else(verify_only)?;
        let segment = jsonwebtoken::crypto::sign(message, key, self.alg.algorithm())
            .map_err(|e| SchemeError::Signing(e.to_string()))?;
        low_s_segment(segment, self.alg)
    }

    /// Public key bytes for asymmetric algorithms; `None` for HS256.
    pub fn public_key_bytes(&self) -> Option<&[u8]> {
        self.public_der.as_deref()
    }
}

/// The refusal to sign with verify-only keys.
pub(crate) fn verify_only() -> SchemeError {
    SchemeError::Signing(
        "these keys are verify-only (a public key alone): nothing can be signed".into(),
    )
}

/// Refuses 32 bytes that are not the canonical encoding of an Ed25519 point of large
/// order: under a small-order key a forged signature verifies for any message.
pub(crate) fn check_ed25519_public(bytes: &[u8]) -> Result<(), String> {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let x = <[u8; 32]>::try_from(bytes)
        .map_err(|_| format!("an Ed25519 public key is 32 bytes, got {}", bytes.len()))?;
    let encoded = CompressedEdwardsY(x);
    let point = encoded
        .decompress()
        .ok_or("not a point on the curve".to_owned())?;
    if point.is_small_order() {
        return Err("a point of small order (a forged signature would verify)".into());
    }
    if point.compress() != encoded {
        return Err("not the canonical encoding of its point".into());
    }
    Ok(())
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
