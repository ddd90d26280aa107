//! "HTTP": the Superb Site under open-loop load, per scheme × transport × protocol: the
//! highest rate meeting the p99 objective (and the rule that decided it), latency at the
//! common offered rate, server CPU per request split into the token's part and the rest,
//! bytes per request on the socket, HTTP/1.1 against HTTP/2, and whether the load
//! generator could have been the bottleneck.

use std::fmt::Write as _;

use super::chart;
use crate::plot::{self, Figure, Rendered};
use crate::report::checks::Check;
use crate::report::document::Document;
use crate::report::{Run, WorkloadReport};
use crate::results::schema::http::{
    HttpProtocol, HttpResults, HttpRow, Limit, NodeRow, OUTSIDE_TOKEN_TARGET, SplitPoint,
};
use crate::scheme::spec::SchemeId;
use crate::units;

impl WorkloadReport for HttpResults {
    const HEADING: &'static str = "HTTP: the Superb Site under load";
    /// Bandwidth (bytes on the socket), CPU (sites per RTT) and scalability (the store's
    /// headroom, requests/s as nodes grow; single servers' max rates as evidence).
    const ROWS: &'static [usize] = &[1, 2, 3];
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

    /// A site that accepted a credential it could not check; a recorded headroom that its
    /// own definition does not give; a split whose outside-the-token CPU exceeds the target.
    fn checks(&self, _run: &Run) -> Vec<Check> {
        let mut out = Vec::new();
        for f in self.faults.iter().filter(|f| f.accepted_unverified > 0) {
            out.push(Check::warning(format!(
                "http fault {} on {} ({} nodes): {} authenticated requests answered 200 while \
                 the credential could not be checked (must be 0: fail closed)",
                f.fault, f.scheme, f.nodes, f.accepted_unverified
            )));
        }
        for n in &self.nodes {
            if let Some(s) = &n.store_load
                && let Some(h) = s.headroom_from_cpu()
                && (s.headroom_rate - h).abs() > 0.01 * h
            {
                out.push(Check::warning(format!(
                    "http {}: recorded store headroom {} req/s, but 1 s ÷ ({} × {:.2} ops) = {} req/s",
                    n.label(),
                    units::count(s.headroom_rate),
                    units::ns(s.cpu_per_op_ns),
                    s.ops_per_request,
                    units::count(h)
                )));
            }
        }
        for r in &self.rows {
            for p in r.split.iter().filter(|p| split_judged(r, p)) {
                if let Some(x) = p
                    .outside_token_over_floor()
                    .filter(|x| *x > OUTSIDE_TOKEN_TARGET)
                {
                    out.push(Check::note(format!(
                        "http {} ({} load): CPU outside the token is {} the stack floor, above \
                         the target ×{OUTSIDE_TOKEN_TARGET}",
                        r.label(),
                        p.load.name(),
                        units::ratio(x)
                    )));
                }
            }
        }
        out
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
        if self.nodes.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "\n{:<30} {:>5} {:>6} {:>9} {:>9} {:>9} {:>12}",
            "http sites", "nodes", "rtt", "max req/s", "per core", "p99", "store headroom"
        );
        for n in &self.nodes {
            let _ = writeln!(
                out,
                "  {:<28} {:>5} {:>6} {:>9} {:>9} {:>9} {:>12}",
                n.scheme,
                n.nodes,
                n.rtt(),
                match n.max_rate {
                    Some(_) if !n.generator_ruled_out() => "?".to_owned(),
                    Some(m) => format!("{m:.0}"),
                    None => "-".to_owned(),
                },
                n.max_rate_per_server_core()
                    .map_or("-".to_owned(), |m| format!("{m:.0}")),
                units::ns(n.common.step.latency.p99_ns),
                n.store_load
                    .as_ref()
                    .filter(|s| s.ops_per_request > 0.0)
                    .map_or("-".to_owned(), |s| format!("{:.0}", s.headroom_rate))
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

/// `4.00 k on 1 core`, or `unpinned` without a placement.
fn per_core(rate: Option<f64>, cores: Option<&[usize]>) -> String {
    match (rate, cores) {
        (Some(r), Some(c)) if !c.is_empty() => format!(
            "{} ({} core{})",
            units::count(r),
            c.len(),
            if c.len() == 1 { "" } else { "s" }
        ),
        (None, Some(_)) => "—".to_owned(),
        _ => "unpinned".to_owned(),
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
            "Per server core",
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
                    per_core(r.max_rate_per_server_core(), r.server_cores.as_deref()),
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
                let fine = r.generator_ruled_out();
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
    if h.rows.is_empty() && h.nodes.is_empty() {
        doc.para("`http.json` holds no rows.");
        return;
    }
    if h.rows.is_empty() {
        placement(doc, h);
        nodes_and_faults(doc, h);
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
         Latency counts from each request's intended send time (no coordinated omission). {} Figures at \
         the common rate are for one offered rate, {} req/s, for every row.",
        if h.placement.is_some() {
            "The generator and each server are pinned to cores (placement below).".to_owned()
        } else {
            format!(
                "Server and generator share the machine's {} logical cores.",
                h.cores
            )
        },
        units::count(h.common_rate)
    ));
    doc.para(search_rule(h));
    placement(doc, h);
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
    split_table(doc, h);
    protocol_table(doc, h);
    generator_check(doc, h);
    nodes_and_faults(doc, h);
}

/// The sites, their store and the faults, each when measured.
fn nodes_and_faults(doc: &mut Document, h: &HttpResults) {
    node_table(doc, h);
    store_table(doc, h);
    fault_table(doc, h);
}

/// Where the generator and the servers ran, and what shared a core.
fn placement(doc: &mut Document, h: &HttpResults) {
    let mut lines = Vec::new();
    match &h.placement {
        Some(p) => lines.push(format!(
            "Single servers: {}. {}",
            Placement(p),
            if p.is_oversubscribed() {
                "**Oversubscribed**: the figures include waiting for a shared core."
            } else {
                "Nothing shares a core."
            }
        )),
        None if !h.rows.is_empty() => lines.push(format!(
            "Single servers: not pinned (this `http.json` records no placement): server and \
             generator share the machine's {} cores, so a rate per server core cannot be given.",
            h.cores
        )),
        None => {}
    }
    let mut layouts: Vec<&NodeRow> = Vec::new();
    for n in &h.nodes {
        if !layouts
            .iter()
            .any(|l| l.placement == n.placement && l.store.is_some() == n.store.is_some())
        {
            layouts.push(n);
        }
    }
    for n in layouts {
        let p = &n.placement;
        let mut shared: Vec<String> = p.oversubscribed.clone();
        if n.shares_cores() && !p.is_oversubscribed() {
            shared.push(format!(
                "the store server and the latency proxy are not pinned and share the {} cores \
                 with the generator and the nodes",
                p.cores.len()
            ));
        }
        lines.push(format!(
            "{} node{} {}: {}, {} server core{}. {}",
            p.nodes.len(),
            if p.nodes.len() == 1 { "" } else { "s" },
            if n.store.is_some() {
                "with the store"
            } else {
                "without a store"
            },
            Placement(p),
            p.server_cores(),
            if p.server_cores() == 1 { "" } else { "s" },
            if shared.is_empty() {
                "Nothing shares a core.".to_owned()
            } else {
                format!("**Oversubscribed**: {}.", shared.join("; "))
            }
        ));
    }
    if lines.is_empty() {
        return;
    }
    doc.heading(3, "Placement");
    doc.para(format!(
        "Cores of the load generator and of each server process (`sched_setaffinity`), out of \
         the machine's {}; a rate per server core divides a max rate by the distinct cores the \
         servers were pinned to. An oversubscribed layout measures waiting for a shared core as \
         well as work: its rates per core are lower bounds and adding nodes to it adds no cores.",
        h.cores
    ));
    doc.bullets(lines);
}

/// A placement without its oversubscription words (they are printed apart).
struct Placement<'a>(&'a crate::net::placement::Placement);

impl std::fmt::Display for Placement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cores = |c: &[usize]| c.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        write!(f, "generator on core {}", cores(&self.0.generator))?;
        for (i, n) in self.0.nodes.iter().enumerate() {
            write!(f, ", node {i} on core {}", cores(n))?;
        }
        Ok(())
    }
}

/// Whether a split point's two steps and its row can be judged.
fn split_judged(r: &HttpRow, p: &SplitPoint) -> bool {
    r.generator_ruled_out() && p.me.step.valid && p.floor.step.valid
}

/// Each row's CPU per request split against the stack floor, at each load measured, with
/// the outside-the-token rule per row.
fn split_table(doc: &mut Document, h: &HttpResults) {
    let rows: Vec<Vec<String>> = h
        .rows
        .iter()
        .flat_map(|r| r.split.iter().map(move |p| (r, p)))
        .map(|(r, p)| {
            let (me, floor) = (&p.me.server, &p.floor.server);
            let ratio = p.outside_token_over_floor();
            let mut row = name_cells(r);
            row.extend([
                p.load.name().to_owned(),
                units::count(p.offered_rate),
                units::ns(floor.cpu_per_request_ns),
                units::ns(me.cpu_per_request_ns),
                units::ns(me.token_cpu_per_request_ns),
                units::ns(me.password_cpu_per_request_ns),
                units::ns(me.rest_cpu_per_request_ns),
                ratio.map_or_else(|| "n/a".to_owned(), units::ratio),
                match ratio {
                    _ if !split_judged(r, p) => "**cannot tell**: the generator lagged".to_owned(),
                    Some(x) if x <= OUTSIDE_TOKEN_TARGET => "**pass**".to_owned(),
                    Some(_) => "**fail**".to_owned(),
                    None => "**cannot tell**: no request counted".to_owned(),
                },
            ]);
            row
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    doc.heading(3, "A request against the stack floor");
    doc.para(format!(
        "On the same server and at the same offered rate, `GET /me` (a credential, validated) \
         and `GET /floor` (the same middleware and body, no credential): the floor is what the \
         stack costs per request without a token; token, password and rest split `GET /me`'s \
         server CPU per request. Each split is taken at the common rate (`common`, the same for \
         every row) and near the row's own capacity (`near-capacity`): CPU per request falls as \
         the rate rises (fewer idle wake-ups), so a token's share is only comparable at one load. \
         Rule: the authenticated route's CPU outside the token (server CPU per `GET /me` − \
         token) ≤ {OUTSIDE_TOKEN_TARGET} × the floor: **pass**, otherwise **fail**; a row \
         whose generator could not be ruled out **cannot tell**."
    ));
    doc.table(
        &[
            "Scheme",
            "Transport",
            "Protocol",
            "Load",
            "Offered (req/s)",
            "Stack floor",
            "Server CPU/request",
            "Token",
            "Password",
            "Rest",
            "Outside token ÷ floor",
            "≤ 1.3 × floor",
        ],
        rows,
    );
}

/// `2 ms (measured 2.04 ms)`, or the setting alone.
fn rtt_cell(n: &NodeRow) -> String {
    match n.measured_rtt_ms {
        Some(m) => format!("{} (measured {})", n.rtt(), units::ns(m * 1e6)),
        None => n.rtt(),
    }
}

/// Per scheme × nodes × RTT: the site's max rate, per node and per server core, latency at
/// the common rate and CPU per request against the floor.
fn node_table(doc: &mut Document, h: &HttpResults) {
    if h.nodes.is_empty() {
        return;
    }
    doc.heading(3, "Several nodes, a store at a distance");
    doc.para(format!(
        "Each site is K `tokenbench serve` processes (nodes) of one site on their own loopback \
         addresses, sharing the central store through a latency proxy that delays each chunk \
         by half the round trip from its arrival, each way (RTT: the setting, and the added \
         round trip measured through the proxy). The generator spreads virtual users over the \
         nodes, with no sticky sessions. Max rate as above, over the whole site; per node = \
         max ÷ K; per server core = max ÷ the distinct cores the nodes were pinned to. Latency \
         and CPU per request (the nodes' CPU over the requests they answered) at the common \
         rate, {} req/s; the stack floor is `GET /floor` on the same site at that rate. A site \
         whose generator could not be ruled out **cannot tell** and is left out of every verdict.",
        units::count(h.common_rate)
    ));
    doc.table(
        &[
            "Scheme",
            "Transport",
            "Protocol",
            "Nodes",
            "RTT",
            "Max rate (req/s)",
            "Per node",
            "Per server core",
            "Limited by",
            "p50",
            "p99",
            "CPU/request",
            "Stack floor",
            "CPU ÷ floor",
            "Generator the bottleneck?",
        ],
        h.nodes
            .iter()
            .map(|n| {
                let lat = &n.common.step.latency;
                let cpu = n.common.cpu_per_request_ns();
                let floor = n.floor_cpu_per_request_ns();
                let opt = |x: Option<f64>, f: fn(f64) -> String| x.map_or_else(|| "—".into(), f);
                vec![
                    n.scheme.to_string(),
                    n.transport.to_string(),
                    n.protocol.name().to_owned(),
                    n.nodes.to_string(),
                    rtt_cell(n),
                    n.max_rate
                        .map_or_else(|| "none passed".into(), units::count),
                    opt(n.max_rate_per_node(), units::count),
                    opt(n.max_rate_per_server_core(), units::count),
                    limit(n.limited_by).to_owned(),
                    units::ns(lat.median_ns),
                    units::ns(lat.p99_ns),
                    opt(cpu, units::ns),
                    opt(floor, units::ns),
                    match (cpu, floor) {
                        (Some(c), Some(f)) if f > 0.0 => units::ratio(c / f),
                        _ => "—".into(),
                    },
                    if n.generator_ruled_out() {
                        "**no**".to_owned()
                    } else {
                        format!(
                            "**cannot tell**: {}",
                            n.common
                                .step
                                .invalid_reason
                                .clone()
                                .unwrap_or_else(|| "the search stopped on a lagging step".into())
                        )
                    },
                ]
            })
            .collect(),
    );
}

/// Request rates the store table sizes shards for, req/s.
pub const SHARD_RATES: [f64; 3] = [1e4, 1e5, 1e6];

/// `0.42 (1)`: shards as a fraction of a core and whole primaries.
fn shards(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2} ({})", x.ceil().max(1.0))
    } else {
        "n/a".to_owned()
    }
}

/// The central store under each site: its operations, CPU per operation and headroom.
fn store_table(doc: &mut Document, h: &HttpResults) {
    let sites: Vec<&NodeRow> = h.nodes.iter().filter(|n| n.store.is_some()).collect();
    if sites.is_empty() {
        return;
    }
    let rates: Vec<String> = SHARD_RATES.iter().map(|r| units::count(*r)).collect();
    doc.heading(3, "The central store's headroom");
    doc.para(format!(
        "The store server's own figures while each site ran at the common rate: operations per \
         second, operations per HTTP request answered, and its CPU per operation (its process \
         CPU over the step less its background CPU, over the operations). **Headroom** = 1 s ÷ \
         (CPU per operation × operations per request): the request rate at which this store's \
         server fills one core. Every session request needs the store, so a site needs rate × \
         CPU per operation × operations per request of central store CPU, growing with the \
         rate; **shards** = rate ÷ headroom, the store cores (Redis Cluster primaries, one core \
         each) a rate needs, shown for {} req/s (whole primaries in brackets). A scheme without \
         store operations (a JWT without a denylist) needs none.",
        rates.join(", ")
    ));
    let shards_head = format!("Shards for {} req/s", rates.join(" / "));
    doc.table(
        &[
            "Scheme",
            "Nodes",
            "RTT",
            "Store",
            "Ops/s",
            "Ops/request",
            "CPU/op",
            "Store CPU/request",
            "Headroom (req/s)",
            shards_head.as_str(),
        ],
        sites
            .iter()
            .map(|n| {
                let mut row = vec![
                    n.scheme.to_string(),
                    n.nodes.to_string(),
                    n.rtt(),
                    n.store.clone().unwrap_or_default(),
                ];
                match &n.store_load {
                    Some(s) => row.extend([
                        units::count(s.ops_per_sec),
                        format!("{:.2}", s.ops_per_request),
                        units::ns(s.cpu_per_op_ns),
                        n.store_cpu_per_request_ns()
                            .map_or_else(|| "—".into(), units::ns),
                        if s.ops_per_request > 0.0 {
                            units::count(s.headroom_rate)
                        } else {
                            "no store work".to_owned()
                        },
                        if s.ops_per_request > 0.0 {
                            SHARD_RATES
                                .iter()
                                .map(|r| shards(s.shards_for(*r)))
                                .collect::<Vec<_>>()
                                .join(" / ")
                        } else {
                            "none".to_owned()
                        },
                    ]),
                    None => row
                        .extend(std::iter::repeat_n("not read".to_owned(), 6).collect::<Vec<_>>()),
                }
                row
            })
            .collect(),
    );
}

/// Faults injected into a site and what the site did after them.
fn fault_table(doc: &mut Document, h: &HttpResults) {
    if h.faults.is_empty() {
        return;
    }
    doc.heading(3, "Faults");
    doc.para(
        "A node killed during a run, and the proxy to the store cut: the requests after the \
         fault, by outcome. Rule: a site fails closed when no authenticated request was \
         answered 200 while its credential could not be checked (accepted unverified = 0).",
    );
    doc.table(
        &[
            "Fault",
            "Scheme",
            "Nodes",
            "OK after",
            "Refused after",
            "Unreachable after",
            "Accepted unverified",
            "Fails closed?",
            "Outcome",
        ],
        h.faults
            .iter()
            .map(|f| {
                vec![
                    f.fault.clone(),
                    f.scheme.to_string(),
                    f.nodes.to_string(),
                    f.ok_after.to_string(),
                    f.refused_after.to_string(),
                    f.unreachable_after.to_string(),
                    f.accepted_unverified.to_string(),
                    if f.accepted_unverified == 0 {
                        "**yes**".to_owned()
                    } else {
                        "**no**".to_owned()
                    },
                    f.outcome.clone(),
                ]
            })
            .collect(),
    );
}
