//! "HTTP": the Superb Site under open-loop load, per scheme × transport × protocol: the
//! highest rate meeting the p99 objective (and the rule that decided it), latency at the
//! common offered rate, server CPU per request split into the token's part and the rest,
//! bytes per request on the socket, HTTP/1.1 against HTTP/2, and whether the load
//! generator could have been the bottleneck.

use std::fmt::Write as _;

use super::chart;
use crate::plot::{self, Figure, Rendered};
use crate::report::document::Document;
use crate::report::{Run, WorkloadReport};
use crate::results::schema::http::{HttpProtocol, HttpResults, HttpRow, Limit};
use crate::scheme::spec::SchemeId;
use crate::units;

impl WorkloadReport for HttpResults {
    const HEADING: &'static str = "HTTP: the Superb Site under load";
    /// Bandwidth (bytes on the socket) and scalability (max rates, as evidence).
    const ROWS: &'static [usize] = &[1, 3];
    const TOUCHED: &'static str = "the HTTP latencies and rates";

    fn schemes(&self) -> Vec<SchemeId> {
        self.rows.iter().map(|r| r.scheme).collect()
    }

    fn figures(&self) -> Vec<Figure> {
        plot::http::figures(self)
    }

    fn section(&self, _run: &Run, charts: &[Rendered], doc: &mut Document) {
        section(self, charts, doc);
    }

    fn terminal(&self, _run: &Run, out: &mut String) {
        // Writing to a String cannot fail, so the fmt::Results below are ignored.
        let _ = writeln!(
            out,
            "\n{:<30} {:<9} {:<9} {:>9} {:>8} {:>8} {:>6}",
            format!("http (at {:.0} req/s)", self.common_rate),
            "transport",
            "protocol",
            "max req/s",
            "CPU/req",
            "token",
            "share"
        );
        for r in &self.rows {
            let d = &r.common.server;
            let _ = writeln!(
                out,
                "  {:<28} {:<9} {:<9} {:>9} {:>8} {:>8} {:>6}",
                r.scheme,
                r.transport.name(),
                r.protocol.name(),
                r.max_rate.map_or("-".to_owned(), |m| format!("{m:.0}")),
                units::ns(d.cpu_per_request_ns),
                units::ns(d.token_cpu_per_request_ns),
                r.token_share().map_or("-".to_owned(), units::percent)
            );
        }
    }
}

/// Share of the answered rate below the offer that fails a step (as the search uses).
const ANSWERED_SHARE: f64 = 0.9;

/// The figures a table row starts with.
fn name_cells(r: &HttpRow) -> Vec<String> {
    vec![
        r.scheme.to_string(),
        r.transport.to_string(),
        r.protocol.name().to_owned(),
    ]
}

fn limit(l: Limit) -> &'static str {
    match l {
        Limit::Objective => "objective",
        Limit::Generator => "generator",
        Limit::Cap => "search cap",
    }
}

/// The rule of the rate search, from the parameters the run recorded.
fn search_rule(h: &HttpResults) -> String {
    match h.search_params() {
        Some(p) => format!(
            "**Max rate** is the highest offered rate whose step passed: p99 latency, counted from each \
             request's intended send time, at most {} (the objective); at most {} of the step's requests \
             failed; and requests answered as expected at least {} of the offered rate. The search starts at \
             {} req/s, multiplies the rate by {} while steps pass (never above {} req/s), then bisects \
             between the last pass and the first failure ({} step{}); each step warms up for {} and measures {}. \
             A failing step where the generator lagged is run once more.",
            units::ns(p.p99_objective.as_nanos() as f64),
            units::percent(p.max_error_rate),
            units::percent(ANSWERED_SHARE),
            units::count(p.start_rate),
            p.growth,
            units::count(p.max_rate),
            p.bisect_steps,
            if p.bisect_steps == 1 { "" } else { "s" },
            units::ns(p.warmup.as_nanos() as f64),
            units::ns(p.window.as_nanos() as f64),
        ),
        None => {
            "**Max rate** is the highest offered rate whose step met the p99 objective (the run's \
                 `http.json` does not record the search's parameters)."
                .to_owned()
        }
    }
}

/// The max rate and the latency at the common rate.
fn rate_table(doc: &mut Document, h: &HttpResults) {
    doc.table(
        &[
            "Scheme",
            "Transport",
            "Protocol",
            "Max rate (req/s)",
            "Limited by",
            "p50",
            "p99",
            "p99.9",
            "Answered (req/s)",
            "Errors",
        ],
        h.rows
            .iter()
            .map(|r| {
                let s = &r.common.step;
                let mut row = name_cells(r);
                row.extend([
                    r.max_rate
                        .map_or_else(|| "none passed".into(), units::count),
                    limit(r.limited_by).to_owned(),
                    units::ns(s.latency.median_ns),
                    units::ns(s.latency.p99_ns),
                    units::ns(s.latency.p999_ns),
                    units::count(s.achieved_rate),
                    if s.errors == 0 {
                        format!("0 of {}", s.requests)
                    } else {
                        let kinds: Vec<String> = s
                            .error_kinds
                            .iter()
                            .map(|(k, n)| format!("{k} {n}"))
                            .collect();
                        format!("{} of {} ({})", s.errors, s.requests, kinds.join(", "))
                    },
                ]);
                row
            })
            .collect(),
    );
}

/// Server CPU per request, its parts, and the bytes on the socket.
fn cpu_table(doc: &mut Document, h: &HttpResults) {
    doc.table(
        &[
            "Scheme",
            "Transport",
            "Protocol",
            "Server CPU/request",
            "Token",
            "Password",
            "Rest",
            "Token's share",
            "Bytes in / out per request",
            "Logout",
        ],
        h.rows
            .iter()
            .map(|r| {
                let d = &r.common.server;
                let s = &r.common.step;
                let mut row = name_cells(r);
                row.extend([
                    units::ns(d.cpu_per_request_ns),
                    units::ns(d.token_cpu_per_request_ns),
                    units::ns(d.password_cpu_per_request_ns),
                    units::ns(d.rest_cpu_per_request_ns),
                    r.token_share().map_or_else(|| "n/a".into(), units::percent),
                    format!(
                        "{} / {}",
                        units::bytes(s.bytes_sent_per_request.round()),
                        units::bytes(s.bytes_received_per_request.round())
                    ),
                    r.logout.clone(),
                ]);
                row
            })
            .collect(),
    );
    // Parts never exceed their whole; when the samples say they do, say so.
    let over: Vec<String> = h
        .rows
        .iter()
        .filter(|r| {
            let d = &r.common.server;
            d.requests > 0
                && d.token_cpu_per_request_ns + d.password_cpu_per_request_ns > d.cpu_per_request_ns
        })
        .map(HttpRow::label)
        .collect();
    if !over.is_empty() {
        doc.para(format!(
            "**Warning**: the sampled token and password CPU exceed the process CPU for {}; their rest is \
             shown as 0 and their split is not reliable (too few requests or samples in the interval).",
            over.join(", ")
        ));
    }
}

/// `value (×ratio)` against the HTTP/1.1 figure, or the value alone.
fn versus(value: f64, base: Option<f64>, fmt: fn(f64) -> String) -> String {
    match base {
        Some(b) if b > 0.0 && value.is_finite() => {
            format!("{} ({})", fmt(value), units::ratio(value / b))
        }
        _ => fmt(value),
    }
}

/// Each HTTP/2 row beside the HTTP/1.1 row of the same scheme and transport.
fn protocol_table(doc: &mut Document, h: &HttpResults) {
    let rows: Vec<Vec<String>> = h
        .rows
        .iter()
        .filter(|r| r.protocol != HttpProtocol::Http1)
        .filter_map(|r| {
            let base = h.rows.iter().find(|b| {
                b.protocol == HttpProtocol::Http1
                    && b.scheme == r.scheme
                    && b.transport == r.transport
            })?;
            let mut row = name_cells(r);
            row.extend([
                match (r.max_rate, base.max_rate) {
                    (Some(m), b) => versus(m, b, units::count),
                    (None, _) => "none passed".into(),
                },
                versus(
                    r.common.server.cpu_per_request_ns,
                    Some(base.common.server.cpu_per_request_ns),
                    units::ns,
                ),
                versus(
                    r.common.step.bytes_sent_per_request.round(),
                    Some(base.common.step.bytes_sent_per_request.round()),
                    units::bytes,
                ),
                versus(
                    r.common.step.bytes_received_per_request.round(),
                    Some(base.common.step.bytes_received_per_request.round()),
                    units::bytes,
                ),
            ]);
            Some(row)
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    doc.heading(3, "HTTP/1.1 against HTTP/2");
    doc.para(
        "Each HTTP/2 row beside the HTTP/1.1 row of the same scheme and transport (×: HTTP/2 ÷ HTTP/1.1). \
         HTTP/2 compresses headers with HPACK; hyper's client, like the h2 crate's encoder, never adds \
         `cookie` or `authorization` values to the HPACK dynamic table, so the token is resent (Huffman-coded) \
         on every request.",
    );
    doc.table(
        &[
            "Scheme",
            "Transport",
            "Protocol",
            "Max rate (req/s)",
            "Server CPU/request",
            "Bytes in/request",
            "Bytes out/request",
        ],
        rows,
    );
}

/// Whether the load generator could have been the bottleneck, row by row, by a printed rule.
fn generator_check(doc: &mut Document, h: &HttpResults) {
    doc.heading(3, "Is the load generator the bottleneck?");
    doc.para(format!(
        "Rule: a row's figures are the server's when (a) its search did not stop on a step where the \
         generator lagged (limited by `generator`) and (b) the step at the common rate was valid: the pacer \
         woke idle virtual users late by at most the generator's limit at p99 (a lagging step's latencies \
         may be the generator's). The generator's own CPU (getrusage of its process, in cores; the machine \
         has {} logical cores, shared by server and generator) and the share of sends that found their user \
         still waiting for an answer (the server behind the schedule, not the generator) are shown beside. \
         Verdict per row: **no** when (a) and (b) hold, **cannot tell** otherwise.",
        h.cores
    ));
    let mut lagged = 0;
    doc.table(
        &[
            "Scheme",
            "Transport",
            "Protocol",
            "Generator CPU at the common rate",
            "Pacer lag p99",
            "Late sends",
            "Lagging search steps",
            "Generator the bottleneck?",
        ],
        h.rows
            .iter()
            .map(|r| {
                let s = &r.common.step;
                let invalid = r.search.iter().filter(|x| !x.step.valid).count();
                let fine = r.limited_by != Limit::Generator && s.valid;
                if !fine {
                    lagged += 1;
                }
                let mut row = name_cells(r);
                row.extend([
                    format!(
                        "{:.2} cores ({} worker thread{})",
                        s.generator_cores,
                        s.generator_threads,
                        if s.generator_threads == 1 { "" } else { "s" }
                    ),
                    if s.lag.samples == 0 {
                        "n/a".into()
                    } else {
                        units::ns(s.lag.p99_ns)
                    },
                    units::percent(s.late_share),
                    format!("{invalid} of {}", r.search.len()),
                    if fine {
                        "**no**".to_owned()
                    } else {
                        format!(
                            "**cannot tell**: {}",
                            s.invalid_reason
                                .clone()
                                .unwrap_or_else(|| "the search stopped on a lagging step".into())
                        )
                    },
                ]);
                row
            })
            .collect(),
    );
    if lagged > 0 {
        doc.para(format!(
            "{lagged} of {} rows cannot rule the generator out. When server and generator share the same \
             cores, a saturated server delays the generator's threads too, so the two cannot be told apart \
             on one machine: put the generator on other cores or another machine to be sure.",
            h.rows.len()
        ));
    }
}

/// The http workload's charts and tables.
fn section(h: &HttpResults, charts: &[Rendered], doc: &mut Document) {
    if h.rows.is_empty() {
        doc.para("`http.json` holds no rows.");
        return;
    }
    let vus = h.param_u64("vus").map_or_else(
        || "virtual users".to_owned(),
        |n| format!("{n} virtual users"),
    );
    let mix = match (
        h.param_u64("reads_per_write"),
        h.param_u64("writes_per_session"),
    ) {
        (Some(r), Some(w)) => format!(
            "log in, then {w} rounds of {r} `GET /me` and one `POST /api/notes`, then log out"
        ),
        _ => "log in, authenticated reads and writes, log out".to_owned(),
    };
    doc.para(format!(
        "Each scheme × transport runs as its own `tokenbench serve` process (so its CPU accounting holds \
         the server alone), driven open loop by `tokenbench load` with {vus} over the article's flow: {mix}. \
         Latency counts from each request's intended send time (no coordinated omission). Server and \
         generator share the machine's {} logical cores. Figures at the common rate are for one offered \
         rate, {} req/s, for every row.",
        h.cores,
        units::count(h.common_rate)
    ));
    doc.para(search_rule(h));
    chart(doc, charts, "http_throughput");
    chart(doc, charts, "http_p99");
    rate_table(doc, h);
    doc.para(
        "**CPU per request** is the server process's CPU (getrusage, user + system) over the step at the \
         common rate divided by the requests it answered. The token's part is every call into the scheme \
         (validate, issue, revoke, CSRF lookups), one call in 8 timed with the thread CPU clock; password \
         is the argon2id check at login, spread over the requests of a session; the rest (HTTP, TLS, \
         routing, the kernel's socket work) is what remains. The token's share = token ÷ server CPU per \
         request. Bytes are counted on the generator's sockets (below TLS), per answered request, the \
         whole flow mix averaged.",
    );
    chart(doc, charts, "http_cpu");
    chart(doc, charts, "http_bytes");
    cpu_table(doc, h);
    if h.rows.iter().any(|r| r.logout == "expiry-only") {
        doc.para(
            "Logout `expiry-only`: a token that states its own expiry and has no denylist is not \
             revoked at logout; it stays valid until its `exp`.",
        );
    }
    protocol_table(doc, h);
    generator_check(doc, h);
}
