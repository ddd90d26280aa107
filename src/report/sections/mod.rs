//! The report's sections, one file per section, put together by [`document`]: the title,
//! the [`bottom_line`] with the self-checks, what the report is made from (`intro`), the
//! article's table (`verdicts`), then one section per file of the
//! [`REGISTRY`], "At your scale" (the capacity planner on this run), and the security
//! considerations, the command to
//! reproduce the run and the machine.
//!
//! The file of a workload's section also holds the rest of its plug-in
//! ([`WorkloadReport`](super::WorkloadReport)): charts, terminal lines, self-checks.

mod at_scale;
pub mod bottom_line;
mod browser;
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
pub mod wire;

pub use security::CITED_TESTS;

use super::document::{Block, Document};
use super::{REGISTRY, Run};
use crate::plot::Rendered;

/// What a workload section says when the run lacks its results file.
pub(crate) const NOT_MEASURED: &str = "**not measured in this run**";

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

/// The whole report.
pub fn document(run: &Run, charts: &[Rendered]) -> Document {
    let mut doc = Document::default();
    intro::title(&mut doc, run);
    bottom_line::section(&mut doc, run, &super::checks::checks(run));
    intro::section(&mut doc, run);
    verdicts::section(&mut doc, run);
    for file in REGISTRY {
        file.section(run, charts, &mut doc);
    }
    at_scale::section(&mut doc, run);
    security::section(&mut doc, run);
    reproduce::section(&mut doc, run);
    machine::section(&mut doc, run);
    doc
}
