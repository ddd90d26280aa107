//! The report's sections, built from a [`Run`] and its drawn charts, one file per section
//! in the order of the document ([`document`] puts them together):
//!
//! - `intro`: the title (first), then, after the bottom line, what the report is made
//!   from and warnings.
//! - [`bottom_line`]: the bottom line and the self-checks ([`super::checks`]), before
//!   anything else.
//! - `seed_table`: the seed article's table, rebuilt ([`super::seed`]).
//! - `size`, `validate`, `revoke`, `scale`, `http`: one section per workload, chart and
//!   tables (validate with the central store and criterion's estimates).
//! - `security`: the security considerations with the tests that show each mitigation.
//! - `reproduce`: how to reproduce the run and the report.
//! - `machine`: the machine and the build, at the end.
//!
//! This file holds what the workload sections share: `NOT_MEASURED`, `workload` (the heading, or
//! the line saying the workload was not measured) and `chart`.

pub mod bottom_line;
mod http;
mod intro;
mod machine;
mod reproduce;
mod revoke;
mod scale;
mod security;
mod size;
mod validate;
mod verdicts;

pub use security::CITED_TESTS;

use super::Run;
use super::document::{Block, Document};
use crate::plot::Rendered;
use crate::results::schema::ResultFile;

/// What a workload section says when the run lacks its results file.
const NOT_MEASURED: &str = "**not measured in this run**";

/// Adds the chart `name` of `charts`, when the run has it.
fn chart(doc: &mut Document, charts: &[Rendered], name: &str) {
    if let Some(c) = charts.iter().find(|c| c.name == name) {
        doc.blocks.push(Block::Chart {
            name: c.name.clone(),
            title: c.title.clone(),
            caption: c.caption.clone(),
            svg: c.svg.clone(),
        });
    }
}

/// Opens the section of a workload: its heading, then its results, or `None` after a line
/// saying that the run has no results file for it.
fn workload<'r, T: ResultFile>(
    doc: &mut Document,
    heading: &str,
    results: &'r Option<T>,
) -> Option<&'r T> {
    doc.heading(2, heading);
    if results.is_none() {
        doc.para(format!("{NOT_MEASURED}: no `{}.json`.", T::FILE));
    }
    results.as_ref()
}

/// The whole report.
pub fn document(run: &Run, charts: &[Rendered]) -> Document {
    let mut doc = Document::default();
    intro::title(&mut doc, run);
    bottom_line::section(&mut doc, run, &super::checks::checks(run));
    intro::section(&mut doc, run);
    verdicts::section(&mut doc, run);
    size::section(&mut doc, run, charts);
    validate::section(&mut doc, run, charts);
    revoke::section(&mut doc, run, charts);
    scale::section(&mut doc, run, charts);
    http::section(&mut doc, run, charts);
    security::section(&mut doc);
    reproduce::section(&mut doc, run);
    machine::section(&mut doc, run);
    doc
}
