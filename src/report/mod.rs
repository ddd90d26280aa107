//! The report of a run, rebuilt from the run's files alone: nothing is measured again and
//! no figure is typed in by hand. [`write_report`] loads the run ([`Run`]: `meta.json` and
//! every results file of the [`REGISTRY`] the run has), draws the charts ([`crate::plot`])
//! and writes `charts/`, `report.md` and `report.html` through [`RunDir::path`].
//!
//! Each results file plugs in through [`registry`]; [`sections`] assembles the document,
//! [`verdicts`] rebuilds the article's table, [`checks`] and [`terminal`] give the
//! self-checks and the end-of-run summary.

pub mod checks;
pub mod criterion;
pub mod document;
pub mod html;
pub mod markdown;
pub mod registry;
pub mod sections;
pub mod terminal;
pub mod verdicts;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::plot::{Figure, PlotError, Rendered};
use crate::results::schema::ResultFile;
use crate::results::{
    Artifact, Meta, OLDEST_READABLE_SCHEMA, ResultsError, RunDir, SCHEMA_VERSION,
};
use registry::Loaded;
pub use registry::{REGISTRY, WorkloadReport};

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

/// Everything a report is made from: `meta.json` and the results files the run has, keyed
/// by registry name (read them with [`Run::get`]).
#[derive(Clone)]
pub struct Run {
    /// The run folder.
    pub dir: RunDir,
    /// `meta.json`.
    pub meta: Meta,
    /// Whether the run left its INCOMPLETE marker (killed or still running).
    pub incomplete: bool,
    /// Criterion's estimates, when a criterion root was given.
    pub criterion: criterion::Estimates,
    results: BTreeMap<&'static str, Loaded>,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("dir", &self.dir)
            .field("meta", &self.meta)
            .field("incomplete", &self.incomplete)
            .field("results", &self.results.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
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
        let mut results = BTreeMap::new();
        for file in REGISTRY {
            if let Some(loaded) = file.load(dir)? {
                results.insert(file.name(), loaded);
            }
        }
        Ok(Run {
            meta,
            incomplete: dir.is_incomplete(),
            criterion: criterion::scan(criterion_root),
            dir: dir.clone(),
            results,
        })
    }

    /// The results file `T`, when the run has it.
    pub fn get<T: ResultFile>(&self) -> Option<&T> {
        self.results.get(T::FILE)?.downcast_ref::<T>()
    }

    /// Whether the run has the results file named `name` (`validate` for `validate.json`).
    pub fn has(&self, name: &str) -> bool {
        self.results.contains_key(name)
    }

    /// Puts `results` in the run in place of its file of that name (the report then reads
    /// them as if the run had written them).
    pub fn insert<T: ResultFile>(&mut self, results: T) {
        self.results.insert(T::FILE, Arc::new(results));
    }

    /// Removes the results file named `name` from the run, as if it had not been measured.
    pub fn remove(&mut self, name: &str) {
        self.results.remove(name);
    }

    /// Every chart the results allow, in registry order, before drawing.
    pub fn figures(&self) -> Vec<Figure> {
        REGISTRY
            .iter()
            .flat_map(|file| file.figures(self))
            .collect()
    }

    /// Every chart the results allow, drawn.
    pub fn charts(&self) -> Result<Vec<Rendered>, PlotError> {
        self.figures().iter().map(Figure::render).collect()
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
