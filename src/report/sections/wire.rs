//! The header bytes per request per HTTP client ([`WireRow`]s, part of `browser.json`):
//! a table of every client × protocol × header × claim set × token, first request and
//! repeated, with the client's own count beside the server's where it reports one; the
//! chart [`crate::plot::wire`]; the self-checks (a client's count that differs from the
//! server's); a note when nghttp2's rows are absent. The browser section calls
//! [`render`] and [`checks`].

use super::chart;
use crate::plot::Rendered;
use crate::report::checks::Check;
use crate::report::document::Document;
use crate::results::schema::wire::{
    RequestOrder, WireCell, WireClient, WireProtocol, WireRow, cells, disagreements,
};
use crate::units;

/// The chart's name ([`crate::plot::wire::bytes`]).
pub const CHART: &str = "wire_bytes";

/// What a run without nghttp2's rows says, and how to get them.
pub const NGHTTP_MISSING: &str = "nghttp2's rows are absent: `nghttp` was not on PATH when the \
     run measured (install it with `apt-get install nghttp2-client`; \
     `scripts/install-browser.sh` does on CI), so no outside client's own count stands beside \
     the server's";

/// The table's head.
pub const HEAD: [&str; 9] = [
    "client",
    "protocol",
    "header",
    "claims",
    "token",
    "token chars",
    "first request (frames)",
    "repeated requests (frames)",
    "client's own count / server's (payload)",
];

/// `392 B`, or `18–19 B` for a range.
fn range((lo, hi): (u64, u64)) -> String {
    if lo == hi {
        units::bytes(lo as f64)
    } else {
        format!("{lo}–{}", units::bytes(hi as f64))
    }
}

/// One table row per cell.
pub fn table(rows: &[WireRow]) -> Vec<Vec<String>> {
    cells(rows).iter().map(table_row).collect()
}

fn table_row(c: &WireCell) -> Vec<String> {
    let own = if c.client_reported.is_empty() {
        "—".to_owned()
    } else {
        let join = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let agree = if c.counts_agree() {
            "agree"
        } else {
            "**differ**"
        };
        format!(
            "{} / {} B ({agree})",
            join(&c.client_reported),
            join(&c.server_payload)
        )
    };
    vec![
        c.client.to_string(),
        c.protocol.name().to_owned(),
        c.header.to_string(),
        c.claims.name().to_owned(),
        format!("`{}`", c.token),
        c.token_bytes.to_string(),
        units::bytes(c.bytes(RequestOrder::First) as f64),
        c.repeated.map_or_else(|| "—".to_owned(), range),
        own,
    ]
}

/// The subsection: what is counted, the chart, the table, the notes.
pub fn render(doc: &mut Document, rows: &[WireRow], charts: &[Rendered]) {
    doc.heading(3, "Header bytes per request, per HTTP client");
    if rows.is_empty() {
        doc.para(super::NOT_MEASURED);
        return;
    }
    doc.para(
        "Each client sent the same `GET /me` several times on one connection with the same \
         credential header, to `tokenbench serve --tls --record-header-bytes`, which counted what \
         arrived above TLS: for HTTP/2 each request's HEADERS and CONTINUATION frames whole (the \
         HPACK block, padding and priority fields, and 9 bytes of frame header per frame); for \
         HTTP/1.1 (reference) the request head. HPACK lets a client send a header it sent before \
         as an index into the connection's dynamic table: whether it does for `cookie` and \
         `authorization` is the client's choice, so the repeated requests differ by client, not by \
         server. Where the client counts its own frames (nghttp2: the `length=` of each `send \
         HEADERS` line, a payload without the frame header) its count stands beside the server's \
         payload count.",
    );
    chart(doc, charts, CHART);
    doc.table(&HEAD, table(rows));
    let mut notes = Vec::new();
    if !rows.iter().any(|r| r.client == WireClient::Nghttp2) {
        notes.push(NGHTTP_MISSING.to_owned());
    }
    if !rows.iter().any(|r| r.client == WireClient::Chromium) {
        notes.push("Chromium's rows are absent from this run.".to_owned());
    }
    if rows.iter().any(|r| r.protocol == WireProtocol::Http1) {
        notes.push(
            "HTTP/1.1 has no header compression: its rows (request head, request line to \
             CRLFCRLF) are the reference every repeated request pays there."
                .to_owned(),
        );
    }
    if !notes.is_empty() {
        doc.bullets(notes);
    }
}

/// A warning per request whose client counted other bytes than the server received.
pub fn checks(rows: &[WireRow]) -> Vec<Check> {
    disagreements(rows)
        .into_iter()
        .map(|r| {
            Check::warning(format!(
                "wire {} {} {} `{}` {} request {}: the client counted {} B of HEADERS payload, the \
                 server received {} B (they must agree)",
                r.client,
                r.protocol.name(),
                r.header,
                r.token,
                r.claims.name(),
                r.request_index,
                r.client_reported_bytes.unwrap_or(0),
                r.server_frame_payload_bytes
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::ClaimSet;
    use crate::results::schema::wire::WireHeader;
    use crate::scheme::JwtAlg;
    use crate::scheme::spec::SchemeId;

    fn row(client: WireClient, i: u32, payload: u64, reported: Option<u64>) -> WireRow {
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
            server_header_block_bytes: payload - 5,
            server_frame_payload_bytes: payload,
            server_frame_bytes: payload + 9,
            client_reported_bytes: reported,
            token_bytes: 457,
        }
    }

    #[test]
    fn the_table_sets_the_clients_count_beside_the_servers_and_the_checks_catch_a_difference() {
        let mut rows = vec![
            row(WireClient::Nghttp2, 0, 420, Some(420)),
            row(WireClient::Nghttp2, 1, 18, Some(18)),
            row(WireClient::Nghttp2, 2, 19, Some(19)),
            row(WireClient::Hyper, 0, 418, None),
        ];
        let t = table(&rows);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0][0], "hyper");
        assert_eq!((t[0][6].as_str(), t[0][7].as_str()), ("427 B", "—"));
        assert_eq!(t[1][6], "429 B");
        assert_eq!(t[1][7], "27–28 B");
        assert_eq!(t[1][8], "420, 18, 19 / 420, 18, 19 B (agree)");
        assert!(checks(&rows).is_empty());
        rows[1].client_reported_bytes = Some(17);
        assert!(table(&rows)[1][8].contains("differ"));
        let c = checks(&rows);
        assert_eq!(c.len(), 1);
        assert!(c[0].line().contains("17 B"), "{}", c[0].line());
        let mut doc = Document::default();
        render(&mut doc, &rows[3..], &[]);
        let text = format!("{doc:?}");
        assert!(text.contains("nghttp2-client"), "{text}");
    }
}
