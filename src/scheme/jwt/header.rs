//! The JOSE header policy: one strict parse of a JWT's header, and the rules every verifier
//! in tokenbench applies to it ([`JwtScheme`](super::JwtScheme) and `tokenbench inspect
//! --jwk`), so that they can never disagree.
//!
//! - The header is base64url (canonical, unpadded) of a UTF-8 JSON object whose member
//!   names are unique (RFC 7515 §4: a parser must reject duplicates or keep the last; we
//!   reject them, so that no two readers of one token can see different `alg` values).
//! - `alg` is present, a string, and exactly the one algorithm the verifier allows.
//! - `crit` is refused in any form, an empty list included (RFC 7515 §4.1.11): it lists
//!   extensions the recipient must understand, and tokenbench implements none.
//! - `b64` other than `true` is refused (RFC 7797: an unencoded payload is an extension).
//! - `cty: "JWT"` (a nested JWT, RFC 7519 §5.2) is refused: the payload is never a token.
//! - `typ`, `cty` and `kid`, when present, are strings; other members are ignored.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use crate::scheme::Rejection;

/// A JOSE header, read once and strictly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JoseHeader {
    /// The `alg` member, as written.
    pub alg: Option<String>,
    /// The `typ` member.
    pub typ: Option<String>,
    /// The `cty` member.
    pub cty: Option<String>,
    /// The `kid` member.
    pub kid: Option<String>,
    /// The `crit` member, as JSON text, when present (any value).
    pub crit: Option<String>,
    /// The `b64` member, as JSON text, when present (any value).
    pub b64: Option<String>,
}

/// Why a header is refused, before any claim is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Not canonical base64url, not UTF-8 JSON, or not an object.
    #[error("header is unreadable: {0}")]
    Unreadable(String),
    /// Readable, but against the policy (duplicate member, no `alg`, `crit`, `b64`...).
    #[error("header refused: {0}")]
    Refused(String),
    /// `alg` names an algorithm other than the one allowed (this includes `none`).
    #[error("the header asks for alg {found:?}, but the verifier allows only {allowed}")]
    AlgorithmNotAllowed {
        /// The `alg` of the header.
        found: String,
        /// The one algorithm the verifier allows.
        allowed: String,
    },
}

impl From<HeaderError> for Rejection {
    fn from(e: HeaderError) -> Self {
        match e {
            HeaderError::Unreadable(why) => Rejection::Malformed(format!("header: {why}")),
            HeaderError::Refused(why) => Rejection::InvalidHeader(why),
            HeaderError::AlgorithmNotAllowed { found, .. } => Rejection::AlgorithmNotAllowed(found),
        }
    }
}

impl JoseHeader {
    /// Decodes and parses the first segment of a JWT. Duplicate member names are refused.
    pub fn parse(segment: &str) -> Result<JoseHeader, HeaderError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|e| HeaderError::Unreadable(format!("not base64url: {e}")))?;
        Self::from_json(&bytes)
    }

    /// Parses the decoded header bytes. Duplicate member names are refused.
    pub fn from_json(bytes: &[u8]) -> Result<JoseHeader, HeaderError> {
        serde_json::from_slice::<Strict>(bytes)
            .map(|s| s.0)
            .map_err(|e| {
                let text = e.to_string();
                match text.strip_prefix(POLICY) {
                    Some(why) => HeaderError::Refused(strip_position(why)),
                    None => HeaderError::Unreadable(format!("not a JSON object: {text}")),
                }
            })
    }

    /// Applies the policy for a verifier that allows only `allowed` (a JOSE `alg` name).
    pub fn check(&self, allowed: &str) -> Result<(), HeaderError> {
        let alg = self
            .alg
            .as_deref()
            .ok_or_else(|| HeaderError::Refused("no \"alg\" member".into()))?;
        if alg != allowed {
            return Err(HeaderError::AlgorithmNotAllowed {
                found: alg.to_owned(),
                allowed: allowed.to_owned(),
            });
        }
        if let Some(crit) = &self.crit {
            return Err(HeaderError::Refused(format!(
                "\"crit\": {crit} marks extensions as critical, and this verifier implements \
                 none (RFC 7515 4.1.11)"
            )));
        }
        if let Some(b64) = self.b64.as_deref().filter(|b| *b != "true") {
            return Err(HeaderError::Refused(format!(
                "\"b64\": {b64} asks for an unencoded payload (RFC 7797), which this verifier \
                 does not implement"
            )));
        }
        if self
            .cty
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("JWT"))
        {
            return Err(HeaderError::Refused(
                "\"cty\": \"JWT\" announces a nested JWT, which this verifier does not accept"
                    .into(),
            ));
        }
        Ok(())
    }

    /// [`parse`](Self::parse) then [`check`](Self::check).
    pub fn parse_checked(segment: &str, allowed: &str) -> Result<JoseHeader, HeaderError> {
        let header = Self::parse(segment)?;
        header.check(allowed)?;
        Ok(header)
    }
}

/// Marks a serde error raised by the policy (rather than by the JSON syntax).
const POLICY: &str = "policy: ";

/// serde_json appends " at line L column C"; the policy messages do not need it.
fn strip_position(why: &str) -> String {
    match why.rfind(" at line ") {
        Some(i) => why[..i].to_owned(),
        None => why.to_owned(),
    }
}

/// The strict reader: a map visitor that refuses repeated member names.
struct Strict(JoseHeader);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut h = JoseHeader::default();
        // Headers have a handful of members: a vector beats a hash set here.
        let mut seen: Vec<String> = Vec::with_capacity(4);
        while let Some(name) = map.next_key::<String>()? {
            if seen.contains(&name) {
                return Err(de::Error::custom(format!(
                    "{POLICY}duplicate member {name:?} (RFC 7515 4: names must be unique)"
                )));
            }
            let string = |map: &mut A, what: &str| -> Result<Option<String>, A::Error> {
                match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(s) => Ok(Some(s)),
                    other => Err(de::Error::custom(format!(
                        "{POLICY}\"{what}\" must be a string, got {other}"
                    ))),
                }
            };
            match name.as_str() {
                "alg" => h.alg = string(&mut map, "alg")?,
                "typ" => h.typ = string(&mut map, "typ")?,
                "cty" => h.cty = string(&mut map, "cty")?,
                "kid" => h.kid = string(&mut map, "kid")?,
                "crit" => h.crit = Some(map.next_value::<serde_json::Value>()?.to_string()),
                "b64" => h.b64 = Some(map.next_value::<serde_json::Value>()?.to_string()),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            seen.push(name);
        }
        Ok(Strict(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<JoseHeader, HeaderError> {
        JoseHeader::from_json(json.as_bytes())
    }

    #[test]
    fn a_plain_header_passes() {
        let h = parse(r#"{"typ":"JWT","alg":"HS256"}"#).unwrap();
        assert_eq!(h.alg.as_deref(), Some("HS256"));
        assert_eq!(h.check("HS256"), Ok(()));
        let with_b64_true = parse(r#"{"alg":"HS256","b64":true,"x5u":[1,{"a":2}]}"#).unwrap();
        assert_eq!(with_b64_true.check("HS256"), Ok(()));
    }

    #[test]
    fn duplicate_members_are_refused_as_a_header_problem() {
        for json in [
            r#"{"alg":"HS256","alg":"none"}"#,
            r#"{"alg":"none","alg":"HS256"}"#,
            r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
            r#"{"alg":"HS256","zip":1,"zip":2}"#,
        ] {
            match parse(json) {
                Err(HeaderError::Refused(why)) => assert!(why.contains("duplicate"), "{why}"),
                other => panic!("{json}: {other:?}"),
            }
        }
    }

    #[test]
    fn crit_in_any_form_is_refused() {
        for json in [
            r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
            r#"{"alg":"HS256","crit":[]}"#,
            r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
            r#"{"alg":"HS256","crit":"b64"}"#,
            r#"{"alg":"HS256","crit":null}"#,
        ] {
            let h = parse(json).unwrap();
            assert!(
                matches!(h.check("HS256"), Err(HeaderError::Refused(ref w)) if w.contains("crit")),
                "{json}"
            );
        }
        let h = parse(r#"{"alg":"HS256","b64":false}"#).unwrap();
        assert!(matches!(h.check("HS256"), Err(HeaderError::Refused(_))));
    }

    #[test]
    fn the_algorithm_is_named_when_refused() {
        let h = parse(r#"{"alg":"none"}"#).unwrap();
        assert_eq!(
            h.check("ES256"),
            Err(HeaderError::AlgorithmNotAllowed {
                found: "none".into(),
                allowed: "ES256".into()
            })
        );
        assert_eq!(
            Rejection::from(h.check("ES256").unwrap_err()),
            Rejection::AlgorithmNotAllowed("none".into())
        );
        let missing = parse(r#"{"typ":"JWT"}"#).unwrap();
        assert!(matches!(
            missing.check("HS256"),
            Err(HeaderError::Refused(_))
        ));
        assert!(matches!(
            parse(r#"{"alg":256}"#),
            Err(HeaderError::Refused(_))
        ));
        let nested = parse(r#"{"alg":"HS256","cty":"jwt"}"#).unwrap();
        assert!(matches!(
            nested.check("HS256"),
            Err(HeaderError::Refused(_))
        ));
    }

    #[test]
    fn unreadable_headers_are_malformed() {
        for bytes in [
            &b"not json"[..],
            b"[1,2]",
            b"\"alg\"",
            b"{\"alg\":\"HS256\"",
            b"\xff",
        ] {
            assert!(
                matches!(
                    JoseHeader::from_json(bytes),
                    Err(HeaderError::Unreadable(_))
                ),
                "{bytes:?}"
            );
        }
        assert!(matches!(
            JoseHeader::parse("eyJhbGciOiJIUzI1NiJ9="),
            Err(HeaderError::Unreadable(_))
        ));
    }
}
