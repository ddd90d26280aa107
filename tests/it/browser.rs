//! A real headless Chromium on the Superb Site (the browser workload, run once for the
//! module and shared by its tests): what the browser really did, as the server saw it.
//! Without Chromium the tests are skipped with a notice; with `CI` set they fail instead
//! (`.ci/run` installs it with `scripts/install-browser.sh`).

use std::sync::OnceLock;

use tokenbench::results::schema::browser::BrowserResults;
use tokenbench::scheme::spec::Family;
use tokenbench::workload::NoProgress;
use tokenbench::workload::browser::{self, BrowserParams, driver};

use crate::common::skip::on_ci;

/// The workload's results, measured once (about 20 s): sessions and JWTs, four calls per
/// preflight row, `Access-Control-Max-Age` 0 and 600.
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
            };
            let r = browser::run(&[Family::Session, Family::Jwt], &p, &NoProgress)
                .expect("the browser workload runs");
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
    assert_eq!(r.flows.len(), 4, "{:?}", r.flows);
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
    let bearer = r.flows.iter().find(|f| f.transport == "bearer").unwrap();
    assert_eq!(bearer.login_status, 200);
    assert_eq!(bearer.logout_outcome, "expiry-only");
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

/// Chromium's HTTP/2 header blocks reach the server's recorder, one per request, the
/// first carrying the whole token (printed with `--nocapture`).
#[test]
fn chromium_sends_its_h2_header_blocks_to_the_recorder() {
    use tokenbench::claims::ClaimSet;
    use tokenbench::scheme::JwtAlg;
    use tokenbench::scheme::spec::{SchemeSpec, StoreSpec};
    use tokenbench::workload::browser::{driver::Driver, h2bytes, lab::Lab};
    let Ok((b, d)) = driver::find() else {
        assert!(!on_ci(), "chromium missing on CI");
        return;
    };
    let driver = Driver::start(&b, &d).unwrap();
    let mut lab = Lab::new().unwrap();
    let schemes = [
        SchemeSpec::Session(StoreSpec::Memory),
        SchemeSpec::Jwt(JwtAlg::HS256),
    ];
    let sent = h2bytes::run(&driver, &mut lab, &schemes, &[ClaimSet::Typical], 3).unwrap();
    for s in &sent {
        eprintln!(
            "{:?} {} {} len={} #{} status={} block={} payload={} frames={}",
            s.transport,
            s.token,
            s.claims.name(),
            s.token_bytes,
            s.index,
            s.status,
            s.recorded.header_block_bytes,
            s.recorded.frame_payload_bytes,
            s.recorded.frames
        );
    }
    assert_eq!(sent.len(), 12, "3 requests per token kind and header");
    assert!(sent.iter().all(|s| s.status == 200), "{sent:?}");
    for s in sent.iter().filter(|s| s.index == 0 && s.token_bytes > 100) {
        // The first request carries the token literally (HPACK has nothing to point at).
        assert!(
            s.recorded.header_block_bytes > s.token_bytes * 3 / 4,
            "{s:?}"
        );
    }
    lab.shutdown();
}
