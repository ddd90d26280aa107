//! One figure, one value: every figure a chart draws and every figure a workload table of
//! the report prints is a figure of `summary.csv`, with the same value; and the report's
//! registry of results files is the workload registry, file for file, so each results file
//! plugs in on both sides, and each row of the article's table names the files it reads.

use tokenbench::claims::ClaimSet;
use tokenbench::report::verdicts::{self, Verdict};
use tokenbench::report::{self, REGISTRY};
use tokenbench::results::Artifact;
use tokenbench::results::schema::summary::summary_csv;
use tokenbench::results::schema::validate::Operation;
use tokenbench::units;
use tokenbench::workload;

use super::fixture::{Fixture, FixtureRun};

#[test]
fn the_report_registry_names_the_workloads_in_run_order() {
    let report: Vec<&str> = REGISTRY.iter().map(|f| f.name()).collect();
    let run: Vec<&str> = workload::REGISTRY.iter().map(|w| w.name()).collect();
    assert_eq!(report, run);
}

#[test]
fn each_table_row_reads_exactly_the_files_it_names() {
    let all = Fixture::all().write().run();
    let before = verdicts::rows(&all);
    for row in &before {
        assert!(!row.evidence.is_empty(), "row {} names no file", row.number);
        // Without every file it names, the row is not measured; without any other file,
        // it is unchanged; without any one it names, its figures or verdict change.
        let mut none = all.clone();
        row.evidence.iter().for_each(|f| none.remove(f));
        let judged = &verdicts::rows(&none)[row.number - 1];
        assert_eq!(
            judged.judgement.verdict,
            Verdict::NotMeasured,
            "row {}",
            row.number
        );
        for file in REGISTRY.iter().map(|f| f.name()) {
            let mut less = all.clone();
            less.remove(file);
            let after = &verdicts::rows(&less)[row.number - 1];
            let same = after.cells == row.cells && after.judgement == row.judgement;
            assert_eq!(
                same,
                !row.evidence.contains(&file),
                "row {} without {file}.json",
                row.number
            );
        }
    }
}

/// What a `summary.csv` value measures, for formatting it as the report does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// ns (durations in ms are converted).
    Duration,
    Bytes,
    /// ops/s, req/s.
    Rate,
    /// A ratio or a share.
    Ratio,
    Count,
    /// Cores busy, or operations per request: two decimals.
    Decimal,
}

/// `summary.csv` as the run writes it for the results of `run` (each workload's rows from
/// its results file, in registry order), parsed back from the CSV text: the cells of each
/// line.
fn csv_lines(run: &FixtureRun) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for w in workload::REGISTRY {
        let path = run.dir.path(&Artifact::Workload(w.name()));
        if let Ok(json) = std::fs::read(path) {
            rows.extend(w.outcome_from_json(&json).unwrap().summary_rows());
        }
    }
    let csv = summary_csv(&rows);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("workload,scheme,backend,param,metric,value,unit")
    );
    lines.map(csv_cells).collect()
}

/// The figures of `summary.csv` for `run`, by what they measure.
fn summary(run: &FixtureRun) -> Vec<(Kind, f64)> {
    csv_lines(run)
        .iter()
        .map(|cells| {
            let (value, unit) = (cells[5].parse::<f64>().unwrap(), cells[6].as_str());
            match unit {
                "ns" | "ns/op" => (Kind::Duration, value),
                "ms" => (Kind::Duration, value * 1e6),
                "bytes" | "B" => (Kind::Bytes, value),
                "ops/s" | "req/s" => (Kind::Rate, value),
                "ratio" => (Kind::Ratio, value),
                "count" | "flag" | "requests" | "trials" => (Kind::Count, value),
                "cores" | "ops" => (Kind::Decimal, value),
                other => panic!("unit {other} of {cells:?}"),
            }
        })
        .collect()
}

#[test]
fn summary_csv_pairs_each_breakdown_part_with_its_whole() {
    let lines = csv_lines(&disturbed());
    let value = |metric: &str| {
        lines
            .iter()
            .find(|c| {
                c[1] == "jwt-EdDSA" && c[2] == "aws-lc-rs" && c[3] == "typical" && c[4] == metric
            })
            .unwrap_or_else(|| panic!("no {metric}"))[5]
            .parse::<f64>()
            .unwrap()
    };
    // 90% of the whole's 65 µs in the median round, 90% and 125% at the ends: the part's
    // own rounds (75 µs median) are not what the CSV says.
    assert_eq!(value("validate_median"), 65e3);
    assert_eq!(value("jwt_signature_check_median"), 0.9 * 65e3);
    assert_eq!(value("jwt_signature_check_median_lo"), 0.9 * 65e3);
    assert_eq!(value("jwt_signature_check_median_hi"), 75e3 / 60e3 * 65e3);
    assert_eq!(value("jwt_header_decode_median"), 900.0);
    assert_eq!(value("jwt_claims_decode_median"), 2500.0);
    let sum = value("jwt_breakdown_sum_median");
    assert_eq!(sum, 900.0 + 2500.0 + 0.9 * 65e3);
    assert!(sum <= value("validate_median"));
}

/// The cells of one CSV line (RFC 4180 quoting).
fn csv_cells(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    assert_eq!(cells.len(), 7, "{line}");
    cells
}

/// Every text the report could print for the figures of `csv`.
fn printed(csv: &[(Kind, f64)]) -> Vec<String> {
    let mut out = Vec::new();
    for &(kind, v) in csv {
        for v in [v, v.abs()] {
            match kind {
                Kind::Duration => out.push(units::ns(v)),
                Kind::Bytes => out.extend([units::bytes(v), units::bytes(v.round())]),
                Kind::Rate => out.push(units::count(v)),
                Kind::Ratio => out.extend([
                    units::ratio(v),
                    units::percent(v),
                    format!("{v:.3}"),
                    format!("{v}"),
                ]),
                Kind::Count => out.push(format!("{v}")),
                Kind::Decimal => out.push(format!("{v:.2}")),
            }
        }
    }
    out
}

/// The figures printed in `cell`: a number with a unit (`160 ns`, `472 B`, `8.00 k`), a
/// ratio (`×3.33`), a share (`53%`) or a decimal (`3.000`). Whole numbers without a unit
/// are counts and parameters (trials, entries, threads, bits), not figures.
fn figures_in(cell: &str) -> Vec<String> {
    const UNITS: [&str; 7] = [" ns", " µs", " ms", " s", " B", " k", " M"];
    let chars: Vec<char> = cell.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit()
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || matches!(chars[i - 1], '.' | '-')));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
            j += 1;
        }
        let number: String = chars[i..j].iter().collect();
        let rest: String = chars[j..].iter().collect();
        let unit = UNITS.iter().find(|u| {
            rest.starts_with(**u)
                && !rest[u.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
        });
        let ratio = i > 0 && chars[i - 1] == '×';
        let figure = match unit {
            Some(u) if ratio => Some(format!("×{number}{u}")),
            Some(u) => Some(format!("{number}{u}")),
            None if rest.starts_with('%') => Some(format!("{number}%")),
            None if ratio => Some(format!("×{number}")),
            None if number.contains('.') => Some(number),
            None => None,
        };
        out.extend(figure);
        i = j;
    }
    out
}

/// The tables of the section headed `heading`: each row's cells, with the column's title.
fn tables(md: &str, heading: &str) -> Vec<Vec<(String, String)>> {
    let at = md.find(&format!("\n## {heading}\n")).expect(heading);
    let section = &md[at + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let split = |l: &str| -> Vec<String> {
        l.trim()
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let mut out = Vec::new();
    let mut lines = section.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with('|') {
            continue;
        }
        let head = split(line);
        lines.next(); // |---|
        while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
            let cells = split(row);
            assert_eq!(cells.len(), head.len(), "{row}");
            out.push(head.iter().cloned().zip(cells).collect());
        }
    }
    out
}

/// Columns of the HTTP section whose figures are derived from `summary.csv`'s, not carried
/// by it: the store shards a rate needs (rate ÷ the store's headroom), left out of the
/// check by the start of their name.
const HTTP_NOT_IN_SUMMARY: [&str; 1] = ["Shards for "];

/// Columns of the browser section's wire table that set a client's own count beside the
/// server's payload count, a cross-check of the recorder (the table's figures are the
/// frames whole, which `summary.csv` holds).
const WIRE_CROSS_CHECK: [&str; 1] = ["client's own count / server's (payload)"];

/// Columns holding a parameter of the run, not a figure (the added round trip as set,
/// `0.5ms`): left out of the check in every section.
const PARAM_COLUMNS: [&str; 1] = ["RTT"];

/// Charts drawn from figures `summary.csv` does not carry: each step of the HTTP rate
/// search (the CSV holds each row's result, not its every step).
const CHARTS_NOT_IN_SUMMARY: [&str; 2] = ["http_throughput", "http_p99"];

/// The fixture, with one JWT breakdown whose rounds were disturbed unevenly: the signature
/// check's own median (75 µs) lies above its whole (65 µs), its median share of the whole
/// is 90% (58.5 µs). A chart or a table that shows the part's own median shows a figure
/// that `summary.csv` does not hold.
fn disturbed() -> FixtureRun {
    Fixture::all()
        .validate(|v| {
            let whole = [60e3, 61e3, 65e3, 90e3, 95e3];
            let mut part: Vec<f64> = whole.iter().map(|x| x * 0.9).collect();
            part[0] = 75e3;
            for r in v.rows.iter_mut().filter(|r| {
                r.scheme == "jwt-EdDSA"
                    && r.claims == ClaimSet::Typical
                    && r.backend.map(|b| b.name()) == Some("aws-lc-rs")
            }) {
                let rounds = r.measurement.rounds.as_mut().unwrap();
                match r.operation {
                    Operation::Validate => rounds.wall_ns = whole.to_vec(),
                    Operation::JwtSignatureCheck => rounds.wall_ns = part.clone(),
                    _ => {}
                }
            }
        })
        .write()
}

#[test]
fn every_figure_of_a_chart_is_in_summary_csv() {
    let run = disturbed();
    let csv = summary(&run);
    let holds = |x: f64| {
        csv.iter()
            .any(|(_, v)| (v - x).abs() <= 1e-9 * v.abs().max(x.abs()).max(1.0))
    };
    assert!(
        !holds(75e3),
        "the part's own median must not be a CSV figure"
    );
    assert!(holds(58.5e3), "the paired part is");
    let figures = run.run().figures();
    assert_eq!(figures.len(), 13);
    for figure in figures
        .iter()
        .filter(|f| !CHARTS_NOT_IN_SUMMARY.contains(&f.name.as_str()))
    {
        let values = figure.values();
        assert!(!values.is_empty(), "{}", figure.name);
        for x in values {
            assert!(holds(x), "{} draws {x}, not in summary.csv", figure.name);
        }
    }
}

#[test]
fn every_figure_of_a_workload_table_is_in_summary_csv() {
    let run = disturbed();
    let known = printed(&summary(&run));
    let md = run.report_md();
    let mut checked = 0;
    for file in REGISTRY {
        let heading = file.heading();
        for row in tables(&md, heading) {
            for (column, cell) in &row {
                if file.name() == "http"
                    && HTTP_NOT_IN_SUMMARY.iter().any(|c| column.starts_with(c))
                {
                    continue;
                }
                if file.name() == "browser" && WIRE_CROSS_CHECK.contains(&column.as_str()) {
                    continue;
                }
                let figures = if PARAM_COLUMNS.contains(&column.as_str()) {
                    // The setting is a parameter; a measured round trip beside it is not.
                    cell.split_once('(')
                        .map(|(_, m)| figures_in(m))
                        .unwrap_or_default()
                } else {
                    figures_in(cell)
                };
                for figure in figures {
                    // HTTP/2 against HTTP/1.1: the ratio beside each figure is derived.
                    if file.name() == "http" && figure.starts_with('×') {
                        continue;
                    }
                    assert!(
                        known.contains(&figure),
                        "{heading}, column {column:?}: {figure} (in {cell:?}) is not in summary.csv"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 400, "only {checked} figures checked");
    // The disturbed breakdown prints its paired part, never its own median.
    assert!(
        md.contains("| jwt-EdDSA | aws-lc-rs | 900 ns | 2.50 µs | 58.5 µs |"),
        "{md}"
    );
    assert!(!md.contains("75.0 µs"), "{md}");
}

#[test]
fn figures_in_a_cell_are_found_and_counts_are_not() {
    assert_eq!(
        figures_in("160 ns [155 ns–165 ns]"),
        ["160 ns", "155 ns", "165 ns"]
    );
    assert_eq!(
        figures_in("+80.0 ns (64.0 ns–96.0 ns)"),
        ["80.0 ns", "64.0 ns", "96.0 ns"]
    );
    assert_eq!(figures_in("8.00 k (×1.00)"), ["8.00 k", "×1.00"]);
    assert_eq!(figures_in("2.800–3.200"), ["2.800", "3.200"]);
    assert_eq!(figures_in("53%"), ["53%"]);
    assert!(figures_in("jwt-HS256 http1.1 0 of 300 (1 worker thread)").is_empty());
    assert_eq!(figures_in("280 B: aud, exp"), ["280 B"]);
}

#[test]
fn the_report_loads_every_registered_file_the_run_has() {
    let f = Fixture::only(&["size", "http"]).write();
    let run = f.run();
    let has: Vec<&str> = REGISTRY
        .iter()
        .map(|r| r.name())
        .filter(|n| run.has(n))
        .collect();
    assert_eq!(has, ["size", "http"]);
    // Error notes of every registered file reach the terminal summary.
    let f = Fixture::all()
        .size(|_| {})
        .http(|h| {
            h.rows[0].common.step.errors = 3;
        })
        .write();
    let summary = report::terminal::summary_of(&f.dir);
    assert!(
        summary.contains("http session-memory cookie http1.1: 3 of"),
        "{summary}"
    );
}
