//! The header bytes a request carries on the wire, per HTTP client ([`WireRow`]): what
//! `tokenbench serve --record-header-bytes` counted for each request of a sequence sent on
//! one connection with the same `Cookie` or `Authorization` header, first and repeated.
//! HTTP/2 compresses headers with HPACK, whose dynamic table lets a client send a repeated
//! header as a one-byte index: whether it does is the client's choice (hyper never
//! indexes `cookie` or `authorization`; nghttp2 indexes `cookie`; nobody should index
//! `authorization`), so a token's cost per request depends on the client. These rows are
//! part of `browser.json`; the functions here are what the report derives from them.

use serde::{Deserialize, Serialize};

use crate::claims::ClaimSet;
pub use crate::net::header_tap::WireProtocol;
use crate::scheme::spec::SchemeId;

/// The HTTP client that sent the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireClient {
    /// Chromium (headless), whose HPACK encoder is quiche's / the network stack's.
    Chromium,
    /// Our load generator's client (hyper and h2).
    Hyper,
    /// `nghttp` from nghttp2, an outside client whose own log counts what it sent.
    Nghttp2,
}

impl WireClient {
    /// Every client, in the order the report lists them.
    pub const ALL: [WireClient; 3] = [WireClient::Chromium, WireClient::Hyper, WireClient::Nghttp2];

    /// `chromium`, `hyper` or `nghttp2`.
    pub fn name(self) -> &'static str {
        match self {
            WireClient::Chromium => "chromium",
            WireClient::Hyper => "hyper",
            WireClient::Nghttp2 => "nghttp2",
        }
    }
}

impl std::fmt::Display for WireClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The header that carried the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireHeader {
    /// `Cookie: <name>=<token>` (cookie transport).
    Cookie,
    /// `Authorization: Bearer <token>` (bearer transport).
    Authorization,
}

impl WireHeader {
    /// Both headers.
    pub const ALL: [WireHeader; 2] = [WireHeader::Cookie, WireHeader::Authorization];

    /// `cookie` or `authorization`.
    pub fn name(self) -> &'static str {
        match self {
            WireHeader::Cookie => "cookie",
            WireHeader::Authorization => "authorization",
        }
    }
}

impl std::fmt::Display for WireHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a request was the first on its connection to carry the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestOrder {
    /// The first: nothing of the header is in the connection's HPACK table yet.
    First,
    /// A later one on the same connection, same header value.
    Repeated,
}

impl RequestOrder {
    /// `first` or `repeated`.
    pub fn name(self) -> &'static str {
        match self {
            RequestOrder::First => "first",
            RequestOrder::Repeated => "repeated",
        }
    }
}

/// One request of a sequence on one connection, as the server received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRow {
    /// Who sent it.
    pub client: WireClient,
    /// `h2` (over TLS, ALPN), or `http/1.1` for reference.
    pub protocol: WireProtocol,
    /// Which header carried the credential.
    pub header: WireHeader,
    /// The scheme whose credential it carried (`session-memory`, `jwt-HS256`...).
    pub token: SchemeId,
    /// The claim set the credential was issued with.
    pub claims: ClaimSet,
    /// The request's place in the sequence, from 0.
    pub request_index: u32,
    /// `first` (index 0) or `repeated`.
    pub first_or_repeated: RequestOrder,
    /// The header section as the server received it, bytes: HTTP/2, the HPACK block
    /// (every header of the request, compressed, without frame headers, padding or
    /// priority fields); HTTP/1.1, the request head (request line to CRLFCRLF).
    pub server_header_block_bytes: u64,
    /// HTTP/2: the HEADERS and CONTINUATION frame payloads (the block plus padding and
    /// priority fields), what nghttp's `length=` counts. HTTP/1.1: the head.
    pub server_frame_payload_bytes: u64,
    /// HTTP/2: the frames whole (payloads plus 9 bytes of frame header each): the bytes on
    /// the wire above TLS. HTTP/1.1: the head.
    pub server_frame_bytes: u64,
    /// The client's own count of the same frames' payloads, where it reports one (nghttp2:
    /// the `length=` of its `send HEADERS` and `send CONTINUATION` lines, summed), to set
    /// beside `server_frame_payload_bytes`.
    pub client_reported_bytes: Option<u64>,
    /// The credential's length, characters (the token, or the session ID).
    pub token_bytes: u64,
}

impl WireRow {
    /// The bytes every comparison uses: the frames whole for HTTP/2, the head for HTTP/1.1.
    pub fn wire_bytes(&self) -> u64 {
        self.server_frame_bytes
    }

    /// False when the client reported a count that differs from the server's.
    pub fn counts_agree(&self) -> bool {
        self.client_reported_bytes
            .is_none_or(|c| c == self.server_frame_payload_bytes)
    }
}

/// One cell of the tables: a client's requests of one header, token and claim set,
/// first and repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct WireCell {
    /// The client.
    pub client: WireClient,
    /// The protocol.
    pub protocol: WireProtocol,
    /// The header.
    pub header: WireHeader,
    /// The token.
    pub token: SchemeId,
    /// The claim set.
    pub claims: ClaimSet,
    /// The credential's length.
    pub token_bytes: u64,
    /// The first request's bytes on the wire ([`WireRow::wire_bytes`]).
    pub first: u64,
    /// The repeated requests' bytes, lowest and highest (`None` with one request).
    pub repeated: Option<(u64, u64)>,
    /// The client's own counts beside the server's (payloads), first then repeated, where
    /// it reports them.
    pub client_reported: Vec<u64>,
    /// The server's payload counts, in the same order.
    pub server_payload: Vec<u64>,
}

impl WireCell {
    /// The highest repeated figure, else the first.
    pub fn repeated_max(&self) -> u64 {
        self.repeated.map_or(self.first, |(_, hi)| hi)
    }

    /// Whether every count the client reported equals the server's.
    pub fn counts_agree(&self) -> bool {
        self.client_reported.is_empty() || self.client_reported == self.server_payload
    }

    /// **The** figure of a cell for `first` or `repeated` requests, the one the chart, the
    /// verdict and `summary.csv` give: the first request's bytes, or the highest of the
    /// repeated ones (the first's when there is none).
    pub fn bytes(&self, order: RequestOrder) -> u64 {
        match order {
            RequestOrder::First => self.first,
            RequestOrder::Repeated => self.repeated_max(),
        }
    }
}

/// The rows grouped into cells, in the order: client, protocol, header, claim set, token.
pub fn cells(rows: &[WireRow]) -> Vec<WireCell> {
    let mut keys: Vec<(WireClient, WireProtocol, WireHeader, ClaimSet, SchemeId)> = rows
        .iter()
        .map(|r| (r.client, r.protocol, r.header, r.claims, r.token))
        .collect();
    keys.sort_by_key(|k| (k.0, k.1 == WireProtocol::Http1, k.2, k.3, k.4));
    keys.dedup();
    keys.into_iter()
        .filter_map(|(client, protocol, header, claims, token)| {
            let mut of: Vec<&WireRow> = rows
                .iter()
                .filter(|r| {
                    (r.client, r.protocol, r.header, r.claims, r.token)
                        == (client, protocol, header, claims, token)
                })
                .collect();
            of.sort_by_key(|r| r.request_index);
            let first = of
                .iter()
                .find(|r| r.first_or_repeated == RequestOrder::First)?;
            let rep: Vec<u64> = of
                .iter()
                .filter(|r| r.first_or_repeated == RequestOrder::Repeated)
                .map(|r| r.wire_bytes())
                .collect();
            let repeated = rep.iter().min().copied().zip(rep.iter().max().copied());
            let reported: Vec<&&WireRow> = of
                .iter()
                .filter(|r| r.client_reported_bytes.is_some())
                .collect();
            Some(WireCell {
                client,
                protocol,
                header,
                token,
                claims,
                token_bytes: first.token_bytes,
                first: first.wire_bytes(),
                repeated,
                client_reported: reported
                    .iter()
                    .filter_map(|r| r.client_reported_bytes)
                    .collect(),
                server_payload: reported
                    .iter()
                    .map(|r| r.server_frame_payload_bytes)
                    .collect(),
            })
        })
        .collect()
}

/// Rows where the client's own count and the server's differ (each one a contradiction
/// the report prints as a warning).
pub fn disagreements(rows: &[WireRow]) -> Vec<&WireRow> {
    rows.iter().filter(|r| !r.counts_agree()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::JwtAlg;
    use crate::scheme::spec::StoreKind;

    pub(crate) fn row(client: WireClient, i: u32, bytes: u64, reported: Option<u64>) -> WireRow {
        WireRow {
            client,
            protocol: WireProtocol::H2,
            header: WireHeader::Cookie,
            token: SchemeId::Jwt(JwtAlg::HS256),
            claims: ClaimSet::Typical,
            request_index: i,
            first_or_repeated: if i == 0 {
                RequestOrder::First
            } else {
                RequestOrder::Repeated
            },
            server_header_block_bytes: bytes - 14,
            server_frame_payload_bytes: bytes - 9,
            server_frame_bytes: bytes,
            client_reported_bytes: reported,
            token_bytes: 457,
        }
    }

    #[test]
    fn cells_group_first_and_repeated_and_hold_the_client_count_beside_the_servers() {
        let mut rows = vec![
            row(WireClient::Nghttp2, 2, 28, Some(19)),
            row(WireClient::Nghttp2, 0, 429, Some(420)),
            row(WireClient::Nghttp2, 1, 27, Some(18)),
            row(WireClient::Hyper, 0, 480, None),
            row(WireClient::Hyper, 1, 470, None),
        ];
        let mut session = row(WireClient::Hyper, 0, 90, None);
        session.token = SchemeId::Session(StoreKind::Memory);
        rows.push(session);
        let c = cells(&rows);
        assert_eq!(c.len(), 3);
        let n = c.iter().find(|c| c.client == WireClient::Nghttp2).unwrap();
        assert_eq!((n.first, n.repeated), (429, Some((27, 28))));
        assert_eq!(n.client_reported, [420, 18, 19]);
        assert!(n.counts_agree());
        let h = &c[0];
        assert_eq!(
            (h.client, h.token),
            (WireClient::Hyper, SchemeId::Session(StoreKind::Memory))
        );
        assert_eq!(c[1].repeated, Some((470, 470)));
        assert!(disagreements(&rows).is_empty());
        rows[0].client_reported_bytes = Some(20);
        assert_eq!(disagreements(&rows).len(), 1);
        assert!(!cells(&rows).iter().all(WireCell::counts_agree));
        let back: Vec<WireRow> =
            serde_json::from_str(&serde_json::to_string(&rows).unwrap()).unwrap();
        assert_eq!(back, rows);
        let json = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(json["client"], "nghttp2");
        assert_eq!(json["protocol"], "h2");
        assert_eq!(json["token"], "jwt-HS256");
        assert_eq!(json["first_or_repeated"], "repeated");
    }
}
