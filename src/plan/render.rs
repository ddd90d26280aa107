//! The plan as text: the table, the ranked answer, the notes, the overheads with their
//! sources, every input figure with its run and file, and the rules ([`RULES`]).

use super::model::{Place, Plan, SchemePlan, gib, sig};
use crate::units;

/// How every figure of a plan is computed, printed with it.
pub const RULES: &[&str] = &[
    "node cores = rate × the server's CPU per request (whole request: token, password, rest); token cores = rate × the token's CPU per request; floor cores = rate × the CPU per request of GET /floor (no credential); per node = those ÷ nodes",
    "CPU per request (split token / password / rest) comes from the single server's row at the common rate (http.json `rows`) for that transport and protocol, its stack floor from the row's split or else from the sites; a scheme without a valid row takes the sites of nodes whose figures are their own at the store round trip nearest the scenario's, pooled (CPU ÷ requests over all of them; http.json `nodes`); a node's CPU per request falls as its rate rises (fixed per-second costs spread over more requests), so a figure measured well below the scenario's rate per node is an upper bound (noted)",
    "store operations/s = rate × store operations per request; store cores = operations/s × store CPU per operation; both from the sites over the store whose figures are their own at the round trip nearest the scenario's (how commands reach the store changes its CPU per operation), operations per request pooled (operations ÷ requests: its whole flow, lookups, writes at login and logout, a hybrid's refresh, amortised per request); store CPU per operation from a fit of the store's CPU per second = fixed + per-op × operations/s over those sites, read at the scenario's operations/s held within the rates the sites ran at (never extrapolated; a store spends more per command at a low rate), when the sites ran at rates ≥ 1.3× apart and the fit has no negative term, else pooled (store CPU ÷ operations); validate.json's store CPU per validate is shown beside, measured one lookup at a time from one client",
    "Redis primaries = store cores rounded up (a Redis primary runs its commands on one thread); PostgreSQL scales up: its cores are one server's",
    "store memory = sessions × measured bytes per session (the larger of the store's own per-record figure and its growth over N inserts ÷ N, size.json) × fragmentation × fork headroom (Redis) × replication (Redis, PostgreSQL); an embedded store's sessions are in the nodes' heap (allocator usable bytes), one copy",
    "bandwidth = rate × bytes × 8: the whole request the client sends (http.json, the flow averaged) and, on HTTP/1.1, the credential's header line (size.json); HTTP/2 indexes a repeated header (HPACK), so its credential bytes come from the browser workload (first vs repeated, --client chromium)",
    "latency added per request = store round trips × RTT + what the credential adds with the store at no distance: the p50 of the flow less the p50 of GET /floor on the run's sites at RTT 0 (the token's CPU, the store's loopback round trip and service time, queueing at the site's rate; weighted by requests), or the token's CPU per request without such a site; one round trip when every validate looks the token up in a networked store, none for a token checked without it",
    "revocation window = the p99 of a strategy's wall-clock trials (revoke.json), or its window (the token's lifetime) for one that waits for expiry; a scheme meets --revocation-within when one strategy of its family does",
    "ranking: complete plans whose sessions the nodes share and that meet --revocation-within, by total cores (node cores for whole requests + store cores), fewest first; then complete plans that do not fit the scenario; then the schemes that cannot be planned, each with the figure missing and its file",
];

/// Bits per second with a unit: `3.52 Mbit/s`.
fn bits(b: f64) -> String {
    let (v, u) = if b >= 1e9 {
        (b / 1e9, "Gbit/s")
    } else if b >= 1e6 {
        (b / 1e6, "Mbit/s")
    } else if b >= 1e3 {
        (b / 1e3, "kbit/s")
    } else {
        (b, "bit/s")
    };
    format!("{} {u}", sig(v))
}

fn dash() -> String {
    "—".to_owned()
}

/// The table's header.
pub const TABLE_HEAD: [&str; 10] = [
    "scheme",
    "token cores",
    "request cores",
    "per node",
    "store cores",
    "store",
    "session memory",
    "credential bandwidth",
    "added latency",
    "fastest revocation",
];

/// The table's cells for one scheme (a scheme that cannot be planned says so in its second
/// cell and leaves the others empty).
pub fn table_row(p: &SchemePlan) -> Vec<String> {
    let mut row = vec![p.scheme.to_string()];
    if p.node.is_none() {
        row.push(p.cannot_plan());
        row.resize(TABLE_HEAD.len(), String::new());
        return row;
    }
    let node = p.node.as_ref();
    row.push(node.map_or_else(dash, |n| sig(n.token_cores)));
    row.push(node.map_or_else(dash, |n| sig(n.request_cores)));
    row.push(node.map_or_else(dash, |n| sig(n.request_cores_per_node)));
    let remote =
        p.memory.as_ref().is_some_and(|m| m.place == Place::Store) || p.store_cpu.is_some();
    row.push(match &p.store_cpu {
        Some(c) => sig(c.cores),
        None if remote
            || p.missing
                .iter()
                .any(|m| m.figure.starts_with("store operations")) =>
        {
            "?".to_owned()
        }
        None => "0".to_owned(),
    });
    row.push(match &p.store_cpu {
        Some(c) => match c.primaries {
            Some(n) => format!("{n} Redis primar{}", if n == 1 { "y" } else { "ies" }),
            None => format!("{} {} cores", c.kind, sig(c.cores)),
        },
        None => match (&p.store, &p.memory) {
            (None, _) => "none".to_owned(),
            (Some(k), Some(m)) if m.place == Place::Nodes => format!("{k} (in nodes)"),
            (Some(k), _) => format!("{k} ?"),
        },
    });
    row.push(match &p.memory {
        Some(m) => match m.place {
            Place::Store => gib(m.total_bytes),
            Place::Nodes => format!("{} in nodes", gib(m.total_bytes)),
        },
        None if p.store.is_some() => "?".to_owned(),
        None => "0".to_owned(),
    });
    let bw: Vec<String> = p
        .bandwidth
        .iter()
        .filter_map(|b| {
            b.credential_bits_per_s.or(b.request_bits_per_s).map(|x| {
                let what = if b.credential_bits_per_s.is_some() {
                    ""
                } else {
                    " whole request"
                };
                format!("{} {}{what}", b.protocol, bits(x))
            })
        })
        .collect();
    row.push(if bw.is_empty() {
        "?".to_owned()
    } else {
        bw.join(", ")
    });
    row.push(
        p.latency
            .as_ref()
            .map_or_else(dash, |l| units::ns(l.added_ns)),
    );
    row.push(match p.best_revocation() {
        Some(r) => {
            let meets = match p.meets_revocation {
                Some(true) => " (meets)",
                Some(false) => " (misses)",
                None => "",
            };
            format!("{} {}{meets}", r.strategy, units::ns(r.window_ns))
        }
        None => dash(),
    });
    row
}

/// Fixed-width columns, two spaces apart.
fn columns(head: &[&str], rows: &[Vec<String>]) -> String {
    let n = head.len();
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        // A row whose second cell says it cannot be planned spans the rest of the line.
        let spans = r.iter().skip(2).all(String::is_empty);
        for (i, c) in r.iter().enumerate().take(n) {
            if spans && i == 1 {
                continue;
            }
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let spans = cells.iter().skip(2).all(|c| c.is_empty());
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if spans && i >= 2 {
                break;
            }
            l.push_str(c);
            if i + 1 < cells.len() && !(spans && i == 1) {
                let pad = widths[i].saturating_sub(c.chars().count()) + 2;
                l.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(head.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// The plan on the terminal: the table, the ranked answer, notes, the memory overheads and
/// their sources, every input with its run and file, and the rules.
pub fn terminal(plan: &Plan) -> String {
    let mut out = format!(
        "Plan for {}\nFigures from run {} (no measuring: each is an input of that run times the scenario, by the rules below).\n\n",
        plan.scenario.describe(),
        plan.run
    );
    let rows: Vec<Vec<String>> = plan.schemes.iter().map(table_row).collect();
    out.push_str(&columns(&TABLE_HEAD, &rows));
    out.push_str("\nRanked answer:\n");
    for r in &plan.ranking {
        match r.rank {
            Some(n) => out.push_str(&format!("  {n}. {}: {}\n", r.scheme, r.reason)),
            None => out.push_str(&format!("  -  {}: {}\n", r.scheme, r.reason)),
        }
    }
    let notes: Vec<String> = plan
        .schemes
        .iter()
        .flat_map(|p| {
            p.notes
                .iter()
                .map(move |n| format!("  {}: {n}\n", p.scheme))
        })
        .collect();
    if !notes.is_empty() {
        out.push_str("\nNotes:\n");
        out.extend(notes);
    }
    let stores: Vec<String> = plan
        .schemes
        .iter()
        .filter_map(|p| {
            let c = p.store_cpu.as_ref()?;
            let validate = c
                .cpu_per_validate_ns
                .map(|v| format!("; validate.json: {} per validate", units::ns(v)))
                .unwrap_or_default();
            Some(format!(
                "  {}: {} ops/s ({} ops per request × rate), {} CPU per op{validate}: {}\n",
                p.scheme,
                units::count(c.ops_per_sec),
                sig(c.ops_per_request),
                units::ns(c.cpu_per_op_ns),
                c.capacity
            ))
        })
        .collect();
    if !stores.is_empty() {
        out.push_str("\nStores:\n");
        out.extend(stores);
    }
    out.push_str("\nMemory overheads (flags; defaults and their sources):\n");
    for o in &plan.overheads {
        let default = if o.value == o.default {
            "default".to_owned()
        } else {
            format!("default {}", o.default)
        };
        out.push_str(&format!(
            "  --{} {} ({default}): {}\n",
            o.name, o.value, o.source
        ));
    }
    out.push_str(&format!("\nInputs (run {}):\n", plan.run));
    for p in &plan.schemes {
        for i in &p.inputs {
            out.push_str(&format!(
                "  {}: {} = {} ({}: {})\n",
                p.scheme,
                i.figure,
                with_unit(i.value, &i.unit),
                i.file,
                i.from
            ));
        }
    }
    out.push_str("\nRules:\n");
    for r in &plan.rules {
        out.push_str(&format!("  - {r}\n"));
    }
    out
}

/// An input's value with its unit, as the report writes it (`143 µs`, `44 B`, `2.97 ops`).
fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "ns" => units::ns(v),
        "B" => units::bytes((v * 10.0).round() / 10.0),
        "req/s" => format!("{} req/s", units::count(v)),
        _ => format!("{} {unit}", sig(v)),
    }
}
