//! What anyone holding a token can read from it: JWT header and claims without a key,
//! signature verification with a JWK, a PASETO's footer (and a `v4.public` token's claims),
//! and what an opaque token reveals (nothing).
//!
//! [`inspect`] is the library side of `tokenbench inspect TOKEN [--jwk FILE]`. It never
//! enforces expiry: it reports it. With a JWK it verifies the signature using only the
//! algorithm the *key* allows (its `alg` member, else the one implied by `kty`/`crv`), so a
//! token cannot pick its own algorithm (`alg: none`, HS256 signed with an RSA public key).
//!
//! ```
//! use tokenbench::inspect::{inspect, TokenView};
//!
//! let report = inspect("c2Vzc2lvbi1pZC0xMjM0NQ", None, 1_700_000_000).unwrap();
//! assert!(matches!(report.token, TokenView::Opaque(_)));
//! assert_eq!(report.exit_code(), 0);
//! println!("{}", report.render());
//! ```
//!
//! - `jwk`: verification keys read from a JWK, and the public JWK of tokenbench's keys.
//! - `render`: the text report of an [`Inspection`].

mod jwk;
mod render;

pub use jwk::public_jwk;
use jwk::{VerifierKey, alg_name, signature_bytes};

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde::Serialize;
use serde_json::Value;

/// Version of the JSON an [`Inspection`] serialises to; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Smallest RSA modulus accepted in a JWK, in bits (aws-lc-rs refuses smaller keys too).
pub const MIN_RSA_BITS: usize = 2048;

/// Why a token or a JWK could not be inspected at all. Every failure is one of these;
/// none is a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// The token is empty (or only whitespace).
    #[error("empty token")]
    Empty,
    /// Three dot-separated segments, so meant as a JWT, but the header or claims cannot be
    /// read (not base64url, not JSON).
    #[error("looks like a JWT (three dot-separated segments) but cannot be read: {0}")]
    MalformedJwt(String),
    /// The JWK text is not JSON, not a single key, or lacks or garbles a member its key
    /// type needs.
    #[error("invalid JWK: {0}")]
    InvalidJwk(String),
    /// A well-formed JWK of a key type, curve or algorithm this verifier does not support.
    #[error("unsupported JWK: {0}")]
    UnsupportedJwk(String),
}

/// Everything `inspect` learned about one token. Serialises to the `--json` output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    /// [`SCHEMA_VERSION`] of this structure.
    pub schema_version: u32,
    /// Length of the token in characters (surrounding whitespace removed).
    pub chars: usize,
    /// Length of the token in bytes, as it travels in a header or cookie.
    pub bytes: usize,
    /// What the token is, and what it reveals.
    pub token: TokenView,
    /// Outcome of signature verification; `None` when no JWK was given.
    pub signature: Option<SignatureCheck>,
    /// Remarks worth a reader's attention (private key material in the JWK, JWE...).
    pub notes: Vec<String>,
}

/// The two token families, as seen by someone holding the token.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenView {
    /// A JWS-signed JWT: header and claims are readable without any key.
    Jwt(JwtView),
    /// A PASETO v4: the footer is readable, the claims only in a `v4.public` token.
    Paseto(PasetoView),
    /// Anything else: a reference whose meaning lives on the server.
    Opaque(OpaqueView),
}

/// What a JWT shows to anyone who holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JwtView {
    /// The decoded JOSE header.
    pub header: Value,
    /// The decoded claims set.
    pub claims: Value,
    /// The `alg` the header names, if it names one as a string.
    pub header_alg: Option<String>,
    /// Bytes of decoded claims JSON (what a JWT carries that a session ID does not).
    pub claims_bytes: usize,
    /// Bytes of decoded signature; `None` when the signature segment is not base64url.
    pub signature_bytes: Option<usize>,
    /// The `exp` claim against the time given to [`inspect`]; reported, never enforced.
    pub expiry: Expiry,
    /// `iat`, `nbf` and `exp` as UTC dates (added in schema version 1 without a bump:
    /// a new field, nothing else changed).
    pub dates_utc: ClaimDates,
}

/// What a PASETO v4 shows to anyone who holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PasetoView {
    /// `v4.public` or `v4.local`.
    pub protocol: String,
    /// The claims of a `v4.public` token; `None` for `v4.local` (encrypted).
    pub claims: Option<Value>,
    /// Bytes of readable claims JSON (0 for `v4.local`).
    pub claims_bytes: usize,
    /// The footer, as text (tokenbench puts the key's PASERK id there); readable in both.
    pub footer: Option<String>,
    /// The `exp` claim against the time given to [`inspect`], when the claims are readable.
    pub expiry: Option<Expiry>,
}

/// The NumericDate claims of a JWT as UTC dates, RFC 3339 (`2026-12-01T08:47:16Z`), for
/// reading beside the numbers in the claims. `None` where the claim is absent, not a
/// NumericDate, or outside the years 1970 to 9999.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimDates {
    /// `iat`: when the token was issued.
    pub iat: Option<String>,
    /// `nbf`: not to be accepted before this time.
    pub nbf: Option<String>,
    /// `exp`: not to be accepted from this time on.
    pub exp: Option<String>,
}

impl ClaimDates {
    fn of(claims: &Value) -> Self {
        let date = |name| claims.get(name).and_then(numeric_date).and_then(utc_date);
        ClaimDates {
            iat: date("iat"),
            nbf: date("nbf"),
            exp: date("exp"),
        }
    }
}

/// The `exp` claim of a JWT compared with "now".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Expiry {
    /// No `exp` claim: the token never expires by itself.
    NoExp,
    /// `exp` is at or before now (RFC 7519: not accepted on or after `exp`).
    Expired {
        /// The `exp` claim, Unix seconds.
        exp: i64,
        /// Seconds since `exp` (0 when `exp` is exactly now).
        secs_ago: u64,
    },
    /// `exp` is in the future.
    ExpiresIn {
        /// The `exp` claim, Unix seconds.
        exp: i64,
        /// Seconds left until `exp`.
        secs: u64,
    },
    /// `exp` is present but not a usable NumericDate.
    Unreadable {
        /// What is wrong with it.
        reason: String,
    },
}

/// What an opaque token shows: its shape, and no data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpaqueView {
    /// True when the token is canonical base64url without padding.
    pub base64url: bool,
    /// How the token was decoded to bytes, if it decodes at all.
    pub decoded: Option<Decoded>,
    /// Shannon entropy of the token's characters, bits per character (an observation on
    /// one sample, not a randomness test; it is capped by log2 of the length).
    pub char_entropy_bits_per_char: f64,
    /// Number of distinct characters in the token.
    pub distinct_chars: usize,
    /// Always false: an opaque token is a reference to server-side state and carries no
    /// readable data (no user id, roles or expiry).
    pub readable_data: bool,
}

/// An opaque token's bytes, once decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decoded {
    /// The encoding assumed: `hex`, `base64url` or `base64`.
    pub encoding: String,
    /// Decoded length in bytes.
    pub bytes: usize,
    /// Upper bound on the randomness it can hold: `bytes * 8`, reached only when every
    /// byte comes from a CSPRNG.
    pub max_random_bits: usize,
}

/// The result of checking a JWT's signature with a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// The only algorithm tried: the one the key allows.
    pub allowed_alg: String,
    /// The JWK's `kty`.
    pub kty: String,
    /// The JWK's `kid`, if any.
    pub kid: Option<String>,
    /// Valid or invalid, with the reason.
    pub verdict: Verdict,
}

/// Whether a signature verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    /// The signature verifies with the key, under the algorithm the key allows.
    Valid,
    /// It does not; the string says why.
    Invalid(String),
}

/// Inspects `token`: JWT or opaque, what it reveals, its expiry against `now_secs` (Unix
/// seconds), and, when `jwk_json` holds one JWK as JSON text, whether its signature
/// verifies with that key under the algorithm the key allows.
///
/// Surrounding whitespace of `token` is ignored, and so is a leading `Bearer ` (any
/// casing, as in an `Authorization` header's value), with a note. Expiry, `nbf`, `aud` and
/// `iss` never make a signature invalid.
pub fn inspect(
    token: &str,
    jwk_json: Option<&str>,
    now_secs: u64,
) -> Result<Inspection, InspectError> {
    let mut trimmed = token.trim();
    let mut notes = Vec::new();
    if trimmed.len() != token.len() && !trimmed.is_empty() {
        notes.push("surrounding whitespace was ignored".to_owned());
    }
    if let Some(credentials) = strip_bearer(trimmed) {
        notes.push(
            "a leading \"Bearer \" (the scheme of an Authorization header) was removed; \
             the token is what follows it"
                .to_owned(),
        );
        trimmed = credentials;
    }
    if trimmed.is_empty() {
        return Err(InspectError::Empty);
    }
    let key = jwk_json
        .map(|text| VerifierKey::from_jwk_json(text, &mut notes))
        .transpose()?;

    let segments = trimmed.split('.').count();
    let (view, verdict) = if let Some(seen) = crate::scheme::paseto::peek(trimmed) {
        let verdict = key.as_ref().map(|_| {
            Verdict::Invalid(
                "a JWK verifies JWS signatures; a PASETO is verified with its PASERK key".into(),
            )
        });
        (TokenView::Paseto(read_paseto(seen, now_secs)), verdict)
    } else if segments == 3 {
        let jwt = read_jwt(trimmed, now_secs, &mut notes)?;
        if let (Some(alg), Some(got @ 1..)) = (&jwt.header_alg, jwt.signature_bytes) {
            let rsa_bytes = key.as_ref().and_then(|k| k.rsa_modulus_bytes);
            if let Some(want) = signature_bytes(alg, rsa_bytes)
                && want != got
            {
                notes.push(format!(
                    "the signature is {got} bytes, but {alg} signatures{} are {want}: \
                     truncated, padded or in another encoding (DER?), it cannot verify",
                    if rsa_bytes.is_some() && alg.starts_with(['R', 'P']) {
                        " under this key"
                    } else {
                        ""
                    }
                ));
            }
        }
        let verdict = key.as_ref().map(|k| k.verify(trimmed));
        if jwt.header_alg.as_deref() == Some("ES256")
            && trimmed
                .rsplit('.')
                .next()
                .and_then(|sig| URL_SAFE_NO_PAD.decode(sig).ok())
                .is_some_and(|raw| crate::scheme::jwt::is_high_s(&raw))
        {
            notes.push(
                "the ES256 signature has a high S: valid ECDSA, but the malleable twin of a \
                 low-S signature, a spelling tokenbench's own verifiers refuse"
                    .to_owned(),
            );
        }
        if let Some(k) = &key
            && let (Some(jwk_kid), Some(token_kid)) = (&k.kid, jwt.header.get("kid"))
            && token_kid.as_str() != Some(jwk_kid.as_str())
        {
            notes.push(format!(
                "the token's header names kid {token_kid}, the JWK is kid {jwk_kid:?}: \
                 probably not the key it was signed with"
            ));
        }
        (TokenView::Jwt(jwt), verdict)
    } else {
        if segments == 5 && segment_json(trimmed.split('.').next().unwrap_or("")).is_some() {
            notes.push(
                "five dot-separated segments with a JSON header: this looks like a JWE \
                 (encrypted JWT); its claims are not readable without the decryption key"
                    .to_owned(),
            );
        }
        let verdict = key
            .as_ref()
            .map(|_| Verdict::Invalid("an opaque token carries no signature to verify".into()));
        (TokenView::Opaque(read_opaque(trimmed)), verdict)
    };
    Ok(Inspection {
        schema_version: SCHEMA_VERSION,
        chars: trimmed.chars().count(),
        bytes: trimmed.len(),
        token: view,
        signature: key.zip(verdict).map(|(k, verdict)| SignatureCheck {
            allowed_alg: alg_name(k.alg).to_owned(),
            kty: k.kty,
            kid: k.kid,
            verdict,
        }),
        notes,
    })
}

/// A PASETO's readable parts, with the expiry of a `v4.public` token.
fn read_paseto(seen: crate::scheme::paseto::PasetoPeek, now_secs: u64) -> PasetoView {
    let expiry = seen.claims.as_ref().map(|claims| match claims.get("exp") {
        None => Expiry::NoExp,
        Some(exp) => match exp.as_str().map(crate::scheme::paseto::claims::unix_secs) {
            Some(Ok(secs)) => {
                // A date that does not fit i64 seconds is past 9999 anyway.
                let exp = i64::try_from(secs).unwrap_or(i64::MAX);
                let delta = i128::from(exp) - i128::from(now_secs);
                let secs = u64::try_from(delta.unsigned_abs()).unwrap_or(u64::MAX);
                if delta <= 0 {
                    Expiry::Expired {
                        exp,
                        secs_ago: secs,
                    }
                } else {
                    Expiry::ExpiresIn { exp, secs }
                }
            }
            Some(Err(reason)) => Expiry::Unreadable { reason },
            None => Expiry::Unreadable {
                reason: format!("{exp} is not an RFC 3339 date string"),
            },
        },
    });
    PasetoView {
        protocol: seen.purpose.header().trim_end_matches('.').to_owned(),
        claims_bytes: seen.claims.as_ref().map_or(0, |c| c.to_string().len()),
        claims: seen.claims,
        footer: seen.footer,
        expiry,
    }
}

/// What follows `Bearer` and its spaces (RFC 6750 2.1; the scheme is case-insensitive,
/// RFC 9110 11.1), when `token` starts with it.
fn strip_bearer(token: &str) -> Option<&str> {
    let (scheme, rest) = token.split_at_checked("Bearer".len())?;
    if !scheme.eq_ignore_ascii_case("Bearer") || !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(rest.trim_start_matches([' ', '\t']))
}

/// Header and claims of a three-segment token, read without a key.
fn read_jwt(token: &str, now_secs: u64, notes: &mut Vec<String>) -> Result<JwtView, InspectError> {
    let mut parts = token.split('.');
    let (h, p, s) = match (parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s)) => (h, p, s),
        _ => return Err(InspectError::MalformedJwt("not three segments".into())),
    };
    let header = decode_segment("header", h)?;
    let claims_raw = URL_SAFE_NO_PAD
        .decode(p)
        .map_err(|e| InspectError::MalformedJwt(format!("claims segment is not base64url: {e}")))?;
    let claims: Value = serde_json::from_slice(&claims_raw)
        .map_err(|e| InspectError::MalformedJwt(format!("claims are not JSON: {e}")))?;
    if !header.is_object() {
        return Err(InspectError::MalformedJwt(
            "header is JSON but not an object".into(),
        ));
    }
    if !claims.is_object() {
        notes.push("the claims are JSON but not an object, which RFC 7519 requires".to_owned());
    }
    let signature_bytes = URL_SAFE_NO_PAD.decode(s).ok().map(|b| b.len());
    match signature_bytes {
        Some(0) => notes.push("empty signature segment: the token is unsigned".to_owned()),
        None => notes.push("the signature segment is not base64url".to_owned()),
        Some(_) => {}
    }
    let header_alg = header.get("alg").and_then(Value::as_str).map(str::to_owned);
    Ok(JwtView {
        expiry: expiry(&claims, now_secs),
        dates_utc: ClaimDates::of(&claims),
        header,
        claims,
        header_alg,
        claims_bytes: claims_raw.len(),
        signature_bytes,
    })
}

fn decode_segment(name: &str, segment: &str) -> Result<Value, InspectError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|e| InspectError::MalformedJwt(format!("{name} segment is not base64url: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| InspectError::MalformedJwt(format!("{name} is not JSON: {e}")))
}

/// A segment decoded as base64url JSON, if it is one.
fn segment_json(segment: &str) -> Option<Value> {
    decode_segment("segment", segment).ok()
}

/// A NumericDate claim as whole Unix seconds; `None` when it is not a number (or too
/// large to be a time). A fraction is dropped: a token dies from the whole second on.
fn numeric_date(value: &Value) -> Option<i64> {
    match (value.as_i64(), value.as_f64()) {
        (Some(i), _) => Some(i),
        (None, Some(f)) if f.is_finite() && f.abs() < 9.0e15 => Some(f.floor() as i64),
        _ => None,
    }
}

/// RFC 3339 UTC date of Unix time `secs`, for the years 1970 to 9999.
fn utc_date(secs: i64) -> Option<String> {
    u64::try_from(secs).ok().and_then(crate::units::rfc3339)
}

/// `exp 1796114836 = 2026-12-01T08:47:16Z`: a NumericDate claim with its date.
pub(super) fn shown_date(name: &str, value: &Value) -> String {
    match numeric_date(value) {
        None => format!("{name} {value}, not a NumericDate"),
        Some(secs) => match utc_date(secs) {
            Some(date) => format!("{name} {value} = {date}"),
            None => format!("{name} {value}, not a date in the years 1970 to 9999"),
        },
    }
}

fn expiry(claims: &Value, now_secs: u64) -> Expiry {
    let Some(exp) = claims.get("exp") else {
        return Expiry::NoExp;
    };
    let Some(exp) = numeric_date(exp) else {
        return Expiry::Unreadable {
            reason: format!("{exp} is not a NumericDate (seconds since the epoch)"),
        };
    };
    let delta = i128::from(exp) - i128::from(now_secs);
    let secs = u64::try_from(delta.unsigned_abs()).unwrap_or(u64::MAX);
    if delta <= 0 {
        Expiry::Expired {
            exp,
            secs_ago: secs,
        }
    } else {
        Expiry::ExpiresIn { exp, secs }
    }
}

fn read_opaque(token: &str) -> OpaqueView {
    let base64url = URL_SAFE_NO_PAD.decode(token).ok();
    let is_hex = token.len().is_multiple_of(2)
        && (token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            || token
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')));
    let decoded = if is_hex {
        // Only hex digits: reading it as base64url would overstate its bytes by half.
        Some(("hex", token.len() / 2))
    } else if let Some(bytes) = &base64url {
        Some(("base64url", bytes.len()))
    } else {
        STANDARD
            .decode(token)
            .or_else(|_| STANDARD_NO_PAD.decode(token))
            .ok()
            .map(|b| ("base64", b.len()))
    };
    let mut counts: HashMap<char, usize> = HashMap::new();
    let mut total = 0usize;
    for c in token.chars() {
        *counts.entry(c).or_default() += 1;
        total += 1;
    }
    let entropy = if total == 0 {
        0.0
    } else {
        let n = total as f64;
        counts
            .values()
            .map(|&c| {
                let p = c as f64 / n;
                -p * p.log2()
            })
            .sum::<f64>()
            .max(0.0)
    };
    OpaqueView {
        base64url: base64url.is_some(),
        decoded: decoded.map(|(encoding, bytes)| Decoded {
            encoding: encoding.to_owned(),
            bytes,
            max_random_bits: bytes.saturating_mul(8),
        }),
        char_entropy_bits_per_char: entropy,
        distinct_chars: counts.len(),
        readable_data: false,
    }
}
