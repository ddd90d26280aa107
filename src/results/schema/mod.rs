//! The on-disk schema of a run: one module per results file, each type the file itself
//! (hyperfine's "the result struct is the schema"), each file versioned on its own.
//! Workloads write these types; the report, the charts and any later reader (a capacity
//! planner) read results through them alone, never through measuring code.
//!
//! - [`meta`]: `meta.json`, the machine, the toolchain and the resolved command line.
//! - [`size`], [`validate`], [`revoke`], [`scale`], [`http`], [`browser`]: one per
//!   workload's JSON file.
//! - [`summary`]: `summary.csv`, the headline figures of every workload, one per line.
//! - [`wire`]: the header bytes per request per HTTP client ([`wire::WireRow`]), part of
//!   `browser.json`.

pub mod browser;
pub mod http;
pub mod meta;
pub mod revoke;
pub mod scale;
pub mod size;
pub mod summary;
pub mod validate;
pub mod wire;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use summary::SummaryRow;

/// A results file of one workload: its file stem, its version, and the figures it
/// contributes to `summary.csv` and to the end-of-run failure notes.
pub trait ResultFile: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// File stem (`size` for `size.json`), also the workload's name.
    const FILE: &'static str;
    /// Version of this file's format, written in its `schema_version` field (files written
    /// before per-file versions have none, read as 0).
    const VERSION: u32;

    /// Headline rows for `summary.csv`.
    fn summary_rows(&self) -> Vec<SummaryRow>;

    /// One line per figure whose operations failed while measuring (e.g. refused because
    /// Redis was unreachable: fail closed); empty when none did.
    fn error_notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Adds the rows another process measured for the same run (the JWT rows on the other
    /// crypto backend). Only workloads measured on both backends implement it; the others
    /// are never merged, and keep their own rows.
    fn merge(&mut self, other: Self)
    where
        Self: Sized,
    {
        let _ = other;
    }

    /// Figures this workload measured for another workload's results file of the same run
    /// (the http workload's sites measure revocation end to end, which belongs in
    /// `revoke.json`). Empty for most.
    fn contributions(&self) -> Vec<Contribution> {
        Vec::new()
    }
}

/// Figures for another results file: the runner sets member `member` of `<file>.json` to
/// `value` (creating the file from `empty` when the run has none) and adds `rows` to
/// `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// File stem of the results file that receives them.
    pub file: &'static str,
    /// The member of that file's JSON object they fill.
    pub member: &'static str,
    /// Their JSON.
    pub value: serde_json::Value,
    /// The whole file when the run has none yet.
    pub empty: serde_json::Value,
    /// Their `summary.csv` rows.
    pub rows: Vec<SummaryRow>,
}
