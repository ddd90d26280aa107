//! A real headless Chromium on the Superb Site (the browser workload, run once for the
//! module and shared by its tests): what the browser really did, as the server saw it.
//! Without Chromium the tests are skipped with a notice; with `CI` set they fail instead
//! (`.ci/run` installs it with `scripts/install-browser.sh`).

use std::sync::OnceLock;

use tokenbench::claims::ClaimSet;
use tokenbench::results::schema::browser::BrowserResults;
use tokenbench::results::schema::wire::{RequestOrder, WireClient, WireProtocol, cells};
use tokenbench::scheme::JwtAlg;
use tokenbench::scheme::spec::{Family, SchemeSpec, StoreSpec};
use tokenbench::workload::NoProgress;
use tokenbench::workload::browser::{self, BrowserParams, driver};

use crate::common::skip::on_ci;

/// The workload's results, measured once (about 30 s): sessions, JWTs and the hybrid, four calls per
/// preflight row, `Access-Control-Max-Age` 0 and 600, wire sequences of three requests
/// for a session and HS256.
fn results() -> Option<&'static BrowserResults> {
    static RESULTS: OnceLock<Option<BrowserResults>> = OnceLock::new();
    RESULTS
        .get_or_init(|| {
            if let Err(e) = driver::find() {
                assert!(
                    !on_ci(),
                    "{e}, and CI is set: on CI the browser tests must run"
                );
                eprintln!("note: skipping the browser tests: {e}");
                return None;
            }
            let p = BrowserParams {
                preflight_calls: 4,
                max_ages: vec![Some(0), Some(600)],
                wire_requests: 3,
                wire_claims: vec![ClaimSet::Typical],
                server_exe: Some(env!("CARGO_BIN_EXE_tokenbench").into()),
            };
            let wire = [
                SchemeSpec::Session(StoreSpec::Memory),
                SchemeSpec::Jwt(JwtAlg::HS256),
            ];
            let families = [Family::Session, Family::Jwt, Family::Hybrid];
            let r =
                browser::run(&families, &wire, &p, &NoProgress).expect("the browser workload runs");
            assert_eq!(r.not_measured, None);
            Some(r)
        })
        .as_ref()
}

#[test]
fn an_httponly_cookie_is_not_readable_by_script_and_localstorage_is() {
    let Some(r) = results() else { return };
    let read = |scheme: &str, storage: &str| {
        r.readability
            .iter()
            .find(|x| x.scheme == scheme && x.storage == storage)
            .unwrap_or_else(|| panic!("{scheme} {storage}: {:?}", r.readability))
            .script_can_read
    };
    assert!(!read("session-memory", "cookie-httponly"));
    assert!(!read("jwt-HS256", "cookie-httponly"));
    assert!(
        read("jwt-HS256", "localstorage"),
        "any script reads localStorage"
    );
    assert!(
        !read("jwt-HS256", "memory"),
        "a closure variable is not found by a scan"
    );
    assert!(
        read("jwt-HS256", "memory-fetch-hook"),
        "but a wrapped fetch sees it in use"
    );
}

#[test]
fn the_login_flow_runs_in_the_browser_and_logout_refuses_a_revoked_credential() {
    let Some(r) = results() else { return };
    assert_eq!(r.flows.len(), 5, "{:?}", r.flows);
    for f in &r.flows {
        assert!(f.stored && f.later_request_carried_credential, "{f:?}");
        assert_eq!(
            (f.later_request_status, f.logout_status),
            (200, 204),
            "{f:?}"
        );
        assert!(f.cleared_after_logout, "{f:?}");
        // The replayed credential is refused exactly when the server says it is revoked.
        assert_eq!(
            f.old_credential_refused,
            f.logout_outcome == "revoked",
            "{f:?}"
        );
    }
    let session = r
        .flows
        .iter()
        .find(|f| f.scheme == "session-memory")
        .unwrap();
    assert_eq!(session.login_status, 303);
    assert!(session.old_credential_refused, "{session:?}");
    assert_eq!(session.cookies_on_later_request, ["__Host-sid"]);
    let bearer = r.flows.iter().find(|f| f.transport == "bearer").unwrap();
    assert_eq!(bearer.login_status, 200);
    assert_eq!(bearer.logout_outcome, "expiry-only");
    // The hybrid: only the access cookie travels to /me (the refresh cookie is scoped to
    // /token/refresh); after logout its access token lives to its exp.
    let hybrid = r
        .flows
        .iter()
        .find(|f| f.scheme == "hybrid-HS256-memory")
        .unwrap();
    assert_eq!(
        hybrid.cookies_on_later_request,
        ["__Host-hybrid"],
        "{hybrid:?}"
    );
    assert_eq!(hybrid.logout_outcome, "expiry-only");
}

#[test]
fn a_lax_cookie_is_not_sent_on_a_cross_site_fetch_but_is_same_site() {
    let Some(r) = results() else { return };
    let sent = |ss: &str, rel: &str, kind: &str, tp: &str| {
        r.credential(ss, rel, kind, tp)
            .unwrap_or_else(|| panic!("{ss} {rel} {kind} {tp}"))
            .credential_sent
    };
    assert!(!sent("lax", "cross-site", "fetch", "allowed"));
    assert!(!sent("lax", "cross-site", "form_post", "allowed"));
    assert!(
        sent("lax", "cross-site", "navigation", "allowed"),
        "Lax allows top-level GET"
    );
    assert!(
        sent("lax", "same-site", "fetch", "allowed"),
        "same site, other origin"
    );
    assert!(!sent("strict", "cross-site", "navigation", "allowed"));
    assert!(sent("none", "cross-site", "fetch", "allowed"));
    assert!(
        !sent("none", "cross-site", "fetch", "blocked"),
        "third-party cookies blocked"
    );
}

#[test]
fn authorization_needs_a_preflight_per_call_unless_max_age_caches_it() {
    let Some(r) = results() else { return };
    let row = |t: &str, age: &str| {
        r.preflights
            .iter()
            .find(|p| p.transport == t && p.max_age == age)
            .unwrap_or_else(|| panic!("{t} {age}: {:?}", r.preflights))
    };
    for p in &r.preflights {
        assert_eq!(p.calls(), 4, "{p:?}");
        assert_eq!(p.ok_calls, 4, "every answer readable through CORS: {p:?}");
    }
    assert_eq!(row("bearer", "0").preflights(), 4);
    assert_eq!(
        row("bearer", "600").preflighted,
        [true, false, false, false]
    );
    assert_eq!(
        row("cookie", "0").preflights(),
        0,
        "a credentialed GET is simple"
    );
    assert_eq!(row("cookie", "600").preflights(), 0);
}

/// Chromium's HTTP/2 header blocks reach the server's recorder, one per request: the
/// first carries the whole token; hyper's and nghttp2's rows sit beside them.
#[test]
fn chromium_and_the_other_clients_send_their_header_bytes_to_the_recorder() {
    let Some(r) = results() else { return };
    let chromium: Vec<_> = r
        .wire
        .iter()
        .filter(|w| w.client == WireClient::Chromium)
        .collect();
    // Session and HS256, cookie and authorization, three requests each.
    assert_eq!(chromium.len(), 12, "{chromium:?}");
    for w in &chromium {
        assert_eq!(w.protocol, WireProtocol::H2);
        if w.first_or_repeated == RequestOrder::First && w.token_bytes > 100 {
            // Nothing to point at yet: the token goes literally.
            assert!(w.server_header_block_bytes > w.token_bytes * 3 / 4, "{w:?}");
        }
    }
    assert!(r.wire.iter().any(|w| w.client == WireClient::Hyper));
    for line in cells(&r.wire).iter().map(|c| {
        format!(
            "{} {} {} {}: {} then {:?}",
            c.client,
            c.protocol.name(),
            c.header,
            c.token,
            c.first,
            c.repeated
        )
    }) {
        eprintln!("{line}");
    }
}
