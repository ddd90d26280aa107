//! "Scale": throughput and latency percentiles under load, and each line's scaling ratio
//! from the fewest to the most threads.

use super::{chart, workload};
use crate::crypto::CryptoBackend;
use crate::plot::Rendered;
use crate::report::Run;
use crate::report::document::Document;
use crate::report::verdicts;
use crate::scheme::spec::SchemeId;
use crate::units;

/// `1 thread`, `N threads`.
fn threads(n: usize) -> String {
    if n == 1 {
        "1 thread".to_owned()
    } else {
        format!("{n} threads")
    }
}

/// A thread count in a table: above the cores, labelled as run-queue wait.
fn thread_cell(n: usize, cores: usize) -> String {
    if n > cores {
        format!("{n} (oversubscribed: run-queue wait)")
    } else {
        n.to_string()
    }
}

/// The cells that name a line of the scale workload: scheme, backend and working set, "—"
/// where it has none.
fn line_cells(
    scheme: SchemeId,
    backend: Option<CryptoBackend>,
    sessions: Option<usize>,
) -> Vec<String> {
    vec![
        scheme.to_string(),
        backend.map_or_else(|| "—".into(), |b| b.to_string()),
        sessions.map_or_else(|| "—".into(), |n| n.to_string()),
    ]
}

/// The scale workload's charts and tables, or a line saying it was not measured.
pub(super) fn section(doc: &mut Document, run: &Run, charts: &[Rendered]) {
    let Some(s) = workload(doc, "Scale: throughput and latency under load", &run.scale) else {
        return;
    };
    doc.para(format!(
        "Threads validate random tokens of a working set for {} per point on {} logical cores; sessions \
         use {} expiry. Latencies are means over short batches. A machine with {} cores can show \
         scaling up to {} threads: points with more threads than cores are marked oversubscribed, \
         and measure run-queue wait (a thread waiting for a core), not the scheme. The scheme \
         variants are measured in turn at each thread count, so drift of the machine hits them alike.",
        units::ns(s.duration_per_point_ms * 1e6),
        s.cores,
        if s.session_sliding {
            "sliding"
        } else {
            "fixed-deadline"
        },
        s.cores,
        s.cores
    ));
    chart(doc, charts, "scale_throughput");
    chart(doc, charts, "scale_throughput_jwt");
    if let Some((lo, hi, lines)) = verdicts::scalability::scaling(s) {
        doc.table(
            &[
                "Scheme",
                "Backend",
                "Live sessions",
                &format!("ops/s at {}", threads(lo)),
                &format!(
                    "ops/s at {}{}",
                    threads(hi),
                    if hi > s.cores {
                        " (oversubscribed)"
                    } else {
                        ""
                    }
                ),
                "S (ratio)",
            ],
            lines
                .iter()
                .map(|l| {
                    let mut row = line_cells(l.scheme, l.backend, l.sessions);
                    row.extend([
                        units::count(l.low_ops),
                        units::count(l.high_ops),
                        units::ratio(l.ratio()),
                    ]);
                    row
                })
                .collect(),
        );
    }
    chart(doc, charts, "scale_percentiles");
    chart(doc, charts, "scale_percentiles_jwt");
    doc.table(
        &[
            "Scheme",
            "Backend",
            "Live sessions",
            "Threads",
            "ops/s",
            "p50",
            "p99",
            "p99.9",
            "Batch",
            "Errors",
        ],
        s.points
            .iter()
            .map(|p| {
                let mut row = line_cells(p.scheme, p.backend, p.sessions);
                row.extend([
                    thread_cell(p.threads, s.cores),
                    units::count(p.ops_per_sec),
                    units::ns(p.latency.median_ns),
                    units::ns(p.latency.p99_ns),
                    units::ns(p.latency.p999_ns),
                    p.batch_size.to_string(),
                    p.errors.to_string(),
                ]);
                row
            })
            .collect(),
    );
}
