//! `size.json`: token, header and server-side bytes per scheme and claim set.

use serde::{Deserialize, Serialize};

use super::{ResultFile, SummaryRow};
use crate::claims::ClaimSet;
use crate::scheme::spec::SchemeId;

/// Sizes of one scheme's token for one claim set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeRow {
    /// The scheme.
    pub scheme: SchemeId,
    /// Claim set.
    pub claims: ClaimSet,
    /// Bytes of the token itself.
    pub token_bytes: usize,
    /// Bytes of the request header line `Cookie: __Host-sid=<token>`.
    pub cookie_header_bytes: usize,
    /// Bytes of the request header line `Authorization: Bearer <token>`.
    pub authorization_header_bytes: usize,
    /// Bytes of the response header line `Set-Cookie: __Host-sid=<token>; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=...`.
    pub set_cookie_header_bytes: usize,
    /// Bytes of claims JSON anyone holding the token can decode without a key (0: opaque).
    pub readable_payload_bytes: usize,
    /// Claims an outsider can read by name (e.g. `sub`, `roles`, `profile`), empty when opaque.
    pub readable_claims: Vec<String>,
    /// Bits of randomness in the token (session ID bits, or the JWT `jti` bits).
    pub random_bits: usize,
    /// Whether the cookie fits the 4096-byte browser limit.
    pub fits_cookie_limit: bool,
}

/// Server-side heap per live session (or per denylist entry), measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryRow {
    /// Scheme (or denylist) name.
    pub scheme: String,
    /// What one entry is.
    pub entry: Entry,
    /// Claim set of the entries.
    pub claims: ClaimSet,
    /// Entries inserted.
    pub entries: usize,
    /// Net heap bytes they occupy (allocator usable sizes, including map tables).
    pub heap_bytes: i64,
    /// Net live allocations they occupy.
    pub allocations: i64,
    /// `heap_bytes / entries`.
    pub bytes_per_entry: f64,
    /// How this row was measured: the counting allocator (in-process stores), or for a Redis
    /// store `redis MEMORY USAGE ...` (then `entries` is the sample size and `heap_bytes`
    /// the sum over it) or `redis INFO used_memory delta ...` (then `heap_bytes` is the
    /// server's growth). `allocations` is 0 for Redis rows (not observable).
    #[serde(default)]
    pub method: Option<String>,
}

/// What a [`MemoryRow`] counts the bytes of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Entry {
    /// A live session in a store.
    Session,
    /// An issued JWT (what the server keeps per token: nothing, measured).
    IssuedJwt,
    /// A revoked `jti` on a denylist.
    DenylistEntry,
    /// A hybrid's refresh family in its store (one per live login: its record, the live
    /// refresh secret and the one it replaced).
    RefreshFamily,
}

impl Entry {
    /// What the server keeps per login of `id`, as a memory row counts it: a session, a
    /// hybrid's refresh family, or (a self-contained token) what it keeps per token issued.
    pub fn of(id: SchemeId) -> Entry {
        let caps = id.capabilities();
        if caps.refresh_token {
            Entry::RefreshFamily
        } else if caps.carries_claims {
            Entry::IssuedJwt
        } else {
            Entry::Session
        }
    }

    /// `session`, `issued-jwt`, `denylist-entry`.
    pub fn name(self) -> &'static str {
        match self {
            Entry::Session => "session",
            Entry::IssuedJwt => "issued-jwt",
            Entry::DenylistEntry => "denylist-entry",
            Entry::RefreshFamily => "refresh-family",
        }
    }
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Everything the size workload measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeResults {
    /// [`ResultFile::VERSION`] of the file (0: written before per-file versions).
    #[serde(default)]
    pub schema_version: u32,
    /// Token and header sizes.
    pub rows: Vec<SizeRow>,
    /// Heap per session; empty when the counting allocator is not installed.
    pub memory: Vec<MemoryRow>,
    /// How memory was measured.
    pub memory_method: String,
    /// Name of the cookie measured (`sid` in files written before it was recorded).
    #[serde(default = "legacy_cookie_name")]
    pub cookie_name: String,
    /// The cookie limit drawn on charts.
    pub cookie_limit_bytes: usize,
    /// The header limit drawn on charts.
    pub header_limit_bytes: usize,
}

/// The cookie name of results written before the name was recorded.
fn legacy_cookie_name() -> String {
    "sid".to_owned()
}

impl ResultFile for SizeResults {
    const FILE: &'static str = "size";
    const VERSION: u32 = 2;

    /// Headline rows for `summary.csv`: per scheme and claim set the token, header and
    /// readable bytes; per memory row the heap per entry and in all.
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut out = Vec::new();
        for r in &self.rows {
            let p = r.claims.name();
            out.push(SummaryRow::new(
                "size",
                r.scheme,
                None,
                p,
                "token",
                r.token_bytes as f64,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                r.scheme,
                None,
                p,
                "cookie_header",
                r.cookie_header_bytes as f64,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                r.scheme,
                None,
                p,
                "authorization_header",
                r.authorization_header_bytes as f64,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                r.scheme,
                None,
                p,
                "set_cookie_header",
                r.set_cookie_header_bytes as f64,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                r.scheme,
                None,
                p,
                "readable_payload",
                r.readable_payload_bytes as f64,
                "bytes",
            ));
        }
        for m in &self.memory {
            let entry = m.entry.name().replace('-', "_");
            out.push(SummaryRow::new(
                "size",
                &m.scheme,
                None,
                m.claims.name(),
                &format!("server_heap_per_{entry}"),
                m.bytes_per_entry,
                "bytes",
            ));
            out.push(SummaryRow::new(
                "size",
                &m.scheme,
                None,
                m.claims.name(),
                &format!("server_heap_total_{entry}"),
                m.heap_bytes as f64,
                "bytes",
            ));
        }
        out
    }
}
