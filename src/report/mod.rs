//! The report of a run, rebuilt from the run's files alone: nothing is measured again and
//! no figure is typed in by hand.
//!
//! [`write_report`] reads `meta.json` and whichever of `size.json`, `validate.json`,
//! `revoke.json`, `scale.json` and `http.json` exist (a run of one workload is legal), draws
//! the charts
//! ([`crate::plot`]) and writes, through [`RunDir::path`] and atomic writes:
//!
//! ```text
//! charts/<name>.svg  charts/<name>.png   one pair per chart the results allow
//! report.md                              Markdown, charts linked
//! report.html                            one self-contained page, charts inline
//! ```
//!
//! - [`seed`]: the seed table, one file per row (claim, thresholds, rule, figures per
//!   scheme, computed verdict), and the [`verdicts::Verdict`] and [`verdicts::Judgement`] they share.
//! - [`sections`]: the whole document, one file per section (intro, machine, seed table,
//!   size, validate, revoke, scale, http, security, reproduce) assembled in order.
//! - [`document`], [`markdown`], [`html`]: the document model and its two renderings.
//! - [`criterion`]: criterion's estimates, shown beside the CLI's figures when present.
//! - [`terminal`]: the summary printed at the end of a run.

pub mod checks;
pub mod criterion;
pub mod document;
pub mod html;
pub mod markdown;
pub mod sections;
pub mod terminal;
pub mod verdicts;

use std::io;
use std::path::{Path, PathBuf};

use crate::plot::{self, PlotError, Rendered};
use crate::results::schema::ResultFile;
use crate::results::schema::http::HttpResults;
use crate::results::schema::revoke::RevokeResults;
use crate::results::schema::scale::ScaleResults;
use crate::results::schema::size::SizeResults;
use crate::results::schema::validate::ValidateResults;
use crate::results::{
    Artifact, Meta, OLDEST_READABLE_SCHEMA, ResultsError, RunDir, SCHEMA_VERSION,
};

/// Where `cargo bench` leaves criterion's estimates, relative to the current directory.
pub const DEFAULT_CRITERION_ROOT: &str = "target/criterion";

/// Why a report could not be made. Each message is whole (it includes the error it wraps),
/// so none is also a `source()`: a chain of contexts (anyhow's `{:#}`) never says it twice.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The folder has no `meta.json`: not a run folder.
    #[error("{path}: missing; every tokenbench run folder has one (is {dir} a run folder?)")]
    MissingMeta {
        /// The run folder.
        dir: PathBuf,
        /// The `meta.json` expected.
        path: PathBuf,
    },
    /// A run written by an incompatible version.
    #[error(
        "{path}: schema version {found}, this tokenbench reads versions {OLDEST_READABLE_SCHEMA} to {expected}"
    )]
    Schema {
        /// The `meta.json` read.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// A file of the run could not be read or parsed (the message names it).
    #[error("reading the run: {0}")]
    Read(ResultsError),
    /// A chart could not be drawn (the message names it).
    #[error("drawing the charts: {0}")]
    Chart(PlotError),
    /// A report file could not be written (the message names it).
    #[error("writing the report: {0}")]
    Write(ResultsError),
}

impl From<PlotError> for ReportError {
    fn from(e: PlotError) -> Self {
        ReportError::Chart(e)
    }
}

/// Everything a report is made from.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run folder.
    pub dir: RunDir,
    /// `meta.json`.
    pub meta: Meta,
    /// Whether the run left its INCOMPLETE marker (killed or still running).
    pub incomplete: bool,
    /// `size.json`, when the workload ran.
    pub size: Option<SizeResults>,
    /// `validate.json`, when the workload ran.
    pub validate: Option<ValidateResults>,
    /// `revoke.json`, when the workload ran.
    pub revoke: Option<RevokeResults>,
    /// `scale.json`, when the workload ran.
    pub scale: Option<ScaleResults>,
    /// `http.json`, when the workload ran.
    pub http: Option<HttpResults>,
    /// Criterion's estimates, when a criterion root was given.
    pub criterion: criterion::Estimates,
}

/// Reads the results file `T` when it exists; a file that exists but does not parse is an
/// error.
fn optional<T: ResultFile>(dir: &RunDir) -> Result<Option<T>, ReportError> {
    let artifact = Artifact::Workload(T::FILE);
    if !dir.path(&artifact).exists() {
        return Ok(None);
    }
    dir.read_json(&artifact)
        .map(Some)
        .map_err(ReportError::Read)
}

impl Run {
    /// Reads the run's files, and criterion's estimates under `criterion_root` if given.
    pub fn load(dir: &RunDir, criterion_root: Option<&Path>) -> Result<Run, ReportError> {
        let meta_path = dir.path(&Artifact::Meta);
        let meta: Meta = match dir.read_json(&Artifact::Meta) {
            Ok(m) => m,
            Err(ResultsError::Io { error, .. }) if error.kind() == io::ErrorKind::NotFound => {
                return Err(ReportError::MissingMeta {
                    dir: dir.root().to_owned(),
                    path: meta_path,
                });
            }
            Err(e) => return Err(ReportError::Read(e)),
        };
        if !(OLDEST_READABLE_SCHEMA..=SCHEMA_VERSION).contains(&meta.schema_version) {
            return Err(ReportError::Schema {
                path: meta_path,
                found: meta.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(Run {
            meta,
            incomplete: dir.is_incomplete(),
            size: optional(dir)?,
            validate: optional(dir)?,
            revoke: optional(dir)?,
            scale: optional(dir)?,
            http: optional(dir)?,
            criterion: criterion::scan(criterion_root),
            dir: dir.clone(),
        })
    }

    /// Every chart the results allow, drawn.
    pub fn charts(&self) -> Result<Vec<Rendered>, PlotError> {
        let mut figures = plot::figures(
            self.size.as_ref(),
            self.validate.as_ref(),
            self.revoke.as_ref(),
            self.scale.as_ref(),
        );
        if let Some(h) = &self.http {
            figures.extend(plot::http::figures(h));
        }
        figures.iter().map(plot::Figure::render).collect()
    }
}

/// The report's files, made but not written.
#[derive(Debug, Clone)]
pub struct Report {
    /// The charts.
    pub charts: Vec<Rendered>,
    /// `report.md`.
    pub markdown: String,
    /// `report.html`.
    pub html: String,
}

/// Builds the charts, the Markdown and the HTML of `run`.
pub fn render(run: &Run) -> Result<Report, ReportError> {
    let charts = run.charts()?;
    let doc = sections::document(run, &charts);
    Ok(Report {
        markdown: markdown::render(&doc),
        html: html::render(&doc),
        charts,
    })
}

/// Writes the charts, `report.md` and `report.html` of the run in `dir`, looking for
/// criterion estimates under [`DEFAULT_CRITERION_ROOT`]; returns the paths written.
pub fn write_report(dir: &RunDir) -> Result<Vec<PathBuf>, ReportError> {
    write_report_with(dir, Some(Path::new(DEFAULT_CRITERION_ROOT)))
}

/// [`write_report`] with the criterion root given (`None`: do not look for estimates).
pub fn write_report_with(
    dir: &RunDir,
    criterion_root: Option<&Path>,
) -> Result<Vec<PathBuf>, ReportError> {
    let run = Run::load(dir, criterion_root)?;
    let report = render(&run)?;
    let mut written = Vec::new();
    for chart in &report.charts {
        for (ext, bytes) in [("svg", chart.svg.as_bytes()), ("png", chart.png.as_slice())] {
            let artifact = Artifact::Chart {
                name: chart.name.clone(),
                ext,
            };
            written.push(
                dir.write_bytes(&artifact, bytes)
                    .map_err(ReportError::Write)?,
            );
        }
    }
    written.push(
        dir.write_bytes(&Artifact::ReportMd, report.markdown.as_bytes())
            .map_err(ReportError::Write)?,
    );
    written.push(
        dir.write_bytes(&Artifact::ReportHtml, report.html.as_bytes())
            .map_err(ReportError::Write)?,
    );
    Ok(written)
}
