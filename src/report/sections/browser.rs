//! "Browser": what a real Chromium did on the site (`browser.json`): the login flow per
//! credential kind, what a script injected in the page could read, which credentials
//! crossed origins under each `SameSite` value, and the CORS preflights per call with the
//! time they add. Row 7 (cross-domain) and the XSS consideration read these tables.

use std::fmt::Write as _;

use crate::plot::{self, Figure, Rendered};
use crate::report::checks::Check;
use crate::report::document::Document;
use crate::report::{Run, WorkloadReport};
use crate::results::schema::browser::{BrowserResults, CredentialRow, PreflightRow, quartiles};
use crate::units;

impl WorkloadReport for BrowserResults {
    const HEADING: &'static str = "Browser: a real Chromium on the site";
    /// Bandwidth (the header bytes per HTTP/2 client), cross-domain.
    const ROWS: &'static [usize] = &[1, 7];
    const TOUCHED: &'static str = "the preflight latencies (the credential and readability rows are observations, not timings)";

    fn figures(&self) -> Vec<Figure> {
        plot::wire::bytes(&self.wire).into_iter().collect()
    }

    fn section(&self, _run: &Run, charts: &[Rendered], doc: &mut Document) {
        section(self, doc);
        super::wire::render(doc, &self.wire, charts);
    }

    fn checks(&self, _run: &Run) -> Vec<Check> {
        super::wire::checks(&self.wire)
    }

    fn terminal(&self, _run: &Run, out: &mut String) {
        // Writing to a String cannot fail.
        if let Some(why) = &self.not_measured {
            let _ = writeln!(out, "\nbrowser: not measured ({why})");
            return;
        }
        let _ = writeln!(out, "\nbrowser ({})", self.browser);
        for r in &self.readability {
            let _ = writeln!(
                out,
                "  {:<16} {:<18} script can read the credential: {}",
                r.scheme,
                r.storage,
                yes_no(r.script_can_read)
            );
        }
        for p in &self.preflights {
            let _ = writeln!(
                out,
                "  cross-origin {:<7} Max-Age {:<7} {:.2} preflights per call",
                p.transport,
                p.max_age,
                p.preflights_per_call()
            );
        }
        if let Some((cost, _, _)) = self.preflight_cost_ms() {
            let _ = writeln!(
                out,
                "  a preflight added {cost:.1} ms (median of calls with one minus without)"
            );
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `12.3 ms (10.1 ms–15.0 ms), 7 calls`: median and quartiles, or "—".
fn ms_cell(v: &[f64]) -> String {
    let ms = |x: f64| units::ns(x * 1e6);
    match quartiles(v) {
        Some([m, lo, hi]) => format!(
            "{} ({}–{}), {} call{}",
            ms(m),
            ms(lo),
            ms(hi),
            v.len(),
            if v.len() == 1 { "" } else { "s" }
        ),
        None => "—".to_owned(),
    }
}

/// The request kinds of the SameSite table, in column order, with their headings.
pub const KINDS: [(&str, &str); 7] = [
    ("cross_site_fetch", "cross-site fetch"),
    ("cross_site_navigation", "cross-site navigation (GET link)"),
    ("cross_site_form_post", "cross-site form POST"),
    (
        "cross_site_fetch_after_fetch_login",
        "cross-site fetch, cookie set by a cross-site fetch",
    ),
    ("same_site_fetch", "same-site fetch"),
    ("same_site_navigation", "same-site navigation"),
    ("same_site_form_post", "same-site form POST"),
];

fn section(r: &BrowserResults, doc: &mut Document) {
    if let Some(why) = &r.not_measured {
        doc.para(format!(
            "**not measured in this run**: {why}. Install Chromium with `scripts/install-browser.sh` \
             (Debian's `chromium` and `chromium-driver`) and run again; rows 7 and the XSS consideration \
             then draw on a real browser."
        ));
        return;
    }
    doc.para(format!(
        "{} driven headless over WebDriver against Superb Site servers over HTTPS with HTTP/2, in a \
         few profiles, experiments within a profile kept apart by host names of their own (no \
         cookie, storage, partition or connection shared). Page and API are told apart by host name, all mapped to \
         loopback: `{}` calling `{}` is cross-site; `{}` calling `{}` is same-site (two origins of one \
         site). What each request carried is the server's record of it (its request log, names only), \
         not what the page believed; preflights are the `OPTIONS` requests the server received. \
         Third-party cookies \"blocked\" means the profile preferences `{}`. The workload took {:.0} s.",
        r.browser,
        r.site_origin,
        r.api_origin,
        r.same_site_page_origin,
        r.same_site_api_origin,
        r.third_party_cookie_control,
        r.duration_s
    ));
    doc.heading(3, "The login flow in the browser");
    doc.table(
        &[
            "scheme",
            "transport",
            "kept in",
            "login",
            "stored",
            "later GET /me (credential arrived)",
            "logout",
            "cleared",
            "old credential replayed",
        ],
        r.flows
            .iter()
            .map(|f| {
                vec![
                    f.scheme.clone(),
                    f.transport.clone(),
                    f.storage.clone(),
                    f.login_status.to_string(),
                    yes_no(f.stored).to_owned(),
                    format!(
                        "{} ({}{})",
                        f.later_request_status,
                        yes_no(f.later_request_carried_credential),
                        if f.cookies_on_later_request.is_empty() {
                            String::new()
                        } else {
                            format!("; cookies: {}", f.cookies_on_later_request.join(", "))
                        }
                    ),
                    format!("{} {}", f.logout_status, f.logout_outcome),
                    yes_no(f.cleared_after_logout).to_owned(),
                    format!(
                        "{} ({})",
                        f.replay_status,
                        if f.old_credential_refused {
                            "refused"
                        } else {
                            "accepted"
                        }
                    ),
                ]
            })
            .collect(),
    );
    doc.para(
        "A credential that lives until its expiry (`expiry-only`) is still accepted when replayed after \
         logout: logout only made the browser forget it. The cookies a later `GET /me` carried are the \
         server's log: a hybrid's refresh cookie is scoped to `/token/refresh`, so only its access \
         cookie travels on every request.",
    );
    doc.heading(3, "Can a script on the page read the credential?");
    doc.table(
        &[
            "scheme",
            "kept in",
            "injected script obtained it",
            "what it tried",
        ],
        r.readability
            .iter()
            .map(|x| {
                vec![
                    x.scheme.clone(),
                    x.storage.clone(),
                    yes_no(x.script_can_read).to_owned(),
                    x.probe.clone(),
                ]
            })
            .collect(),
    );
    doc.heading(3, "Which credentials crossed origins (SameSite)");
    let mut head = vec!["SameSite", "third-party cookies"];
    head.extend(KINDS.iter().map(|k| k.1));
    let mut labels: Vec<(String, String)> = Vec::new();
    for c in &r.credentials {
        let key = (c.samesite_label(), c.third_party_cookies.clone());
        if !labels.contains(&key) {
            labels.push(key);
        }
    }
    let rows = labels
        .iter()
        .map(|(ss, tp)| {
            let mut row = vec![ss.clone(), tp.clone()];
            row.extend(KINDS.iter().map(|(kind, _)| {
                r.credentials
                    .iter()
                    .find(|c: &&CredentialRow| {
                        c.samesite_label() == *ss
                            && c.third_party_cookies == *tp
                            && c.kind_label() == *kind
                    })
                    .map_or("—".to_owned(), |c| {
                        format!(
                            "{} ({})",
                            if c.credential_sent {
                                "sent"
                            } else {
                                "not sent"
                            },
                            c.status
                        )
                    })
            }));
            row
        })
        .collect();
    doc.table(&head, rows);
    doc.para(
        "The cookie is logged in on the API's own origin first (top level); the status is the server's \
         answer (a form POST that carries the cookie still meets the CSRF check: 403). The \"cookie set by \
         a cross-site fetch\" column logs in by `fetch` from the page, so the cookie is set in a \
         third-party context.",
    );
    doc.heading(3, "CORS preflights");
    doc.table(
        &[
            "transport",
            "Access-Control-Max-Age",
            "calls",
            "preflights",
            "per call",
            "calls with a preflight",
            "calls without",
        ],
        r.preflights.iter().map(preflight_row).collect(),
    );
    match r.preflight_cost_ms() {
        Some((cost, with, without)) => doc.para(format!(
            "Rule: a preflight's cost is the median duration of the bearer calls a preflight preceded \
             minus that of those it did not, in the same profile and run: {} − {} = **{}** per \
             preflighted call. A bearer call is not a simple request, so without a \
             cached preflight every call pays one; a credentialed cookie `GET` is simple and pays none. \
             Without `Access-Control-Max-Age` Chromium caches a preflight for 5 s.",
            units::ns(with * 1e6),
            units::ns(without * 1e6),
            units::ns_delta(cost * 1e6)
        )),
        None => doc.para("No preflight cost: the run lacks calls with or without a preflight."),
    }
}

fn preflight_row(p: &PreflightRow) -> Vec<String> {
    vec![
        p.transport.clone(),
        p.max_age.clone(),
        p.calls().to_string(),
        p.preflights().to_string(),
        format!("{:.3}", p.preflights_per_call()),
        ms_cell(&p.durations(true)),
        ms_cell(&p.durations(false)),
    ]
}
