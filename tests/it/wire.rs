//! The header bytes each HTTP/2 client sends per request (`workload::browser::wire`),
//! measured against real `tokenbench serve --tls --record-header-bytes` children: hyper
//! resends `cookie` and `authorization` whole on every request; nghttp2's own count of
//! every HEADERS frame it sent equals the server's; `--claims` changes the token a login
//! issues. nghttp2 (`nghttp`) is required on CI, skipped with a note elsewhere.

use std::path::Path;

use tokenbench::claims::ClaimSet;
use tokenbench::results::schema::wire::{
    RequestOrder, WireClient, WireHeader, WireProtocol, WireRow, cells, disagreements,
};
use tokenbench::scheme::JwtAlg;
use tokenbench::scheme::spec::{SchemeId, SchemeSpec, StoreKind, StoreSpec};
use tokenbench::workload::browser::wire::{self, NGHTTP_INSTALL};

use crate::common::skip;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tokenbench"))
}

#[test]
fn each_client_sends_what_the_server_counts_first_and_repeated() {
    let schemes = [
        SchemeSpec::Session(StoreSpec::Memory),
        SchemeSpec::Jwt(JwtAlg::HS256),
    ];
    let sets = [ClaimSet::Minimal, ClaimSet::Large];
    let rows = wire::measure(exe(), &schemes, &sets, 3).unwrap();
    let of = |client: WireClient, protocol: WireProtocol| -> Vec<&WireRow> {
        rows.iter()
            .filter(|r| r.client == client && r.protocol == protocol)
            .collect()
    };
    // 2 schemes x 2 claim sets x 2 headers x 3 requests per client and protocol.
    assert_eq!(of(WireClient::Hyper, WireProtocol::H2).len(), 24);
    assert_eq!(of(WireClient::Hyper, WireProtocol::Http1).len(), 24);
    for r in &rows {
        assert_eq!(
            r.first_or_repeated == RequestOrder::First,
            r.request_index == 0
        );
        assert!(r.server_header_block_bytes <= r.server_frame_payload_bytes);
        assert!(
            r.server_frame_payload_bytes < r.server_frame_bytes
                || r.protocol == WireProtocol::Http1
        );
    }
    // hyper never indexes the credential: every request carries it again, Huffman-coded
    // at best (over 5 bits per character).
    for r in of(WireClient::Hyper, WireProtocol::H2) {
        assert!(r.server_header_block_bytes > r.token_bytes * 5 / 8, "{r:?}");
    }
    // An HTTP/1.1 head holds the credential verbatim.
    for r in of(WireClient::Hyper, WireProtocol::Http1) {
        assert!(r.server_header_block_bytes > r.token_bytes, "{r:?}");
    }
    // --claims: a JWT grows with its claims, a session ID does not.
    let token = |id: SchemeId, set: ClaimSet| {
        rows.iter()
            .find(|r| r.token == id && r.claims == set)
            .unwrap()
            .token_bytes
    };
    let (jwt, session) = (
        SchemeId::Jwt(JwtAlg::HS256),
        SchemeId::Session(StoreKind::Memory),
    );
    assert!(token(jwt, ClaimSet::Large) > token(jwt, ClaimSet::Minimal) + 200);
    assert_eq!(
        token(session, ClaimSet::Large),
        token(session, ClaimSet::Minimal)
    );

    let nghttp = of(WireClient::Nghttp2, WireProtocol::H2);
    if wire::nghttp().is_none() {
        assert!(nghttp.is_empty());
        assert!(!wire::missing_clients().is_empty());
        assert!(
            !skip::on_ci(),
            "nghttp is not on PATH, and CI is set: install it ({NGHTTP_INSTALL})"
        );
        return;
    }
    assert_eq!(nghttp.len(), 24);
    assert!(wire::missing_clients().is_empty());
    // nghttp's own count of each request's HEADERS frames equals the server's.
    assert!(nghttp.iter().all(|r| r.client_reported_bytes.is_some()));
    assert!(
        disagreements(&rows).is_empty(),
        "{:?}",
        disagreements(&rows)
    );
    for c in cells(&rows)
        .iter()
        .filter(|c| c.client == WireClient::Nghttp2)
    {
        let repeated = c.repeated_max();
        match c.header {
            // nghttp2 indexes `cookie`: a repeated cookie costs a few bytes, whatever
            // the token.
            WireHeader::Cookie => assert!(repeated < 40, "{c:?}"),
            // ...and never `authorization` (a sensitive header).
            WireHeader::Authorization => {
                assert!(repeated > c.token_bytes * 5 / 8, "{c:?}")
            }
        }
    }
}

#[test]
fn a_sequence_too_short_to_repeat_is_refused() {
    let e = wire::measure(
        exe(),
        &[SchemeSpec::Jwt(JwtAlg::HS256)],
        &[ClaimSet::Typical],
        2,
    )
    .unwrap_err();
    assert!(e.to_string().contains("requests per sequence"), "{e}");
}

#[test]
fn a_recording_server_lists_its_own_read_back() {
    use tokenbench::http::child::ChildServer;
    use tokenbench::net::Transport;
    let args = wire::recording_serve_args(
        &SchemeSpec::Jwt(JwtAlg::ES256),
        Transport::Cookie,
        ClaimSet::Minimal,
    );
    let child = ChildServer::spawn(exe(), &args).unwrap();
    assert!(child.url().starts_with("https://"));
    let first = wire::read_recorded(child.url()).unwrap();
    let second = wire::read_recorded(child.url()).unwrap();
    assert_eq!(first.entries.len(), 1, "{first:?}");
    let e = &first.entries[0];
    assert_eq!(
        (e.protocol, e.path.as_deref()),
        (WireProtocol::Http1, Some("/debug/header-bytes"))
    );
    assert_eq!(second.entries.len(), 2);
    assert_eq!(second.entries[0], first.entries[0]);
    assert!(
        wire::read_recorded("https://10.0.0.1:1").is_err(),
        "loopback only"
    );
}
