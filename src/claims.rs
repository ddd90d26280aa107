//! What a token says about its holder.
//!
//! The same [`Claims`] go into a JWT (as its payload) and into a session record (server
//! side), so every comparison carries equal information in a different place.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The application data about an authenticated user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Stable user identifier (becomes the JWT `sub`).
    pub user_id: String,
    /// Roles and permissions granted to the user.
    pub roles: Vec<String>,
    /// A small profile: display name, locale, preferences.
    pub profile: BTreeMap<String, String>,
}

impl Claims {
    /// Refuses claims no scheme may issue: an empty user id, or one with a control
    /// character (a NUL would end it early in C code, a newline would split a log line).
    pub fn check(&self) -> Result<(), String> {
        if self.user_id.is_empty() {
            return Err("empty user id".into());
        }
        if self.user_id.chars().any(char::is_control) {
            return Err("user id contains a control character".into());
        }
        Ok(())
    }
}

/// The three claim sets every workload uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimSet {
    /// A user id and one role.
    Minimal,
    /// A user id, a few roles and a small profile: a typical web login.
    Typical,
    /// A user id, 40 roles/permissions and a fuller profile: an enterprise login.
    Large,
}

impl ClaimSet {
    /// All presets, smallest first.
    pub const ALL: [ClaimSet; 3] = [ClaimSet::Minimal, ClaimSet::Typical, ClaimSet::Large];

    /// The preset's name as used in results and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ClaimSet::Minimal => "minimal",
            ClaimSet::Typical => "typical",
            ClaimSet::Large => "large",
        }
    }

    /// The claims of this preset for user `user_id`.
    pub fn claims(self, user_id: &str) -> Claims {
        let profile = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        match self {
            ClaimSet::Minimal => Claims {
                user_id: user_id.to_owned(),
                roles: vec!["user".into()],
                profile: BTreeMap::new(),
            },
            ClaimSet::Typical => Claims {
                user_id: user_id.to_owned(),
                roles: vec!["user".into(), "editor".into(), "billing:read".into()],
                profile: profile(&[
                    ("name", "Ada Lovelace"),
                    ("email", "ada@example.com"),
                    ("locale", "en-GB"),
                    ("theme", "dark"),
                ]),
            },
            ClaimSet::Large => Claims {
                user_id: user_id.to_owned(),
                roles: (0..40)
                    .map(|i| {
                        format!(
                            "perm:{}:{}",
                            RESOURCES[i % RESOURCES.len()],
                            ACTIONS[i % ACTIONS.len()]
                        )
                    })
                    .collect(),
                profile: profile(&[
                    ("name", "Ada Lovelace"),
                    ("email", "ada@example.com"),
                    ("locale", "en-GB"),
                    ("theme", "dark"),
                    ("timezone", "Europe/London"),
                    ("department", "Analytical Engines"),
                    ("tenant", "acme-corporation-eu-west"),
                    ("plan", "enterprise"),
                ]),
            },
        }
    }
}

const RESOURCES: [&str; 8] = [
    "orders",
    "invoices",
    "customers",
    "reports",
    "projects",
    "users",
    "billing",
    "audit",
];
const ACTIONS: [&str; 5] = ["read", "write", "delete", "approve", "export"];

impl fmt::Display for ClaimSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ClaimSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClaimSet::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown claim set '{s}' (expected minimal, typical or large)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_grow_and_large_has_40_distinct_roles() {
        let sizes: Vec<usize> = ClaimSet::ALL
            .iter()
            .map(|c| serde_json::to_vec(&c.claims("u1")).unwrap().len())
            .collect();
        assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "{sizes:?}");
        let large = ClaimSet::Large.claims("u1");
        let distinct: std::collections::BTreeSet<_> = large.roles.iter().collect();
        assert_eq!(distinct.len(), 40);
    }

    #[test]
    fn claim_set_parses_its_own_name() {
        for c in ClaimSet::ALL {
            assert_eq!(c.name().parse::<ClaimSet>().unwrap(), c);
        }
        assert!("huge".parse::<ClaimSet>().is_err());
    }
}
