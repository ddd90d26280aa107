//! What anyone holding a token can read from it: JWT header and claims without a key,
//! signature verification with a JWK, and what an opaque token reveals (nothing).
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

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::scheme::jwt::{JoseHeader, JwtAlg, JwtKeys};

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

impl Inspection {
    /// Process exit code for the CLI: 0 when no JWK was given or the signature is valid,
    /// 1 when a JWK was given and the signature is invalid (an opaque token has no
    /// signature, so with a JWK it counts as invalid).
    pub fn exit_code(&self) -> i32 {
        match &self.signature {
            Some(SignatureCheck {
                verdict: Verdict::Invalid(_),
                ..
            }) => 1,
            _ => 0,
        }
    }

    /// Human-readable, multi-line report; JSON parts pretty-printed. Ends with a newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail, so the fmt::Results below are ignored.
        match &self.token {
            TokenView::Jwt(jwt) => {
                let _ = writeln!(
                    out,
                    "token: JWT ({} characters, {} bytes of claims)",
                    self.chars, jwt.claims_bytes
                );
                let _ = writeln!(out, "header (readable by anyone holding the token):");
                let _ = writeln!(out, "{}", pretty(&jwt.header));
                let _ = writeln!(out, "claims (readable by anyone holding the token):");
                let _ = writeln!(out, "{}", pretty(&jwt.claims));
                for (name, what) in [("iat", "issued at"), ("nbf", "not before")] {
                    if let Some(value) = jwt.claims.get(name) {
                        let _ = writeln!(out, "{what}: {}", shown_date(name, value));
                    }
                }
                let _ = writeln!(out, "expiry: {}; reported, not enforced", jwt.expiry);
            }
            TokenView::Opaque(o) => {
                let _ = writeln!(out, "token: opaque ({} characters)", self.chars);
                let _ = writeln!(out, "base64url: {}", if o.base64url { "yes" } else { "no" });
                match &o.decoded {
                    Some(d) => {
                        let _ = writeln!(out, "decodes as {}: {} bytes", d.encoding, d.bytes);
                        let _ = writeln!(
                            out,
                            "randomness: at most {} bits (if every byte comes from a CSPRNG)",
                            d.max_random_bits
                        );
                    }
                    None => {
                        let _ = writeln!(out, "decodes as: nothing recognised (not hex or base64)");
                    }
                }
                let _ = writeln!(
                    out,
                    "character entropy: {:.2} bits/char over {} distinct characters \
                     (an observation, not a randomness test)",
                    o.char_entropy_bits_per_char, o.distinct_chars
                );
                let _ = writeln!(
                    out,
                    "readable data: none. An opaque token is only a reference; the user, roles \
                     and expiry live in the server's session store."
                );
            }
        }
        match &self.signature {
            None => {
                let _ = writeln!(out, "signature: not checked (no JWK given)");
            }
            Some(check) => {
                let kid = check
                    .kid
                    .as_deref()
                    .map(|k| format!(", kid {k:?}"))
                    .unwrap_or_default();
                let key = format!("{} key allowing {}{kid}", check.kty, check.allowed_alg);
                match &check.verdict {
                    Verdict::Valid => {
                        let _ = writeln!(out, "signature: valid ({key})");
                    }
                    Verdict::Invalid(reason) => {
                        let _ = writeln!(out, "signature: invalid ({key}): {reason}");
                    }
                }
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expiry::NoExp => f.write_str("no exp claim: the token never expires by itself"),
            Expiry::Expired { exp, secs_ago } => {
                write!(
                    f,
                    "expired {secs_ago} s ago ({})",
                    shown_date("exp", &(*exp).into())
                )
            }
            Expiry::ExpiresIn { exp, secs } => {
                write!(
                    f,
                    "expires in {secs} s ({})",
                    shown_date("exp", &(*exp).into())
                )
            }
            Expiry::Unreadable { reason } => write!(f, "unreadable exp: {reason}"),
        }
    }
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
    let (view, verdict) = if segments == 3 {
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

/// What follows `Bearer` and its spaces (RFC 6750 2.1; the scheme is case-insensitive,
/// RFC 9110 11.1), when `token` starts with it.
fn strip_bearer(token: &str) -> Option<&str> {
    let (scheme, rest) = token.split_at_checked("Bearer".len())?;
    if !scheme.eq_ignore_ascii_case("Bearer") || !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(rest.trim_start_matches([' ', '\t']))
}

/// The public half of `keys` as a JWK (with `alg` and `use: sig`), ready to pass to
/// [`inspect`] as JSON text.
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
    const END_OF_9999: i64 = 253_402_300_799;
    u64::try_from(secs)
        .ok()
        .filter(|_| secs <= END_OF_9999)
        .map(crate::results::rfc3339)
}

/// `exp 1796114836 = 2026-12-01T08:47:16Z`: a NumericDate claim with its date.
fn shown_date(name: &str, value: &Value) -> String {
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

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn alg_name(alg: Algorithm) -> &'static str {
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
struct VerifierKey {
    alg: Algorithm,
    kty: String,
    kid: Option<String>,
    key: DecodingKey,
    /// Bytes of the modulus of an RSA key: the length of its signatures.
    rsa_modulus_bytes: Option<usize>,
}

impl VerifierKey {
    /// Parses and checks a JWK. The allowed algorithm is its `alg` member when present
    /// (and consistent with the key), else the one implied by `kty`/`crv`.
    fn from_jwk_json(text: &str, notes: &mut Vec<String>) -> Result<Self, InspectError> {
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
    fn verify(&self, token: &str) -> Verdict {
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
fn signature_bytes(alg: &str, rsa_modulus_bytes: Option<usize>) -> Option<usize> {
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
