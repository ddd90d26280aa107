//! The report, built from a hand-made fixture run (`report/fixture.rs`): snapshots of
//! `report.md` and of one chart's SVG, a self-contained HTML page, every chart in both
//! formats, errors that name the file, a run of one workload, criterion's estimates.
//!
//! - `fixture`: the fixture's results and the builders of a run folder holding them.
//! - `verdicts`: the article's table rules, figures swapped to flip each verdict.
//! - `checks`: the self-checks.
//! - `figures`: one figure, one value: every chart and workload table against
//!   `summary.csv`; the report registry against the workload registry.
//! - `http`: the http workload's fixture and what the report makes of it.
//! - `wire`: the header bytes per HTTP/2 client: row 1, the bottom line, table and chart.
//!
//! Snapshots are kept by `insta` in `tests/fixtures/report/`; after an intended change,
//! `INSTA_UPDATE=always cargo test --test it report::` (or `cargo insta review`) rewrites
//! them, and the diff is reviewed. The SVG snapshot depends on the system font's metrics
//! (plotters lays text out with fontconfig's `sans-serif`), which the project's image fixes.

use std::fs;
use std::path::Path;

use tokenbench::measure::rounds::Rounds;
use tokenbench::measure::stats::Summary;
use tokenbench::plot;
use tokenbench::report::verdicts::Verdict;
use tokenbench::report::{self, ReportError, sections};
use tokenbench::results::schema::ResultFile;
use tokenbench::results::schema::http::HttpResults;
use tokenbench::results::schema::scale::ScaleResults;
use tokenbench::results::schema::validate::{Operation, ValidateResults};
use tokenbench::results::{Artifact, RunDir, SCHEMA_VERSION};

mod browser;
mod checks;
mod figures;
mod fixture;
mod http;
mod nodes;
mod plan;
mod verdicts;
mod wire;

use fixture::{
    Fixture, REDIS_MEMORY_METHOD, meta, negative_figure, read, revoke, scale, set_errors, size,
    summary, validate,
};

#[test]
fn report_md_and_a_chart_match_their_snapshots() {
    let f = Fixture::all().write();
    let md = without_folder(&f.dir, &f.report_md());
    let svg = f.read(Artifact::Chart {
        name: "revoke_latency".into(),
        ext: "svg",
    });
    insta::with_settings!({
        snapshot_path => "../fixtures/report",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("report_md", md);
        insta::assert_snapshot!("revoke_latency_svg", svg);
    });
}

#[test]
fn the_report_is_deterministic() {
    let (one, two) = (Fixture::all().write(), Fixture::all().write());
    one.report_md();
    two.report_md();
    for artifact in [
        Artifact::ReportMd,
        Artifact::ReportHtml,
        Artifact::Chart {
            name: "scale_throughput".into(),
            ext: "svg",
        },
    ] {
        assert_eq!(
            without_folder(&one.dir, &one.read(artifact.clone())),
            without_folder(&two.dir, &two.read(artifact))
        );
    }
}

/// `text` with the run folder's path (a fresh temporary folder each time) written as
/// `<run folder>`.
fn without_folder(dir: &RunDir, text: &str) -> String {
    text.replace(&dir.root().display().to_string(), "<run folder>")
}

#[test]
fn the_reproduce_line_names_the_folder_the_report_was_read_from() {
    let f = Fixture::all().write();
    let (tmp, dir) = (&f.tmp, &f.dir);
    let md = f.report_md();
    assert!(
        md.contains(&format!("tokenbench report {}\n", dir.root().display())),
        "{md}"
    );

    // Through the `latest` link: the line names the run itself, not the moving link.
    let latest = tmp.path().join("latest");
    assert!(
        latest.exists(),
        "the fixture run is finished, so latest points at it"
    );
    let via_link = RunDir::open(&latest).unwrap();
    report::write_report_with(&via_link, None).unwrap();
    let md = read(dir, Artifact::ReportMd);
    assert!(md.contains(&format!("tokenbench report {}\n", dir.root().display())));
    assert!(!md.contains("report path/to/"));
    assert!(!md.contains(&format!("{}\n", latest.display())));
}

#[test]
fn every_chart_is_written_as_svg_and_png() {
    let f = Fixture::all().write();
    let dir = &f.dir;
    let written = report::write_report_with(dir, None).unwrap();
    let charts = [
        "size_headers",
        "validate_cost",
        "jwt_breakdown",
        "revoke_latency",
        "scale_throughput",
        "scale_throughput_jwt",
        "scale_percentiles",
        "scale_percentiles_jwt",
        "http_throughput",
        "http_p99",
        "http_cpu",
        "http_bytes",
        "wire_bytes",
    ];
    for name in charts {
        let svg = dir.path(&Artifact::Chart {
            name: name.into(),
            ext: "svg",
        });
        let png = dir.path(&Artifact::Chart {
            name: name.into(),
            ext: "png",
        });
        assert!(written.contains(&svg) && written.contains(&png), "{name}");
        let text = fs::read_to_string(&svg).unwrap();
        assert!(text.trim_start().starts_with("<svg"), "{name}.svg");
        assert!(text.contains("<text"), "{name}.svg has no text");
        let bytes = fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}.png");
        assert!(bytes.len() > 5_000, "{name}.png is nearly empty");
    }
    assert!(written.contains(&dir.path(&Artifact::ReportMd)));
    assert!(written.contains(&dir.path(&Artifact::ReportHtml)));
    assert_eq!(written.len(), charts.len() * 2 + 2, "{written:?}");
    // Every written file is where RunDir says, and no temporary file is left beside them.
    let in_charts = fs::read_dir(dir.path(&Artifact::ChartsDir))
        .unwrap()
        .count();
    assert_eq!(in_charts, charts.len() * 2);
}

#[test]
fn report_html_is_self_contained() {
    let f = Fixture::all().write();
    f.report_md();
    let html = f.read(Artifact::ReportHtml);
    for banned in [
        "src=\"http",
        "src='http",
        "<script",
        "<link",
        "url(http",
        "url(//",
        "@import",
        "<img",
        "<iframe",
    ] {
        assert!(!html.contains(banned), "report.html contains {banned}");
    }
    // Every chart is inline, and the seed table made it in.
    assert_eq!(html.matches("<svg").count(), 13);
    // The claims and rules are collapsible notes under the table.
    assert!(html.contains("<details>\n<summary>Claims and rules, by row number:</summary>"));
    assert!(html.contains("<strong class=\"v-confirmed\">confirmed</strong>"));
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
}

#[test]
fn report_md_holds_every_section_and_the_figures_of_the_run() {
    let f = Fixture::all().write();
    let md = f.report_md();
    for needle in [
        "## Machine and run",
        "## The comparison table, rebuilt from this run",
        "## Size",
        "## Validate",
        "## Revoke",
        "## Scale",
        "## HTTP",
        "## Security considerations",
        "## Reproduce",
        "tokenbench run --quick --out results",
        "Fixture CPU @ 3.00GHz",
        // Budget checks as measured, the missed one included.
        "| session-memory validate / bare DashMap get | 3.000 | 2.800–3.200 | ≤ 1.5 | **missed** |",
        // The HS256 budget's spread reaches its limit: borderline.
        "| 1.050 | 1.000–1.100 | ≤ 1.1 | pass (borderline) |",
        "![Cookie: request header bytes per scheme and claim set](charts/size_headers.svg)",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}");
    }
    // Seven rows, each with a computed verdict and its rule.
    for n in 1..=7 {
        assert!(md.contains(&format!("\n| {n} | ")), "row {n}");
    }
    assert!(
        !md.contains("not measured"),
        "the full fixture measures everything"
    );
}

#[test]
fn the_central_store_subsection_shows_the_server_cpu_of_the_run() {
    let f = Fixture::all().write();
    let md = f.report_md();
    let at = md
        .find("### Central store: embedded vs Redis")
        .expect("no central store subsection");
    let section = &md[at..];
    let section = &section[..section[4..].find("\n### ").map_or(section.len(), |e| e + 4)];
    // The fixture's figures (REDIS; session-memory's CPU is 0.9 × its wall), "—" where an
    // embedded store has no server.
    for line in [
        "|  | session-memory | session-redis |",
        "| validate: wall median | 160 ns | 30.0 µs |",
        "| validate: client CPU median | 144 ns | 12.0 µs |",
        "| validate: server CPU per op | — | 18.0 µs |",
        "| validate, sliding expiry: wall median | 220 ns | 42.0 µs |",
        "| validate, sliding expiry: client CPU median | 198 ns | 14.0 µs |",
        "| validate, sliding expiry: server CPU per op | — | 26.0 µs |",
    ] {
        assert!(section.contains(line), "lacks {line:?} in:\n{section}");
    }
    // JWTs have no central store.
    assert!(!section.contains("jwt-"), "{section}");

    // No row with a server figure: no subsection.
    let mut v = validate();
    v.rows
        .iter_mut()
        .for_each(|r| r.server_cpu_ns_per_op = None);
    f.put(&v);
    assert!(!f.report_md().contains("Central store"));
}

#[test]
fn the_memory_table_says_how_each_row_was_measured() {
    let f = Fixture::all().write();
    let md = f.report_md();
    assert!(
        md.contains("| Scheme | Entry | Claims | Entries | Heap bytes | Per entry | Measured by |"),
        "{md}"
    );
    let row = |scheme: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {scheme} | ")) && l.contains("| typical | "))
            .unwrap_or_else(|| panic!("no memory row for {scheme}"))
            .to_owned()
    };
    // Its own method where the row has one, the section's otherwise.
    assert!(
        row("jwt-HS256+denylist-redis").ends_with(&format!("| {REDIS_MEMORY_METHOD} |")),
        "{}",
        row("jwt-HS256+denylist-redis")
    );
    assert!(
        row("jwt-HS256+denylist-memory").ends_with("| counting global allocator (fixture) |"),
        "{}",
        row("jwt-HS256+denylist-memory")
    );
}

#[test]
fn the_reproduce_line_never_shows_a_password_even_from_an_older_meta_json() {
    let f = Fixture::all().write();
    let dir = &f.dir;
    // Versions before the redaction moved to the store layer wrote what `redact_url` now
    // hides (a second URL in one argument, a user name alone).
    let mut m = meta();
    m.command_line = [
        "tokenbench",
        "run",
        "--stores",
        "memory,redis://alice:s3cr3tpw@h:6390/1,redis+cluster://:s3cr3tpw@a:1,b:2",
        "--store=redis://s3cr3tpw@h",
    ]
    .map(String::from)
    .to_vec();
    dir.write_json(&Artifact::Meta, &m).unwrap();
    report::write_report_with(dir, None).unwrap();
    for artifact in [Artifact::ReportMd, Artifact::ReportHtml] {
        let text = read(dir, artifact.clone());
        assert!(!text.contains("s3cr3tpw"), "{artifact:?}");
    }
    assert!(
        read(dir, Artifact::ReportMd)
            .contains("memory,redis://alice:***@h:6390/1,redis+cluster://:***@a:1,b:2"),
        "the rest of the command line stays"
    );
}

#[test]
fn a_missing_meta_json_is_an_error_naming_the_file() {
    let f = Fixture::all().write();
    let dir = &f.dir;
    fs::remove_file(dir.path(&Artifact::Meta)).unwrap();
    let err = report::write_report_with(dir, None).unwrap_err();
    assert!(matches!(err, ReportError::MissingMeta { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("meta.json") && msg.contains("missing"),
        "{msg}"
    );
    assert!(!dir.path(&Artifact::ReportMd).exists());
}

#[test]
fn a_corrupt_validate_json_is_an_error_naming_the_file() {
    let f = Fixture::all().write();
    let dir = &f.dir;
    fs::write(
        dir.path(&Artifact::Workload(ValidateResults::FILE)),
        b"{ \"live_sessions\": ",
    )
    .unwrap();
    let err = report::write_report_with(dir, None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("validate.json") && msg.contains("not a valid"),
        "{msg}"
    );
    // A file of the wrong shape is named too.
    fs::write(
        dir.path(&Artifact::Workload(ValidateResults::FILE)),
        b"{\"rows\": 3}",
    )
    .unwrap();
    let msg = report::write_report_with(dir, None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("validate.json"), "{msg}");
    assert!(!dir.path(&Artifact::ReportMd).exists());
}

#[test]
fn a_corrupt_meta_json_is_an_error_naming_the_file() {
    let f = Fixture::all().write();
    let dir = &f.dir;
    fs::write(dir.path(&Artifact::Meta), b"not json").unwrap();
    let msg = report::write_report_with(dir, None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("meta.json") && msg.contains("not a valid"),
        "{msg}"
    );
}

#[test]
fn a_version_1_run_still_reads_and_a_newer_one_is_refused_by_name() {
    let f = Fixture::all().write();
    let dir = &f.dir;
    // Version 1: the raw sample list instead of the histogram; still readable.
    let path = dir.path(&Artifact::Workload(ValidateResults::FILE));
    let v1 = read(dir, Artifact::Workload(ValidateResults::FILE)).replace(
        "\"wall_histogram\": \"\"",
        "\"wall_samples_ns\": [1.5, 2.5]",
    );
    assert!(v1.contains("wall_samples_ns"), "fixture changed shape");
    fs::write(&path, v1).unwrap();
    let mut meta = meta();
    meta.schema_version = 1;
    dir.write_json(&Artifact::Meta, &meta).unwrap();
    let run = report::Run::load(dir, None).unwrap();
    assert!(run.get::<ValidateResults>().is_some());

    meta.schema_version = SCHEMA_VERSION + 1;
    dir.write_json(&Artifact::Meta, &meta).unwrap();
    let err = report::write_report_with(dir, None).unwrap_err();
    assert!(matches!(err, ReportError::Schema { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("meta.json") && msg.contains(&format!("version {}", SCHEMA_VERSION + 1)),
        "{msg}"
    );
}

#[test]
fn a_run_with_only_size_json_reports_the_other_rows_as_not_measured() {
    let f = Fixture::only(&["size"]).write();
    let dir = &f.dir;
    let written = report::write_report_with(dir, None).unwrap();
    // One chart (two files), report.md and report.html.
    assert_eq!(written.len(), 4, "{written:?}");
    let md = read(dir, Artifact::ReportMd);
    let rows = tokenbench::report::verdicts::rows(&report::Run::load(dir, None).unwrap());
    let verdicts: Vec<Verdict> = rows.iter().map(|r| r.judgement.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Confirmed,
            Verdict::NotMeasured,
            Verdict::NotMeasured,
            Verdict::Confirmed,
            Verdict::NotMeasured,
            Verdict::NotMeasured,
            Verdict::Nuanced,
        ]
    );
    for name in ["CPU usage", "Scalability", "Revocation", "Expiry"] {
        let line = md
            .lines()
            .find(|l| l.starts_with("| ") && l.contains(&format!(" | {name} | ")))
            .unwrap_or_else(|| panic!("no row {name}"));
        assert!(line.contains("**not measured in this run**"), "{line}");
    }
    for section in ["no `validate.json`", "no `revoke.json`", "no `scale.json`"] {
        assert!(md.contains(section), "{section}");
    }
    // No figure is made up for what was not measured.
    assert!(
        !md.contains(" ns"),
        "a duration appears in a size-only report"
    );
}

fn write_estimate(root: &Path, group: &str, function: &str, value: &str, median: f64) {
    let dir = root.join(group).join(function).join(value).join("new");
    fs::create_dir_all(&dir).unwrap();
    let est = serde_json::json!({
        "mean": {"point_estimate": median * 1.1, "standard_error": 1.0,
                 "confidence_interval": {"confidence_level": 0.95, "lower_bound": median, "upper_bound": median * 1.2}},
        "median": {"point_estimate": median, "standard_error": 1.0,
                   "confidence_interval": {"confidence_level": 0.95, "lower_bound": median * 0.9, "upper_bound": median * 1.1}},
    });
    fs::write(dir.join("estimates.json"), est.to_string()).unwrap();
    let bench = serde_json::json!({
        "group_id": group, "function_id": function, "value_str": value,
        "full_id": format!("{group}/{function}/{value}"),
    });
    fs::write(dir.join("benchmark.json"), bench.to_string()).unwrap();
}

#[test]
fn criterion_estimates_are_shown_beside_the_cli_figures() {
    let f = Fixture::all().write();
    let dir = &f.dir;
    let crit = tempfile::tempdir().unwrap();
    write_estimate(crit.path(), "validate", "session-memory", "typical", 180.0);
    write_estimate(crit.path(), "validate", "jwt-HS256", "typical", 7700.0);
    // An older estimate and a broken file are not mistaken for current ones.
    let base = crit.path().join("validate/jwt-RS256/typical/base");
    fs::create_dir_all(&base).unwrap();
    fs::write(base.join("estimates.json"), "{}").unwrap();
    let broken = crit.path().join("issue/jwt-ES256/typical/new");
    fs::create_dir_all(&broken).unwrap();
    fs::write(broken.join("estimates.json"), "{ broken").unwrap();

    report::write_report_with(dir, Some(crit.path())).unwrap();
    let md = read(dir, Artifact::ReportMd);
    assert!(
        md.contains("| `validate/session-memory/typical` | 160 ns | 180 ns | 198 ns | ×1.12 |"),
        "{md}"
    );
    assert!(md.contains("| `validate/jwt-HS256/typical` | 7.00 µs | 7.70 µs |"));
    assert!(!md.contains("validate/jwt-RS256/typical`"));
    assert!(md.contains("ignored `") && md.contains("estimates.json"));

    // No criterion folder: the report says so and still renders.
    report::write_report_with(dir, Some(&crit.path().join("absent"))).unwrap();
    assert!(read(dir, Artifact::ReportMd).contains("No criterion estimate under"));
}

#[test]
fn the_report_lists_rows_with_failed_operations() {
    let f = Fixture::all().write();
    assert!(!f.report_md().contains("Operations failed while measuring"));
    let mut v = validate();
    set_errors(&mut v, "session-redis", Operation::Validate, 3);
    f.put(&v);
    let md = f.report_md();
    assert!(md.contains("**Operations failed while measuring**"), "{md}");
    assert!(
        md.contains("- session-redis validate (typical claims): 3 of about "),
        "{md}"
    );
}

#[test]
fn every_test_cited_by_the_report_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, name) in sections::CITED_TESTS {
        let text = fs::read_to_string(root.join(file)).unwrap();
        assert!(
            text.contains(&format!("fn {name}(")),
            "{file} has no test {name}"
        );
    }
    let f = Fixture::all().write();
    let md = f.report_md();
    for (_, name) in sections::CITED_TESTS {
        assert!(
            md.contains(&format!("`{name}`")),
            "report.md does not cite {name}"
        );
    }
}

#[test]
fn degenerate_figures_still_render() {
    // Zero, negative, huge and non-finite figures; a strategy without a successful trial.
    let mut v = validate();
    for (i, r) in v.rows.iter_mut().enumerate() {
        let x = [0.0, -5.0, f64::NAN, f64::INFINITY, 1e15][i % 5];
        r.measurement.wall.median_ns = x;
        r.measurement.rounds = Some(Rounds {
            wall_ns: vec![x; 3],
            cpu_ns: vec![x; 3],
        });
        r.measurement.wall.p99_ns = f64::NAN;
    }
    let mut r = revoke();
    r.strategies[1].latency = Summary {
        samples: 0,
        ..summary(0.0)
    };
    let mut c = scale();
    c.points.iter_mut().for_each(|p| p.ops_per_sec = 0.0);
    let mut s = size();
    s.rows.truncate(1);
    let f = Fixture::all().write();
    let dir = &f.dir;
    let mut run = report::Run::load(dir, None).unwrap();
    run.insert(s);
    run.insert(v);
    run.insert(r);
    run.insert(c);
    run.remove(HttpResults::FILE);
    let figures = run.figures();
    // Eight of the other workloads, and browser's wire chart.
    assert_eq!(figures.len(), 9);
    for figure in &figures {
        let out = figure.render().unwrap_or_else(|e| panic!("{e}"));
        assert!(out.png.starts_with(b"\x89PNG"), "{}", figure.name);
    }
    // Empty results draw nothing rather than an empty frame.
    let empty = ScaleResults {
        points: Vec::new(),
        ..scale()
    };
    assert!(plot::scale::throughput(&empty).is_empty());
    assert!(plot::scale::percentiles(&empty).is_empty());
}

#[test]
fn the_bottom_line_opens_the_report_the_page_and_the_summary() {
    let f = Fixture::all().write();
    let md = f.report_md();
    // Only the title comes before it.
    let first: Vec<&str> = md.lines().filter(|l| !l.is_empty()).take(2).collect();
    assert!(first[0].starts_with("# tokenbench report"), "{first:?}");
    assert_eq!(first[1], "## Bottom line");
    // Its sentences carry the figures that decide: the cost of each JWT against each
    // store with its spread, the central store's server CPU, revocation, bytes.
    let bottom = &md[md.find("## Bottom line").unwrap()..md.find("## About this report").unwrap()];
    for part in [
        "`jwt-HS256` costs 43.8× (43.8–43.8×)",
        "Against `session-redis` (networked: 30.0 µs CPU per request, 12.0 µs in this process + 18.0 µs in the store server",
        "`jwt-HS256` costs 0.21× (0.21–0.21×)",
        "`jwt-expiry-only` median 450 s",
        "`session-cache` p99 245 ms, per request saves 50.0 ns",
        "`jwt-HS256` 472 B, 13.9×",
    ] {
        assert!(bottom.contains(part), "{part:?} not in {bottom}");
    }
    // The machine table is the last section.
    let last = md.lines().rfind(|l| l.starts_with("## "));
    assert_eq!(last, Some("## Machine and run"));
    let html = f.read(Artifact::ReportHtml);
    let h2 = html.find("<h2>").unwrap();
    assert!(html[h2..].starts_with("<h2>Bottom line</h2>"));
    assert_eq!(
        html[..h2].matches("<h").filter(|_| true).count(),
        3,
        "head, html, h1 only"
    );
    let summary = report::terminal::summary_of(&f.dir);
    assert_eq!(summary.lines().find(|l| !l.is_empty()), Some("Bottom line"));
    assert!(summary.contains("self-checks"), "{summary}");
    // The seed table: no claim or rule column (they are numbered notes), claim sets named.
    let head = md.lines().find(|l| l.starts_with("| # | Row |")).unwrap();
    assert!(!head.contains("Rule") && !head.contains("claim"), "{head}");
    assert!(md.contains("\n1. **Bandwidth usage**. Claim: "));
    assert!(md.contains("34 / 34 / 34 B (minimal / typical / large)"));
    assert!(!md.contains("34 / 34 / 34 B |"));
}

#[test]
fn a_scheme_measured_without_a_crypto_backend_is_in_the_bottom_line() {
    // A token format whose crypto is not jsonwebtoken's is measured once, without a
    // backend: the bottom line compares it as it does the others.
    let md = Fixture::all()
        .validate(|v| {
            for r in v.rows.iter_mut().filter(|r| r.scheme == "jwt-ES256") {
                r.backend = None;
            }
        })
        .write()
        .report_md();
    let bottom = &md[md.find("## Bottom line").unwrap()..md.find("## About this report").unwrap()];
    assert!(
        bottom.contains("`jwt-HS256` costs 43.8× (43.8–43.8×), `jwt-RS256` costs 250×"),
        "{bottom}"
    );
    assert!(bottom.contains("`jwt-ES256` costs"), "{bottom}");
}

#[test]
fn the_report_prints_no_negative_figure() {
    let f = Fixture::all().write();
    let md = f.report_md();
    assert_eq!(negative_figure(&md), None);
    assert_eq!(negative_figure(&report::terminal::summary_of(&f.dir)), None);
    assert_eq!(negative_figure("a -5 ns"), Some("a -5 ns".into()));
    assert_eq!(negative_figure("2026-01-01 and 3–5"), None);
}
