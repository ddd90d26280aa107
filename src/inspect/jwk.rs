//! Verification keys read from one JWK, bound to the one algorithm the key allows, with
//! the checks that refuse weak or malformed keys (short RSA moduli, points off the curve,
//! small-order Ed25519 keys); and the public JWK of tokenbench's own keys.

use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::{Map, Value, json};

use super::{InspectError, MIN_RSA_BITS, Verdict};
use crate::scheme::jwt::{JoseHeader, JwtAlg, JwtKeys};

/// The public half of `keys` as a JWK (with `alg` and `use: sig`), ready to pass to
/// [`inspect`](super::inspect) as JSON text.
///
/// `None` for HS256, whose shared secret is not public and is not exposed by [`JwtKeys`],
/// and, defensively, if the stored public key bytes cannot be parsed (tokenbench wrote
/// them itself, so this is not expected).
pub fn public_jwk(keys: &JwtKeys) -> Option<Value> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    let bytes = keys.public_key_bytes()?;
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let alg = keys.alg().name();
    match keys.alg() {
        JwtAlg::HS256 => None,
        JwtAlg::RS256 => {
            let public = rsa::RsaPublicKey::from_pkcs1_der(bytes).ok()?;
            Some(json!({
                "kty": "RSA", "alg": alg, "use": "sig",
                "n": b64(&public.n().to_bytes_be()),
                "e": b64(&public.e().to_bytes_be()),
            }))
        }
        JwtAlg::ES256 => {
            // SEC1 uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
            let (tag, xy) = bytes.split_first()?;
            if *tag != 0x04 || xy.len() != 64 {
                return None;
            }
            let (x, y) = xy.split_at(32);
            Some(json!({
                "kty": "EC", "crv": "P-256", "alg": alg, "use": "sig",
                "x": b64(x), "y": b64(y),
            }))
        }
        JwtAlg::EdDSA => Some(json!({
            "kty": "OKP", "crv": "Ed25519", "alg": alg, "use": "sig",
            "x": b64(bytes),
        })),
    }
}

pub(super) fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        // `Algorithm` is non-exhaustive; a future variant is only ever reached if a JWK
        // names it, which `VerifierKey` refuses first.
        _ => "unknown",
    }
}

/// A verification key read from one JWK, bound to the one algorithm it allows.
pub(super) struct VerifierKey {
    /// The one algorithm the key allows.
    pub(super) alg: Algorithm,
    /// The JWK's `kty`.
    pub(super) kty: String,
    /// The JWK's `kid`.
    pub(super) kid: Option<String>,
    key: DecodingKey,
    /// Bytes of the modulus of an RSA key: the length of its signatures.
    pub(super) rsa_modulus_bytes: Option<usize>,
}

impl VerifierKey {
    /// Parses and checks a JWK. The allowed algorithm is its `alg` member when present
    /// (and consistent with the key), else the one implied by `kty`/`crv`.
    pub(super) fn from_jwk_json(text: &str, notes: &mut Vec<String>) -> Result<Self, InspectError> {
        let invalid = |m: String| InspectError::InvalidJwk(m);
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| invalid("not a JSON object".into()))?;
        if obj.contains_key("keys") {
            return Err(invalid(
                "this is a JWK Set; pass one key from its \"keys\" array".into(),
            ));
        }
        let kty =
            str_member(obj, "kty")?.ok_or_else(|| invalid("missing \"kty\" (key type)".into()))?;
        if str_member(obj, "use")? == Some("enc") {
            return Err(invalid(
                "the key is marked for encryption (\"use\": \"enc\"), not for signatures".into(),
            ));
        }
        let kid = str_member(obj, "kid")?.map(str::to_owned);
        let crv = str_member(obj, "crv")?;

        let mut rsa_modulus_bytes = None;
        let (family, default_alg) = match kty {
            "oct" => {
                if b64_member(obj, "k")?.is_empty() {
                    return Err(invalid("empty HMAC secret \"k\"".into()));
                }
                notes.push(
                    "the JWK is a shared secret: whoever holds it can also mint tokens".into(),
                );
                (AlgorithmFamily::Hmac, Algorithm::HS256)
            }
            "RSA" => {
                let n = b64_member(obj, "n")?;
                b64_member(obj, "e")?;
                let bits = bit_len(&n);
                if bits < MIN_RSA_BITS {
                    return Err(InspectError::UnsupportedJwk(format!(
                        "RSA modulus of {bits} bits; at least {MIN_RSA_BITS} are required"
                    )));
                }
                rsa_modulus_bytes = Some(bits.div_ceil(8));
                (AlgorithmFamily::Rsa, Algorithm::RS256)
            }
            "EC" => {
                let (alg, len, verification): (
                    _,
                    _,
                    &'static aws_lc_rs::signature::EcdsaVerificationAlgorithm,
                ) = match crv {
                    Some("P-256") => (
                        Algorithm::ES256,
                        32,
                        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
                    ),
                    Some("P-384") => (
                        Algorithm::ES384,
                        48,
                        &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED,
                    ),
                    Some(other) => {
                        return Err(InspectError::UnsupportedJwk(format!(
                            "EC curve {other:?}; supported: P-256 (ES256), P-384 (ES384)"
                        )));
                    }
                    None => return Err(invalid("EC key without \"crv\"".into())),
                };
                let x = b64_member(obj, "x")?;
                let y = b64_member(obj, "y")?;
                if x.len() != len || y.len() != len {
                    return Err(invalid(format!(
                        "{} coordinates must be {len} bytes each, got x {} and y {}",
                        crv.unwrap_or_default(),
                        x.len(),
                        y.len()
                    )));
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                aws_lc_rs::signature::ParsedPublicKey::new(verification, &point).map_err(|e| {
                    invalid(format!(
                        "(x, y) is not a point on {}: {e}",
                        crv.unwrap_or_default()
                    ))
                })?;
                (AlgorithmFamily::Ec, alg)
            }
            "OKP" => match crv {
                Some("Ed25519") => {
                    let x = b64_member(obj, "x")?;
                    let Ok(x) = <[u8; 32]>::try_from(x.as_slice()) else {
                        return Err(invalid(format!(
                            "an Ed25519 public key \"x\" is 32 bytes, got {}",
                            x.len()
                        )));
                    };
                    check_ed25519_point(x)?;
                    (AlgorithmFamily::Ed, Algorithm::EdDSA)
                }
                Some(other) => {
                    return Err(InspectError::UnsupportedJwk(format!(
                        "OKP curve {other:?}; only Ed25519 (EdDSA) signs JWTs here"
                    )));
                }
                None => return Err(invalid("OKP key without \"crv\"".into())),
            },
            other => {
                return Err(InspectError::UnsupportedJwk(format!(
                    "key type (kty) {other:?}; supported: oct, RSA, EC (P-256, P-384), \
                     OKP (Ed25519)"
                )));
            }
        };

        let alg = match str_member(obj, "alg")? {
            None => default_alg,
            Some(name) => {
                let alg = Algorithm::from_str(name)
                    .map_err(|_| InspectError::UnsupportedJwk(format!("JWK \"alg\" {name:?}")))?;
                // The curve fixes the ECDSA algorithm; other families allow any member.
                let fits =
                    alg.family() == family && (family != AlgorithmFamily::Ec || alg == default_alg);
                if !fits {
                    return Err(invalid(format!(
                        "\"alg\" {name} does not fit a {kty} key{}",
                        crv.map(|c| format!(" on {c}")).unwrap_or_default()
                    )));
                }
                alg
            }
        };

        if kty != "oct" && obj.contains_key("d") {
            notes.push(
                "the JWK holds a private key (\"d\"); only its public part is used. \
                 Do not share this file."
                    .into(),
            );
        }

        let jwk: Jwk = serde_json::from_value(value.clone())
            .map_err(|e| invalid(format!("not a JWK jsonwebtoken can read: {e}")))?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| invalid(format!("cannot build a verification key: {e}")))?;
        Ok(Self {
            alg,
            kty: kty.to_owned(),
            kid,
            key,
            rsa_modulus_bytes,
        })
    }

    /// Verifies the signature of `token` (whose decoded header is `header`) with this key
    /// and only this key's algorithm. Claims are not validated: `exp`, `nbf`, `aud` and
    /// `iss` are reported elsewhere, never enforced here.
    pub(super) fn verify(&self, token: &str) -> Verdict {
        let allowed = alg_name(self.alg);
        // The one header policy every verifier here applies (strict parse, the key's
        // algorithm only, no `crit`, no `b64: false`, no nested JWT), so `inspect --jwk` and
        // `validate` can never disagree about a header.
        let segment = token.split('.').next().unwrap_or_default();
        if let Err(e) = JoseHeader::parse_checked(segment, allowed) {
            return Verdict::Invalid(e.to_string());
        }
        crate::crypto::active();
        let mut validation = Validation::new(self.alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        match jsonwebtoken::decode::<Value>(token, &self.key, &validation) {
            Ok(_) => Verdict::Valid,
            Err(e) => Verdict::Invalid(match e.into_kind() {
                ErrorKind::InvalidSignature => "the signature does not match the header and \
                                                claims under this key (tampered, or signed \
                                                with another key)"
                    .to_owned(),
                ErrorKind::Base64(e) => format!("the signature is not base64url: {e}"),
                ErrorKind::Json(e) => {
                    format!("the signature may match, but header or claims are not a JWT's: {e}")
                }
                ErrorKind::InvalidAlgorithm => {
                    format!("the key does not allow this algorithm ({allowed})")
                }
                kind @ (ErrorKind::InvalidKeyFormat
                | ErrorKind::InvalidRsaKey(_)
                | ErrorKind::InvalidEcdsaKey
                | ErrorKind::InvalidEddsaKey) => {
                    format!("the crypto backend refused the key: {kind:?}")
                }
                other => format!("{other:?}"),
            }),
        }
    }
}

/// Length in bytes of every signature `alg` (a JWS `alg` name) makes: fixed for HMAC,
/// ECDSA (`r || s`, RFC 7518 3.4) and EdDSA; the modulus length for RSA, when the key is
/// known. `None` when it cannot be told.
pub(super) fn signature_bytes(alg: &str, rsa_modulus_bytes: Option<usize>) -> Option<usize> {
    match alg {
        "HS256" => Some(32),
        "HS384" => Some(48),
        "HS512" => Some(64),
        "ES256" | "EdDSA" => Some(64),
        "ES384" => Some(96),
        "ES512" => Some(132),
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => rsa_modulus_bytes,
        _ => None,
    }
}

/// Refuses an Ed25519 public key that is not a point, is one of the 8 points of small
/// order (the identity, the all-zero encoding...), or is not the canonical encoding of its
/// point (RFC 8032 5.1.3). Under a small-order key a signature with `S = 0` and a
/// small-order `R` verifies for any message (a universal forgery), and the crypto
/// backends accept such keys; a second encoding of a point is a second name for one key.
fn check_ed25519_point(x: [u8; 32]) -> Result<(), InspectError> {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let encoded = CompressedEdwardsY(x);
    let Some(point) = encoded.decompress() else {
        return Err(InspectError::InvalidJwk(
            "the Ed25519 public key \"x\" is not a point on the curve".into(),
        ));
    };
    if point.is_small_order() {
        return Err(InspectError::InvalidJwk(
            "the Ed25519 public key \"x\" is a point of small order: under it a forged \
             signature verifies for any token"
                .into(),
        ));
    }
    if point.compress() != encoded {
        return Err(InspectError::InvalidJwk(
            "the Ed25519 public key \"x\" is not the canonical encoding of its point \
             (RFC 8032 5.1.3)"
                .into(),
        ));
    }
    Ok(())
}

/// A string member of a JSON object: `None` when absent, an error when not a string.
fn str_member<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, InspectError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(InspectError::InvalidJwk(format!(
            "\"{name}\" must be a string, got {other}"
        ))),
    }
}

/// A required base64url (unpadded) member of a JWK, decoded.
fn b64_member(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, InspectError> {
    let s = str_member(obj, name)?
        .ok_or_else(|| InspectError::InvalidJwk(format!("missing \"{name}\"")))?;
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| InspectError::InvalidJwk(format!("\"{name}\" is not base64url: {e}")))
}

/// Bit length of a big-endian unsigned integer.
fn bit_len(be: &[u8]) -> usize {
    match be.iter().position(|&b| b != 0) {
        None => 0,
        Some(i) => (be.len() - i) * 8 - be[i].leading_zeros() as usize,
    }
}
