//! The PASETO payload ([`PasetoClaims`]): the registered claims of the PASETO specification
//! (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`; dates as RFC 3339 strings) plus the
//! application claims. Once read, a payload goes through the same claims policy as a JWT
//! ([`jwt::claims::check`](crate::scheme::jwt::claims)): same issuer, audience, lifetime and
//! leeway rules, so the two self-contained formats are judged alike.
//!
//! Dates must be RFC 3339 with a time-zone offset; a date before 1970, a number, `null` or
//! any other string is refused as invalid claims, and so are repeated claim names.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::scheme::Rejection;
use crate::scheme::jwt::{Audience, WireClaims};

/// The PASETO payload tokenbench issues and reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasetoClaims {
    /// Issuer.
    pub iss: String,
    /// Audience: one string, or an array of them.
    pub aud: Audience,
    /// Subject: the user id.
    pub sub: String,
    /// Issued at, Unix seconds (an RFC 3339 string on the wire).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_date",
        deserialize_with = "de_opt_date"
    )]
    pub iat: Option<u64>,
    /// Expiry, Unix seconds (an RFC 3339 string on the wire).
    #[serde(serialize_with = "ser_date", deserialize_with = "de_date")]
    pub exp: u64,
    /// Not before, Unix seconds (an RFC 3339 string on the wire); only read.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_date",
        deserialize_with = "de_opt_date"
    )]
    pub nbf: Option<u64>,
    /// Unique token id, 128 random bits.
    pub jti: String,
    /// Roles and permissions.
    pub roles: Vec<String>,
    /// Profile entries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profile: BTreeMap<String, String>,
}

impl PasetoClaims {
    /// The same claims in the form the shared claims policy reads.
    pub(crate) fn into_wire(self) -> WireClaims {
        WireClaims {
            iss: self.iss,
            aud: self.aud,
            sub: self.sub,
            iat: self.iat,
            exp: self.exp,
            nbf: self.nbf,
            jti: self.jti,
            sid: None,
            roles: self.roles,
            profile: self.profile,
        }
    }
}

/// Unix seconds of an RFC 3339 date (fractions of a second dropped), or why not.
pub fn unix_secs(date: &str) -> Result<u64, String> {
    let t = OffsetDateTime::parse(date, &Rfc3339).map_err(|e| format!("{date:?}: {e}"))?;
    u64::try_from(t.unix_timestamp()).map_err(|_| format!("{date:?} is before 1970"))
}

fn ser_date<S: serde::Serializer>(secs: &u64, s: S) -> Result<S::Ok, S::Error> {
    let date = crate::units::rfc3339(*secs)
        .ok_or_else(|| serde::ser::Error::custom("date out of RFC 3339 range"))?;
    s.serialize_str(&date)
}

fn ser_opt_date<S: serde::Serializer>(secs: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match secs {
        Some(secs) => ser_date(secs, s),
        None => s.serialize_none(),
    }
}

fn de_date<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let date = String::deserialize(d)?;
    unix_secs(&date).map_err(serde::de::Error::custom)
}

/// A present date: `null` is not a date (serde would read it as "absent").
fn de_opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    de_date(d).map(Some)
}

/// Parses a verified (or decrypted) payload.
pub(crate) fn parse(payload_json: &[u8]) -> Result<PasetoClaims, Rejection> {
    serde_json::from_slice(payload_json)
        .map_err(|e| Rejection::InvalidClaims(format!("claims: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(extra: serde_json::Value) -> Vec<u8> {
        let mut c = json!({"iss": "i", "aud": "a", "sub": "u", "iat": "2026-12-03T08:00:00Z",
            "exp": "2026-12-03T08:15:00+00:00", "jti": "j", "roles": []});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c.to_string().into_bytes()
    }

    #[test]
    fn dates_are_rfc3339_strings_both_ways() {
        let c = parse(&payload(json!({}))).unwrap();
        assert_eq!(c.exp - c.iat.unwrap(), 900);
        let text = serde_json::to_string(&c).unwrap();
        assert!(
            text.contains(r#""iat":"2026-12-03T08:00:00Z","exp":"2026-12-03T08:15:00Z""#),
            "{text}"
        );
        // Offsets are honoured, not dropped.
        let shifted = parse(&payload(json!({"exp": "2026-12-03T09:15:00+01:00"}))).unwrap();
        assert_eq!(shifted.exp, c.exp);
    }

    #[test]
    fn anything_but_an_rfc3339_date_is_refused() {
        for bad in [
            json!(1_900_000_000),
            json!(null),
            json!("2026-12-03"),
            json!("2026-12-03T08:00:00"),
            json!("yesterday"),
            json!("1969-12-31T23:59:59Z"),
        ] {
            for field in ["exp", "iat", "nbf"] {
                let r = parse(&payload(json!({ field: bad.clone() })));
                assert!(
                    matches!(r, Err(Rejection::InvalidClaims(_))),
                    "{field}={bad}: {r:?}"
                );
            }
        }
        let dup = br#"{"iss":"i","aud":"a","sub":"u","exp":"2026-12-03T08:15:00Z","exp":"2099-01-01T00:00:00Z","jti":"j","roles":[]}"#;
        assert!(matches!(parse(dup), Err(Rejection::InvalidClaims(_))));
    }
}
