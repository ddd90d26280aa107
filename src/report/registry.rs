//! The report's plug-ins, one per results file, as `workload::REGISTRY` has one per
//! workload: a results type implements [`WorkloadReport`] (in its file of
//! [`sections`](super::sections)) and gets one line in [`REGISTRY`]. The report loads,
//! draws, writes, checks and summarises by walking the registry, never by naming a
//! workload. Hooks default to nothing, as criterion's `Report` hooks do.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

use super::checks::Check;
use super::document::Document;
use super::sections::NOT_MEASURED;
use super::{ReportError, Run};
use crate::plot::{Figure, Rendered};
use crate::results::schema::ResultFile;
use crate::results::schema::browser::BrowserResults;
use crate::results::schema::http::HttpResults;
use crate::results::schema::revoke::RevokeResults;
use crate::results::schema::scale::ScaleResults;
use crate::results::schema::size::SizeResults;
use crate::results::schema::validate::ValidateResults;
use crate::results::{Artifact, RunDir};
use crate::scheme::spec::SchemeId;

/// Every results file the report reads, in run order: the same names, in the same order,
/// as the workload registry (a test in `tests/it/report` holds them together).
pub static REGISTRY: &[&dyn Registered] = &[
    &Entry::<SizeResults>::NEW,
    &Entry::<ValidateResults>::NEW,
    &Entry::<RevokeResults>::NEW,
    &Entry::<ScaleResults>::NEW,
    &Entry::<HttpResults>::NEW,
    &Entry::<BrowserResults>::NEW,
];

/// What one results file gives the report. Only [`HEADING`](Self::HEADING) is required:
/// a file without hooks still gets its heading, its "not measured" line when absent, and
/// its error notes ([`ResultFile::error_notes`]), which are always printed.
pub trait WorkloadReport: ResultFile {
    /// The heading of its section.
    const HEADING: &'static str;
    /// Numbers of the article's table rows ([`ROWS`](super::verdicts::ROWS)) that read
    /// figures from this file: the report names the file as their evidence.
    const ROWS: &'static [usize] = &[];
    /// The figures a busy machine disturbs while this workload runs (the noise check).
    const TOUCHED: &'static str = "its figures";

    /// The schemes it measured, in order of first appearance: the article's table has a
    /// column for each (see [`columns`](super::verdicts::columns)).
    fn schemes(&self) -> Vec<SchemeId> {
        Vec::new()
    }

    /// Its charts, in the order its section shows them.
    fn figures(&self) -> Vec<Figure> {
        Vec::new()
    }

    /// Its section, after the heading; `charts` are the run's drawn charts.
    fn section(&self, run: &Run, charts: &[Rendered], doc: &mut Document) {
        let _ = (run, charts, doc);
    }

    /// Its lines of the end-of-run summary, appended to `out`.
    fn terminal(&self, run: &Run, out: &mut String) {
        let _ = (run, out);
    }

    /// Its self-checks that find a contradiction or a figure recorded as 0.
    fn checks(&self, run: &Run) -> Vec<Check> {
        let _ = run;
        Vec::new()
    }

    /// Its self-checks that find a ratio within its spread of a threshold (listed after
    /// the table rows' own borderline verdicts).
    fn borderline(&self, run: &Run) -> Vec<Check> {
        let _ = run;
        Vec::new()
    }

    /// Its figures whose round medians lie far apart, one description each (the noise
    /// check gathers every file's into one warning).
    fn wide_spreads(&self, run: &Run) -> Vec<String> {
        let _ = run;
        Vec::new()
    }
}

/// A results file as loaded into a [`Run`], whatever its type.
pub type Loaded = Arc<dyn Any + Send + Sync>;

/// A [`WorkloadReport`] seen through [`REGISTRY`], whatever its type.
pub trait Registered: Sync {
    /// Its name: the results file stem, the workload's name.
    fn name(&self) -> &'static str;
    /// See [`WorkloadReport::HEADING`].
    fn heading(&self) -> &'static str;
    /// See [`WorkloadReport::ROWS`].
    fn rows(&self) -> &'static [usize];
    /// See [`WorkloadReport::TOUCHED`].
    fn touched(&self) -> &'static str;
    /// Reads the file from `dir`: `None` when the run lacks it, an error when it exists
    /// but does not parse.
    fn load(&self, dir: &RunDir) -> Result<Option<Loaded>, ReportError>;
    /// See [`WorkloadReport::schemes`]; none when the run lacks the file.
    fn schemes(&self, run: &Run) -> Vec<SchemeId>;
    /// Its charts, when the run has the file.
    fn figures(&self, run: &Run) -> Vec<Figure>;
    /// Its heading, then its section or the line saying the run lacks the file.
    fn section(&self, run: &Run, charts: &[Rendered], doc: &mut Document);
    /// See [`WorkloadReport::terminal`].
    fn terminal(&self, run: &Run, out: &mut String);
    /// See [`WorkloadReport::checks`].
    fn checks(&self, run: &Run) -> Vec<Check>;
    /// See [`WorkloadReport::borderline`].
    fn borderline(&self, run: &Run) -> Vec<Check>;
    /// See [`WorkloadReport::wide_spreads`].
    fn wide_spreads(&self, run: &Run) -> Vec<String>;
    /// See [`ResultFile::error_notes`].
    fn error_notes(&self, run: &Run) -> Vec<String>;
}

/// The [`Registered`] face of a [`WorkloadReport`] (see [`REGISTRY`]).
pub struct Entry<T>(PhantomData<fn() -> T>);

impl<T> Entry<T> {
    /// The entry of `T`.
    pub const NEW: Self = Entry(PhantomData);
}

impl<T: WorkloadReport> Registered for Entry<T> {
    fn name(&self) -> &'static str {
        T::FILE
    }
    fn heading(&self) -> &'static str {
        T::HEADING
    }
    fn rows(&self) -> &'static [usize] {
        T::ROWS
    }
    fn touched(&self) -> &'static str {
        T::TOUCHED
    }
    fn load(&self, dir: &RunDir) -> Result<Option<Loaded>, ReportError> {
        let artifact = Artifact::Workload(T::FILE);
        if !dir.path(&artifact).exists() {
            return Ok(None);
        }
        let results: T = dir.read_json(&artifact).map_err(ReportError::Read)?;
        Ok(Some(Arc::new(results)))
    }
    fn schemes(&self, run: &Run) -> Vec<SchemeId> {
        run.get::<T>().map(T::schemes).unwrap_or_default()
    }
    fn figures(&self, run: &Run) -> Vec<Figure> {
        run.get::<T>().map(T::figures).unwrap_or_default()
    }
    fn section(&self, run: &Run, charts: &[Rendered], doc: &mut Document) {
        doc.heading(2, T::HEADING);
        match run.get::<T>() {
            Some(results) => results.section(run, charts, doc),
            None => doc.para(format!("{NOT_MEASURED}: no `{}.json`.", T::FILE)),
        }
    }
    fn terminal(&self, run: &Run, out: &mut String) {
        if let Some(results) = run.get::<T>() {
            results.terminal(run, out);
        }
    }
    fn checks(&self, run: &Run) -> Vec<Check> {
        run.get::<T>().map(|r| r.checks(run)).unwrap_or_default()
    }
    fn borderline(&self, run: &Run) -> Vec<Check> {
        run.get::<T>()
            .map(|r| r.borderline(run))
            .unwrap_or_default()
    }
    fn wide_spreads(&self, run: &Run) -> Vec<String> {
        run.get::<T>()
            .map(|r| r.wide_spreads(run))
            .unwrap_or_default()
    }
    fn error_notes(&self, run: &Run) -> Vec<String> {
        run.get::<T>()
            .map(ResultFile::error_notes)
            .unwrap_or_default()
    }
}
