//! What the report makes of the header bytes per HTTP/2 client (wire rows), from the
//! figures of issue 18 (nghttp -nv, a 457-character HS256 JWT): row 1's verdict and its
//! rule, the bottom line's sentences naming the client, the table, the chart.

use tokenbench::claims::ClaimSet;
use tokenbench::plot;
use tokenbench::report::sections::bottom_line;
use tokenbench::report::sections::wire as section;
use tokenbench::report::verdicts::Verdict;
use tokenbench::report::verdicts::bandwidth;
use tokenbench::results::schema::wire::{
    RequestOrder, WireClient, WireHeader, WireProtocol, WireRow,
};
use tokenbench::scheme::JwtAlg;
use tokenbench::scheme::spec::{SchemeId, StoreKind};

const JWT: SchemeId = SchemeId::Jwt(JwtAlg::HS256);
const SESSION: SchemeId = SchemeId::Session(StoreKind::Memory);

/// Three requests of one client, header and token: payloads as nghttp counts them.
fn sequence(
    client: WireClient,
    header: WireHeader,
    token: SchemeId,
    payloads: [u64; 3],
    reported: bool,
) -> Vec<WireRow> {
    payloads
        .iter()
        .enumerate()
        .map(|(i, &p)| WireRow {
            client,
            protocol: WireProtocol::H2,
            header,
            token,
            claims: ClaimSet::Typical,
            request_index: i as u32,
            first_or_repeated: if i == 0 {
                RequestOrder::First
            } else {
                RequestOrder::Repeated
            },
            server_header_block_bytes: p - 5,
            server_frame_payload_bytes: p,
            server_frame_bytes: p + 9,
            client_reported_bytes: reported.then_some(p),
            token_bytes: if token == JWT { 457 } else { 43 },
        })
        .collect()
}

/// The issue's nghttp figures, and hyper resending everything.
fn issue_rows() -> Vec<WireRow> {
    use WireClient::{Hyper, Nghttp2};
    use WireHeader::{Authorization, Cookie};
    [
        sequence(Nghttp2, Cookie, JWT, [420, 18, 19], true),
        sequence(Nghttp2, Cookie, SESSION, [70, 18, 19], true),
        sequence(Nghttp2, Authorization, JWT, [418, 392, 393], true),
        sequence(Nghttp2, Authorization, SESSION, [68, 42, 43], true),
        sequence(Hyper, Cookie, JWT, [391, 379, 379], false),
        sequence(Hyper, Cookie, SESSION, [92, 80, 80], false),
    ]
    .concat()
}

#[test]
fn row_1_says_what_a_token_costs_per_client_first_and_repeated() {
    let rows = issue_rows();
    let c = bandwidth::wire_comparisons(&rows);
    let texts: Vec<String> = c.iter().map(|c| c.text()).collect();
    assert_eq!(
        texts,
        [
            "hyper cookie: self-contained 400 B → 388 B, session 101 B → 89 B",
            "nghttp2 cookie: self-contained 429 B → 28 B, session 79 B → 28 B",
            "nghttp2 authorization: self-contained 427 B → 402 B, session 77 B → 52 B",
        ]
    );
    // nghttp2 sends a repeated JWT cookie as cheaply as a session's: the wire rows alone
    // give nuanced; with no cheap client they confirm.
    let j = bandwidth::judge_with_wire(None, None, Some(&rows));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(j.because.contains("nghttp2 cookie"), "{}", j.because);
    let dear: Vec<WireRow> = rows
        .iter()
        .filter(|r| !(r.client == WireClient::Nghttp2 && r.header == WireHeader::Cookie))
        .cloned()
        .collect();
    let j = bandwidth::judge_with_wire(None, None, Some(&dear));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    // Without wire rows, exactly the verdict without them.
    assert_eq!(
        bandwidth::judge_with_wire(None, None, None),
        bandwidth::judge(None)
    );
    let rule = (bandwidth::ROW.rule)();
    assert!(
        rule.contains("repeated request") && rule.contains("HPACK index"),
        "{rule}"
    );
    assert_eq!(
        bandwidth::wire_cell(&rows, JWT).as_deref(),
        Some("h2 cookie, first → repeated: hyper 400 → 388 B, nghttp2 429 → 28 B")
    );
}

#[test]
fn the_bottom_line_says_which_client_the_http_figures_are_for() {
    let rows = issue_rows();
    let s = bottom_line::wire(&rows, true);
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s[0].contains("typical claims") && s[0].contains("nghttp2 cookie"));
    assert_eq!(
        s[1],
        "The HTTP workload's figures above are our load generator's client's (hyper); a repeated \
         self-contained token costs more than a session's for hyper cookie, nghttp2 \
         authorization, and no more than a session's for nghttp2 cookie (sent as an HPACK \
         index)."
    );
    assert!(bottom_line::wire(&[], true).is_empty());
}

#[test]
fn the_table_and_the_chart_show_first_and_repeated_per_client() {
    let rows = issue_rows();
    let t = section::table(&rows);
    assert_eq!(t.len(), 6);
    assert!(t.iter().all(|r| r.len() == section::HEAD.len()));
    let n = t
        .iter()
        .find(|r| r[0] == "nghttp2" && r[2] == "cookie" && r[4] == "`jwt-HS256`")
        .unwrap();
    assert_eq!(n[8], "420, 18, 19 / 420, 18, 19 B (agree)");
    let fig = plot::wire::bytes(&rows).unwrap();
    assert_eq!(fig.name, section::CHART);
    let mut values = fig.values();
    values.sort_by(f64::total_cmp);
    let cells = plot::wire::charted(&rows);
    let mut want: Vec<f64> = cells
        .iter()
        .flat_map(|c| {
            [
                c.bytes(RequestOrder::First) as f64,
                c.bytes(RequestOrder::Repeated) as f64,
            ]
        })
        .collect();
    want.sort_by(f64::total_cmp);
    assert_eq!(values, want);
    let out = fig.render().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.png.starts_with(b"\x89PNG"));
    assert!(plot::wire::bytes(&[]).is_none());
}
