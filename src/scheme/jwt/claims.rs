//! The JWT payload ([`WireClaims`]) and the claims policy every [`JwtScheme`](super::JwtScheme)
//! applies once the signature has verified (RFC 7519 §4.1):
//!
//! - `iss` equals the configured issuer; `aud` is the configured audience, or an array that
//!   contains it (§4.1.3); `sub` and `jti` are non-empty and free of control characters
//!   (an empty `jti` would make every such token share one denylist entry).
//! - `exp` is required: refused on and after it, plus the leeway (§4.1.4).
//! - `nbf`, when present, must have been reached: refused while `now + leeway < nbf` (§4.1.5).
//! - `iat`, when present, is not in the future beyond the leeway.
//! - The lifetime `exp - iat` (or `exp - now` when `iat` is absent, plus the leeway) is at
//!   most the configured maximum, so a token claiming to live a century, or `exp = u64::MAX`,
//!   is not one this issuer made, and its denylist entry would never expire.
//!
//! NumericDates are whole seconds (`u64`): a negative, fractional, `null` or non-numeric
//! `exp`, `nbf` or `iat` is refused as invalid claims. Repeated claim names are refused.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::JwtConfig;
use crate::scheme::Rejection;

/// The JWT payload: registered claims plus the application [`Claims`](crate::claims::Claims).
///
/// Issued tokens carry `iss`, `aud` (a string), `sub`, `iat`, `exp`, `jti`, `roles` and
/// `profile` in that order; `nbf` is only read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireClaims {
    /// Issuer.
    pub iss: String,
    /// Audience: one string, or an array of them.
    pub aud: Audience,
    /// Subject: the user id.
    pub sub: String,
    /// Issued at (Unix seconds).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date"
    )]
    pub iat: Option<u64>,
    /// Expiry (Unix seconds); the token is invalid at and after this second.
    pub exp: u64,
    /// Not before (Unix seconds); the token is invalid before this second.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date"
    )]
    pub nbf: Option<u64>,
    /// Unique token id, 128 random bits.
    pub jti: String,
    /// Session (refresh family) id, OIDC's `sid`: set only by the hybrid, whose logout
    /// revokes the family the verified access token names (22 base64url characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Roles and permissions.
    pub roles: Vec<String>,
    /// Profile entries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profile: BTreeMap<String, String>,
}

/// A present NumericDate: `null` is not a date (serde would read it as "absent").
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    u64::deserialize(d).map(Some)
}

/// The `aud` claim: RFC 7519 §4.1.3 allows a single string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// `"aud": "x"` (what tokenbench issues).
    One(String),
    /// `"aud": ["x", "y"]`.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `audience` is (among) the token's audience.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Audience::One(a) => s.serialize_str(a),
            Audience::Many(all) => all.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience::One(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Audience, E> {
                Ok(Audience::One(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut all = Vec::new();
                while let Some(a) = seq.next_element::<String>()? {
                    all.push(a);
                }
                Ok(Audience::Many(all))
            }
        }
        d.deserialize_any(V)
    }
}

/// Only the `jti` of a payload, for keying caches (read without verification).
#[derive(Deserialize)]
struct JtiOnly {
    jti: String,
}

/// The `jti` of a decoded payload, if it has a string one.
pub(crate) fn jti_of(payload_json: &[u8]) -> Option<String> {
    serde_json::from_slice::<JtiOnly>(payload_json)
        .ok()
        .map(|c| c.jti)
}

/// Parses a verified payload.
pub(crate) fn parse(payload_json: &[u8]) -> Result<WireClaims, Rejection> {
    serde_json::from_slice(payload_json)
        .map_err(|e| Rejection::InvalidClaims(format!("claims: {e}")))
}

/// Refuses an identifier that is empty or contains a control character.
fn identifier(name: &str, value: &str) -> Result<(), Rejection> {
    if value.is_empty() {
        return Err(Rejection::InvalidClaims(format!("empty \"{name}\"")));
    }
    if value.chars().any(char::is_control) {
        return Err(Rejection::InvalidClaims(format!(
            "\"{name}\" contains a control character"
        )));
    }
    Ok(())
}

/// The claims policy (see the module header), at `now` (Unix seconds).
pub(crate) fn check(claims: &WireClaims, config: &JwtConfig, now: u64) -> Result<(), Rejection> {
    if claims.iss != config.issuer {
        return Err(Rejection::InvalidClaims("InvalidIssuer".into()));
    }
    if !claims.aud.contains(&config.audience) {
        return Err(Rejection::InvalidClaims("InvalidAudience".into()));
    }
    identifier("sub", &claims.sub)?;
    identifier("jti", &claims.jti)?;
    if let Some(sid) = &claims.sid {
        identifier("sid", sid)?;
    }
    let leeway = config.leeway_secs;
    let max = config.max_lifetime().as_secs();
    let lifetime = match claims.iat {
        Some(iat) => {
            if iat > now.saturating_add(leeway) {
                return Err(Rejection::NotYetValid(format!(
                    "issued in the future (iat {iat}, now {now}, leeway {leeway} s)"
                )));
            }
            claims.exp.saturating_sub(iat)
        }
        // Without iat, the remaining life, allowing the issuer's clock its leeway.
        None => claims.exp.saturating_sub(now).saturating_sub(leeway),
    };
    if lifetime > max {
        return Err(Rejection::LifetimeTooLong {
            lifetime_secs: lifetime,
            max_secs: max,
        });
    }
    // RFC 7519 4.1.4: the token must not be accepted "on or after" exp.
    if now >= claims.exp.saturating_add(leeway) {
        return Err(Rejection::Expired);
    }
    if let Some(nbf) = claims.nbf
        && now.saturating_add(leeway) < nbf
    {
        return Err(Rejection::NotYetValid(format!(
            "nbf {nbf} not reached (now {now}, leeway {leeway} s)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(extra: serde_json::Value) -> serde_json::Value {
        let mut c = json!({"iss": JwtConfig::default().issuer, "aud": JwtConfig::default().audience,
            "sub": "u", "iat": 1000, "exp": 1900, "jti": "j", "roles": []});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    }

    fn judge(c: serde_json::Value, now: u64) -> Result<(), Rejection> {
        let parsed = parse(c.to_string().as_bytes())?;
        check(&parsed, &JwtConfig::default(), now)
    }

    #[test]
    fn issued_shape_is_unchanged() {
        let w = WireClaims {
            iss: "i".into(),
            aud: Audience::One("a".into()),
            sub: "s".into(),
            iat: Some(1),
            exp: 2,
            nbf: None,
            jti: "j".into(),
            sid: None,
            roles: vec![],
            profile: BTreeMap::new(),
        };
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"iss":"i","aud":"a","sub":"s","iat":1,"exp":2,"jti":"j","roles":[]}"#
        );
    }

    #[test]
    fn dates_must_be_whole_non_negative_numbers() {
        for bad in [
            json!(null),
            json!("1500"),
            json!(-1),
            json!(1500.5),
            json!(1e30),
        ] {
            for field in ["nbf", "iat", "exp"] {
                let r = judge(claims(json!({ field: bad.clone() })), 1500);
                assert!(
                    matches!(r, Err(Rejection::InvalidClaims(_))),
                    "{field}={bad}: {r:?}"
                );
            }
        }
        let dup = r#"{"iss":"https://auth.tokenbench.test","aud":"tokenbench-api","sub":"u","exp":1900,"exp":99999999999,"jti":"j","roles":[]}"#;
        assert!(matches!(
            parse(dup.as_bytes()),
            Err(Rejection::InvalidClaims(_))
        ));
    }

    #[test]
    fn audience_arrays_must_contain_ours() {
        let ours = JwtConfig::default().audience;
        assert_eq!(judge(claims(json!({"aud": ["other", ours]})), 1500), Ok(()));
        for bad in [json!(["other"]), json!([]), json!([1]), json!({"a": 1})] {
            assert!(
                judge(claims(json!({ "aud": bad.clone() })), 1500).is_err(),
                "{bad}"
            );
        }
    }
}
