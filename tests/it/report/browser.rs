//! The browser workload's fixture (`browser.json` as a real Chromium filled it in, calls
//! trimmed) and what the report makes of it: its tables, the "not measured" file, row 7
//! and the XSS consideration drawing on it, and its summary rows.

use tokenbench::claims::ClaimSet;
use tokenbench::report::verdicts::{self, Verdict};
use tokenbench::results::schema::ResultFile;
use tokenbench::results::schema::browser::{
    BrowserResults, CredentialRow, FlowRow, PreflightRow, ReadRow,
};
use tokenbench::results::schema::wire::{
    RequestOrder, WireClient, WireHeader, WireProtocol, WireRow,
};
use tokenbench::scheme::JwtAlg;
use tokenbench::scheme::spec::{SchemeId, StoreKind};

use super::fixture::Fixture;

fn flow(scheme: &str, transport: &str, storage: &str, revoked: bool) -> FlowRow {
    FlowRow {
        scheme: scheme.into(),
        transport: transport.into(),
        storage: storage.into(),
        login_status: if transport == "cookie" { 303 } else { 200 },
        stored: true,
        later_request_status: 200,
        cookies_on_later_request: Vec::new(),
        later_request_carried_credential: true,
        logout_status: 204,
        logout_outcome: if revoked { "revoked" } else { "expiry-only" }.into(),
        cleared_after_logout: true,
        replay_status: if revoked { 401 } else { 200 },
        old_credential_refused: revoked,
    }
}

fn read(scheme: &str, storage: &str, can: bool) -> ReadRow {
    ReadRow {
        scheme: scheme.into(),
        storage: storage.into(),
        script_can_read: can,
        probe: "document.cookie, localStorage, sessionStorage, window properties".into(),
    }
}

/// `(samesite, third-party cookies, relation, kind, sent)` as Chromium 156 behaved.
const SENT: [(&str, &str, &str, &str, bool); 12] = [
    ("none", "allowed", "cross-site", "fetch", true),
    ("none", "allowed", "cross-site", "navigation", true),
    ("none", "allowed", "cross-site", "form_post", true),
    ("none", "allowed", "same-site", "fetch", true),
    ("lax", "allowed", "cross-site", "fetch", false),
    ("lax", "allowed", "cross-site", "navigation", true),
    ("lax", "allowed", "cross-site", "form_post", false),
    ("lax", "allowed", "same-site", "fetch", true),
    ("strict", "allowed", "cross-site", "navigation", false),
    ("strict", "allowed", "same-site", "fetch", true),
    ("none", "blocked", "cross-site", "fetch", false),
    ("none", "blocked", "cross-site", "navigation", true),
];

pub(super) fn fixture() -> BrowserResults {
    let mut credentials: Vec<CredentialRow> = SENT
        .iter()
        .map(|(ss, tp, rel, kind, sent)| CredentialRow {
            samesite: (*ss).into(),
            partitioned: false,
            third_party_cookies: (*tp).into(),
            relation: (*rel).into(),
            request_kind: (*kind).into(),
            credential_sent: *sent,
            status: if *sent { 200 } else { 401 },
        })
        .collect();
    credentials.push(CredentialRow {
        samesite: "none".into(),
        partitioned: true,
        third_party_cookies: "blocked".into(),
        relation: "cross-site".into(),
        request_kind: "fetch_after_fetch_login".into(),
        credential_sent: true,
        status: 200,
    });
    let pre =
        |transport: &str, max_age: &str, preflighted: Vec<bool>, call_ms: Vec<f64>| PreflightRow {
            transport: transport.into(),
            max_age: max_age.into(),
            ok_calls: call_ms.len() as u32,
            call_ms,
            preflighted,
        };
    BrowserResults {
        schema_version: BrowserResults::VERSION,
        not_measured: None,
        browser: "Chromium 156.0.8078.114 built on Debian GNU/Linux 12 (bookworm)".into(),
        third_party_cookie_control:
            r#"{"profile.block_third_party_cookies":true,"profile.cookie_controls_mode":1}"#.into(),
        site_origin: "https://site.test:40001".into(),
        api_origin: "https://api.test:40001".into(),
        same_site_page_origin: "https://www.site.test:40001".into(),
        same_site_api_origin: "https://api.site.test:40001".into(),
        flows: vec![
            flow("session-memory", "cookie", "cookie-httponly", true),
            flow("jwt-HS256", "cookie", "cookie-httponly", false),
            flow("jwt-HS256", "bearer", "memory", false),
            flow("jwt-HS256", "bearer", "localstorage", false),
        ],
        readability: vec![
            read("session-memory", "cookie-httponly", false),
            read("jwt-HS256", "cookie-httponly", false),
            read("jwt-HS256", "memory", false),
            read("jwt-HS256", "memory-fetch-hook", true),
            read("jwt-HS256", "localstorage", true),
        ],
        credentials,
        preflights: vec![
            pre("bearer", "0", vec![true; 4], vec![6.5, 4.5, 6.0, 5.0]),
            pre(
                "bearer",
                "600",
                vec![true, false, false, false],
                vec![7.0, 3.0, 2.5, 3.5],
            ),
            pre("cookie", "0", vec![false; 4], vec![3.0, 2.0, 2.5, 2.25]),
        ],
        wire: wire_rows(),
        duration_s: 21.0,
    }
}

/// Three requests on one HTTP/2 connection: payloads as the server counted them (frames
/// are 9 B more), and the client's own count where it gives one (nghttp2).
fn sequence(
    client: WireClient,
    header: WireHeader,
    token: SchemeId,
    payloads: [u64; 3],
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
            client_reported_bytes: (client == WireClient::Nghttp2).then_some(p),
            token_bytes: if token == JWT { 447 } else { 22 },
        })
        .collect()
}

const JWT: SchemeId = SchemeId::Jwt(JwtAlg::HS256);
const SESSION: SchemeId = SchemeId::Session(StoreKind::Memory);

/// Chromium's figures as measured (typical claims), hyper resending everything, nghttp2
/// indexing the cookie only.
fn wire_rows() -> Vec<WireRow> {
    use WireClient::{Chromium, Hyper, Nghttp2};
    use WireHeader::{Authorization, Cookie};
    [
        sequence(Chromium, Cookie, JWT, [416, 29, 29]),
        sequence(Chromium, Cookie, SESSION, [71, 29, 29]),
        sequence(Chromium, Authorization, JWT, [413, 29, 29]),
        sequence(Chromium, Authorization, SESSION, [68, 29, 29]),
        sequence(Hyper, Cookie, JWT, [430, 410, 410]),
        sequence(Hyper, Cookie, SESSION, [80, 60, 60]),
        sequence(Hyper, Authorization, JWT, [428, 408, 408]),
        sequence(Hyper, Authorization, SESSION, [78, 58, 58]),
        sequence(Nghttp2, Cookie, JWT, [420, 18, 19]),
        sequence(Nghttp2, Cookie, SESSION, [70, 18, 19]),
        sequence(Nghttp2, Authorization, JWT, [418, 392, 393]),
        sequence(Nghttp2, Authorization, SESSION, [68, 42, 43]),
    ]
    .concat()
}

#[test]
fn the_browser_section_shows_its_four_tables() {
    let md = Fixture::all().write().report_md();
    let at = md
        .find("\n## Browser: a real Chromium on the site\n")
        .expect("section");
    let section = &md[at..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    for needle in [
        "### The login flow in the browser",
        "| jwt-HS256 | cookie | cookie-httponly | 303 | yes | 200 (yes) | 204 expiry-only | yes | 200 (accepted) |",
        "| session-memory | cookie | cookie-httponly | 303 | yes | 200 (yes) | 204 revoked | yes | 401 (refused) |",
        "| jwt-HS256 | localstorage | yes |",
        "| session-memory | cookie-httponly | no |",
        "| lax | allowed | not sent (401) | sent (200) | not sent (401) | — | sent (200) |",
        "| none+partitioned | blocked | — | — | — | sent (200) |",
        "| bearer | 0 | 4 | 4 | 1.000 |",
        "| bearer | 600 | 4 | 1 | 0.250 |",
        "| cookie | 0 | 4 | 0 | 0.000 |",
    ] {
        assert!(section.contains(needle), "{needle} not in\n{section}");
    }
    // Rule printed with the figures: median with (bearer: 6.5, 4.5, 6, 5, 7: 6) minus without (3, 2.5, 3.5: 3).
    assert!(section.contains("Rule: a preflight's cost"), "{section}");
    assert!(
        section.contains("6.00 ms − 3.00 ms = **+3.00 ms**"),
        "{section}"
    );
}

#[test]
fn without_chromium_the_file_says_so_and_the_report_too() {
    let f = Fixture::all()
        .browser(|b| *b = BrowserResults::not_measured("chromium not found (no /usr/bin/chromium)"))
        .write();
    let md = f.report_md();
    assert!(
        md.contains("**not measured in this run**: chromium not found"),
        "{md}"
    );
    assert!(md.contains("scripts/install-browser.sh"));
    // Row 7 falls back to the sizes alone, the XSS point to its assertion.
    let sizes_only = Fixture::all().without("browser").write();
    let row = |f: &super::fixture::FixtureRun| verdicts::rows(&f.run())[6].judgement.clone();
    assert_eq!(row(&f), row(&sizes_only));
    assert!(!md.contains("Observed in this run"));
    assert!(BrowserResults::not_measured("x").summary_rows().is_empty());
}

#[test]
fn row_7_and_the_xss_point_draw_on_the_browser() {
    let f = Fixture::all().write();
    let md = f.report_md();
    let row = &verdicts::rows(&f.run())[6];
    assert_eq!(
        row.judgement.verdict,
        Verdict::Nuanced,
        "{:?}",
        row.judgement
    );
    assert!(row.evidence.contains(&"browser"));
    let because = &row.judgement.because;
    assert!(because.contains("1.00 preflights per call"), "{because}");
    assert!(because.contains("SameSite=None: yes, Lax: no"), "{because}");
    assert!(because.contains("blocked: no"), "{because}");
    assert!(
        md.contains("**Observed in this run** (Chromium 156.0.8078.114"),
        "{md}"
    );
    assert!(md.contains("jwt-HS256 in localstorage: read"));
    assert!(md.contains("session-memory in cookie-httponly: not read"));
    // A bearer call that could not be made contradicts the row.
    let f = Fixture::all()
        .browser(|b| b.preflights[0].ok_calls = 0)
        .write();
    assert_eq!(
        verdicts::rows(&f.run())[6].judgement.verdict,
        Verdict::Contradicted
    );
    // No preflight and no cookie crossing: confirmed.
    let f = Fixture::all()
        .browser(|b| {
            b.preflights
                .iter_mut()
                .for_each(|p| p.preflighted.iter_mut().for_each(|x| *x = false));
            b.credentials.iter_mut().for_each(|c| {
                if c.relation == "cross-site" {
                    c.credential_sent = false;
                }
            });
        })
        .write();
    assert_eq!(
        verdicts::rows(&f.run())[6].judgement.verdict,
        Verdict::Confirmed
    );
}

#[test]
fn summary_rows_have_the_issues_metric_names_and_params() {
    let rows = fixture().summary_rows();
    let has = |metric: &str, param: &str, value: f64| {
        rows.iter().any(|r| {
            r.workload == "browser" && r.metric == metric && r.param == param && r.value == value
        })
    };
    assert!(has(
        "preflights_per_call",
        "transport=bearer,max_age=0",
        1.0
    ));
    assert!(has(
        "preflights_per_call",
        "transport=bearer,max_age=600",
        0.25
    ));
    assert!(has(
        "credential_sent",
        "samesite=lax,request_kind=cross_site_fetch,third_party_cookies=allowed",
        0.0
    ));
    assert!(has(
        "credential_sent",
        "samesite=none+partitioned,request_kind=cross_site_fetch_after_fetch_login,third_party_cookies=blocked",
        1.0
    ));
    assert!(has(
        "script_can_read_credential",
        "scheme=jwt-HS256,storage=localstorage",
        1.0
    ));
    assert!(has(
        "script_can_read_credential",
        "scheme=session-memory,storage=cookie-httponly",
        0.0
    ));
    assert!(has(
        "call_latency",
        "transport=bearer,max_age=600,preflighted=yes,stat=median",
        7.0
    ));
}
