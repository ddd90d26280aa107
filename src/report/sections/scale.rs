//! "Scale": throughput and latency percentiles under load, and each line's scaling ratio
//! from the fewest to the most threads.

use std::fmt::Write as _;

use super::chart;
use crate::crypto::CryptoBackend;
use crate::plot::{self, Figure, Rendered};
use crate::report::document::Document;
use crate::report::{Run, WorkloadReport};
use crate::results::schema::scale::{ScalePoint, ScaleResults};
use crate::scheme::spec::SchemeId;
use crate::units;

impl WorkloadReport for ScaleResults {
    const HEADING: &'static str = "Scale: throughput and latency under load";
    /// Scalability.
    const ROWS: &'static [usize] = &[3];
    const TOUCHED: &'static str =
        "the throughput and latency under load (row 3); scale's own threads count in this load";

    fn schemes(&self) -> Vec<SchemeId> {
        self.points.iter().map(|p| p.scheme).collect()
    }

    fn figures(&self) -> Vec<Figure> {
        let mut out = plot::scale::throughput(self);
        out.extend(plot::scale::percentiles(self));
        out
    }

    fn section(&self, _run: &Run, charts: &[Rendered], doc: &mut Document) {
        section(self, charts, doc);
    }

    fn terminal(&self, _run: &Run, out: &mut String) {
        // Writing to a String cannot fail, so the fmt::Results below are ignored.
        let _ = writeln!(
            out,
            "\nscale (best ops/s)             backend       threads  sessions        ops/s"
        );
        let mut best: Vec<&ScalePoint> = Vec::new();
        for p in &self.points {
            match best.iter_mut().find(|b| {
                b.scheme == p.scheme && b.backend == p.backend && b.sessions == p.sessions
            }) {
                Some(b) if b.ops_per_sec >= p.ops_per_sec => {}
                Some(b) => *b = p,
                None => best.push(p),
            }
        }
        for p in best {
            let _ = writeln!(
                out,
                "  {:<28} {:<13} {:>7} {:>9} {:>12.0}",
                p.scheme,
                p.backend.map_or("-", |b| b.name()),
                p.threads,
                p.sessions.map_or("-".into(), |n| n.to_string()),
                p.ops_per_sec
            );
        }
    }
}

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

/// The scale workload's charts and tables.
fn section(s: &ScaleResults, charts: &[Rendered], doc: &mut Document) {
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
    if let Some((lo, hi, lines)) = s.scaling() {
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
