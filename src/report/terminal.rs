//! The summary printed at the end of a run, from the run's results files (like the rest of
//! the report): the bottom line and the self-checks first, then a few lines per workload,
//! then the failures they record.

use std::fmt::Write as _;

use super::Run;
use super::checks::{self, Check};
use super::sections::bottom_line;
use crate::claims::ClaimSet;
use crate::results::RunDir;
use crate::results::schema::ResultFile;
use crate::results::schema::scale::ScalePoint;
use crate::results::schema::validate::Operation;
use crate::units;

/// The summary of the run in `dir`, or a line saying why its files could not be read.
pub fn summary_of(dir: &RunDir) -> String {
    match Run::load(dir, None) {
        Ok(run) => summary(&run),
        Err(e) => format!("\n(no summary: {e})\n"),
    }
}

/// The end-of-run summary of `run`.
pub fn summary(run: &Run) -> String {
    // Writing to a String cannot fail, so the fmt::Results below are ignored.
    let mut s = String::new();
    let found = checks::checks(run);
    let _ = writeln!(s, "\n{}", bottom_line::TITLE);
    for sentence in bottom_line::sentences(run, &found) {
        s.push_str(&wrap(&plain(&sentence), "  - ", "    "));
    }
    if !found.is_empty() {
        let _ = writeln!(s, "\nself-checks");
        for c in &found {
            s.push_str(&wrap(&plain(&Check::line(c)), "  - ", "    "));
        }
    }
    if let Some(r) = &run.size {
        let _ = writeln!(
            s,
            "\nsize (typical claims)          token B   Cookie: B   Bearer: B   server B/session"
        );
        for row in r.rows.iter().filter(|x| x.claims == ClaimSet::Typical) {
            let name = row.scheme.to_string();
            let mem = r
                .memory
                .iter()
                .find(|m| m.scheme == name)
                .map_or("-".to_owned(), |m| format!("{:.0}", m.bytes_per_entry));
            let _ = writeln!(
                s,
                "  {:<28} {:>8} {:>11} {:>11} {:>18}",
                name, row.token_bytes, row.cookie_header_bytes, row.authorization_header_bytes, mem
            );
        }
    }
    if let Some(r) = &run.validate {
        let _ = writeln!(
            s,
            "\nvalidate (typical claims)      backend       validate     issue        p99"
        );
        for row in r
            .rows
            .iter()
            .filter(|x| x.claims == ClaimSet::Typical && x.operation == Operation::Validate)
        {
            let issue = r
                .find(row.scheme, Operation::Issue, ClaimSet::Typical, row.backend)
                .map_or(f64::NAN, |x| x.measurement.median());
            let _ = writeln!(
                s,
                "  {:<28} {:<13} {:>10} {:>10} {:>10}",
                row.scheme,
                row.backend.map_or("-", |b| b.name()),
                units::ns(row.measurement.median()),
                units::ns(issue),
                units::ns(row.measurement.wall.p99_ns)
            );
        }
        for b in &r.budget_checks {
            let spread = match (b.ratio_lo, b.ratio_hi) {
                (Some(lo), Some(hi)) => format!(" (rounds {lo:.2}–{hi:.2})"),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "  budget: {} = {:.2}{spread} (limit {:.2}) {}",
                b.name,
                b.ratio,
                b.limit,
                if b.pass { "ok" } else { "MISSED" }
            );
        }
    }
    if let Some(r) = &run.revoke {
        let _ = writeln!(
            s,
            "\nrevoke                         p50          p99          max          added/request"
        );
        for st in &r.strategies {
            let _ = writeln!(
                s,
                "  {:<28} {:>12} {:>12} {:>12} {:>12}",
                st.strategy,
                units::ns(st.latency.median_ns),
                units::ns(st.latency.p99_ns),
                units::ns(st.latency.max_ns),
                crate::report::verdicts::revocation::added_text(st)
            );
        }
    }
    if let Some(r) = &run.scale {
        let _ = writeln!(
            s,
            "\nscale (best ops/s)             backend       threads  sessions        ops/s"
        );
        let mut best: Vec<&ScalePoint> = Vec::new();
        for p in &r.points {
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
                s,
                "  {:<28} {:<13} {:>7} {:>9} {:>12.0}",
                p.scheme,
                p.backend.map_or("-", |b| b.name()),
                p.threads,
                p.sessions.map_or("-".into(), |n| n.to_string()),
                p.ops_per_sec
            );
        }
    }
    if let Some(h) = &run.http {
        let _ = writeln!(
            s,
            "\n{:<30} {:<9} {:<9} {:>9} {:>8} {:>8} {:>6}",
            format!("http (at {:.0} req/s)", h.common_rate),
            "transport",
            "protocol",
            "max req/s",
            "CPU/req",
            "token",
            "share"
        );
        for r in &h.rows {
            let d = &r.common.server;
            let _ = writeln!(
                s,
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
    let notes: Vec<String> = [
        run.size.as_ref().map(ResultFile::error_notes),
        run.validate.as_ref().map(ResultFile::error_notes),
        run.revoke.as_ref().map(ResultFile::error_notes),
        run.scale.as_ref().map(ResultFile::error_notes),
        run.http.as_ref().map(ResultFile::error_notes),
    ]
    .into_iter()
    .flatten()
    .flatten()
    .collect();
    if !notes.is_empty() {
        let _ = writeln!(
            s,
            "\nfailures (counted in the results; tokens were refused, never accepted):"
        );
        for n in notes {
            let _ = writeln!(s, "  {n}");
        }
    }
    s
}

/// Text without the report's inline marks (`` ` `` and `**`).
fn plain(text: &str) -> String {
    text.replace("**", "").replace('`', "")
}

/// `text` wrapped at about 100 columns, the first line after `first`, the others after
/// `rest`.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    const WIDTH: usize = 100;
    let mut out = String::from(first);
    let mut col = first.chars().count();
    let mut start = true;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if !start && col + 1 + w > WIDTH {
            out.push('\n');
            out.push_str(rest);
            col = rest.chars().count();
        } else if !start {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += w;
        start = false;
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_keep_every_word_and_their_indent() {
        let text = "word ".repeat(60);
        let w = wrap(&text, "  - ", "    ");
        assert!(w.starts_with("  - word"));
        assert!(w.lines().skip(1).all(|l| l.starts_with("    word")));
        assert!(w.lines().all(|l| l.chars().count() <= 100));
        assert_eq!(w.split_whitespace().filter(|x| *x == "word").count(), 60);
        assert_eq!(plain("`a` **b**"), "a b");
    }
}
