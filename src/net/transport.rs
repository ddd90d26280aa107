//! How a credential travels between client and server: the server answers by it, the
//! generator behaves by it, and results name rows by it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How the credential travels between browser (or client) and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A hardened `__Host-` cookie (HttpOnly, Secure, SameSite, Path=/); state-changing
    /// requests must echo a CSRF token in `X-CSRF-Token`.
    Cookie,
    /// `Authorization: Bearer <token>` (RFC 6750); no ambient credential, so no CSRF token.
    Bearer,
}

impl Transport {
    /// Both transports, cookie first.
    pub const ALL: [Transport; 2] = [Transport::Cookie, Transport::Bearer];

    /// Name on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Cookie => "cookie",
            Transport::Bearer => "bearer",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cookie" | "cookies" => Ok(Transport::Cookie),
            "bearer" | "header" => Ok(Transport::Bearer),
            _ => Err(format!(
                "unknown transport '{s}' (expected cookie or bearer)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_refuse_nonsense() {
        assert_eq!("Cookie".parse::<Transport>(), Ok(Transport::Cookie));
        assert_eq!("bearer".parse::<Transport>(), Ok(Transport::Bearer));
        assert!("smoke".parse::<Transport>().is_err());
        for t in Transport::ALL {
            assert_eq!(t.name().parse::<Transport>(), Ok(t));
        }
    }
}
