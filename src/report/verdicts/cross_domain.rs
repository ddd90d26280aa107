//! Row 7, cross-domain: whether each token fits an `Authorization: Bearer` header and a
//! cookie, the two transports across origins; and, when the run has `browser.json`, what
//! a real Chromium did with each across sites (preflights, cookies sent under SameSite).

use super::{Judgement, Row, SELF_CONTAINED, Verdict, families, per_claim_set};
use crate::report::Run;
use crate::results::schema::browser::BrowserResults;
use crate::results::schema::size::{SizeResults, SizeRow};
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 7 of the table.
pub const ROW: Row = Row {
    number: 7,
    name: "Cross-domain",
    claim: "A JWT sent in a header crosses origins easily; cookies hit same-origin rules and need CORS.",
    rule,
    cell,
    judge: |run| with_browser(judge(run.get::<SizeResults>()), run.get::<BrowserResults>()),
};

/// The rule, in words.
pub fn rule() -> String {
    format!(
        "contradicted if the `Authorization: Bearer` header of a {SELF_CONTAINED} token (one that \
         carries its claims, as a JWT does) exceeds the header limit; confirmed if every \
         {SELF_CONTAINED} header fits and no session token fits the same limits (only a \
         {SELF_CONTAINED} token could use the header); nuanced if both kinds of token fit both \
         transports (crossing origins is then a choice of transport, not of token) or a \
         {SELF_CONTAINED} token fits the header but not the cookie limit. With `browser.json` \
         (a real Chromium, page and API on two sites): contradicted if a cross-site bearer call \
         could not be made; nuanced if the bearer calls crossed but each uncached one paid a \
         preflight (preflights per call above 0 with `Access-Control-Max-Age: 0`) or a cookie \
         crossed sites only under `SameSite=None` (and not with third-party cookies blocked), \
         since both transports then cross at a cost; confirmed if the header crossed with no \
         preflight and the cookie never crossed sites. A contradiction from the sizes stands \
         whatever the browser shows"
    )
}

/// The judgement from the sizes, refined by what a real browser did (the rule above);
/// unchanged without `browser.json` rows.
pub fn with_browser(size: Judgement, browser: Option<&BrowserResults>) -> Judgement {
    let Some(b) = browser.filter(|b| b.not_measured.is_none() && !b.preflights.is_empty()) else {
        return size;
    };
    let bearer: Vec<_> = b
        .preflights
        .iter()
        .filter(|p| p.transport == "bearer")
        .collect();
    let crossed = !bearer.is_empty() && bearer.iter().all(|p| p.ok_calls as usize == p.calls());
    let uncached = bearer
        .iter()
        .find(|p| p.max_age == "0")
        .map_or(0.0, |p| p.preflights_per_call());
    let sent = |ss: &str, tp: &str| {
        b.credential(ss, "cross-site", "fetch", tp)
            .is_some_and(|c| c.credential_sent)
    };
    let none_crosses = sent("none", "allowed");
    let lax_crosses = sent("lax", "allowed");
    let none_blocked = sent("none", "blocked");
    let same_site_lax = b
        .credential("lax", "same-site", "fetch", "allowed")
        .is_some_and(|c| c.credential_sent);
    let browser_verdict = if !crossed {
        Verdict::Contradicted
    } else if uncached > 0.0 || none_crosses {
        Verdict::Nuanced
    } else {
        Verdict::Confirmed
    };
    let verdict = match size.verdict {
        Verdict::Contradicted => Verdict::Contradicted,
        _ => browser_verdict,
    };
    let mut because = format!(
        "{}. In {}: cross-site bearer calls {}; {:.2} preflights per call without a cached \
         preflight",
        size.because,
        b.browser.split(" built").next().unwrap_or(&b.browser),
        if crossed { "answered" } else { "failed" },
        uncached
    );
    if let Some((cost, _, _)) = b.preflight_cost_ms() {
        because.push_str(&format!(", each adding {cost:.1} ms (median)"));
    }
    because.push_str(&format!(
        "; a cross-site credentialed fetch carried the cookie under SameSite=None: {}, Lax: {}, \
         None with third-party cookies blocked: {}; a same-site (other origin) fetch under Lax: {}",
        yes_no(none_crosses),
        yes_no(lax_crosses),
        yes_no(none_blocked),
        yes_no(same_site_lax)
    ));
    Judgement {
        verdict,
        because,
        borderline: size.borderline,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `Authorization:` header bytes per claim set, and the claim sets whose cookie fits.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let s = run.get::<SizeResults>()?;
    let bearer = per_claim_set(run, scheme, |r| r.authorization_header_bytes)?;
    let rows: Vec<_> = s.rows.iter().filter(|r| r.scheme == scheme).collect();
    let fits = rows.iter().filter(|r| r.fits_cookie_limit).count();
    Some(format!(
        "`Authorization:` {bearer}; cookie within {} B: {}",
        s.cookie_limit_bytes,
        if fits == rows.len() {
            "all claim sets".to_owned()
        } else {
            format!("{fits} of {} claim sets", rows.len())
        }
    ))
}

/// The verdict, from `size.json`.
pub fn judge(size: Option<&SizeResults>) -> Judgement {
    let (s, carrying, sessions) = match families(size) {
        Ok(f) => f,
        Err(missing) => return missing,
    };
    let limit = s.header_limit_bytes;
    let over: Vec<String> = carrying
        .iter()
        .filter(|r| r.authorization_header_bytes > limit)
        .map(|r| format!("{} {}", r.scheme, r.claims.name()))
        .collect();
    let cookie_too_big = carrying.iter().any(|r| !r.fits_cookie_limit);
    let session_fits = sessions
        .iter()
        .all(|r| r.authorization_header_bytes <= limit && r.fits_cookie_limit);
    let max_by =
        |rows: &[&SizeRow], f: fn(&SizeRow) -> usize| rows.iter().map(|r| f(r)).max().unwrap_or(0);
    let verdict = if !over.is_empty() {
        Verdict::Contradicted
    } else if !session_fits && !cookie_too_big {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "largest {SELF_CONTAINED} `Authorization:` header {} of {} ({}), largest \
         {SELF_CONTAINED} `Set-Cookie:` {}; session `Authorization:` {}, `Set-Cookie:` {}; cookie \
         limit {}",
        units::bytes(max_by(&carrying, |r| r.authorization_header_bytes) as f64),
        units::bytes(limit as f64),
        units::percent(max_by(&carrying, |r| r.authorization_header_bytes) as f64 / limit as f64),
        units::bytes(max_by(&carrying, |r| r.set_cookie_header_bytes) as f64),
        units::bytes(max_by(&sessions, |r| r.authorization_header_bytes) as f64),
        units::bytes(max_by(&sessions, |r| r.set_cookie_header_bytes) as f64),
        units::bytes(s.cookie_limit_bytes as f64),
    );
    if !over.is_empty() {
        because.push_str(&format!("; over the header limit: {}", over.join(", ")));
    }
    if cookie_too_big {
        because.push_str(&format!(
            "; some {SELF_CONTAINED} tokens' cookies exceed the cookie limit (header transport only)"
        ));
    }
    if session_fits && over.is_empty() {
        because.push_str("; both tokens fit both transports");
    }
    Judgement::new(verdict, because)
}
