//! "At your scale": the capacity planner ([`crate::plan`]) on this run for a default
//! scenario, so the report answers "what would it cost me?" beside "what did it cost here?".
//! Not a workload's section: it reads several files, through the planner.

use super::NOT_MEASURED;
use crate::plan::render::{TABLE_HEAD, table_row};
use crate::plan::{Inputs, Scenario, plan};
use crate::report::Run;
use crate::report::document::Document;
use crate::results::schema::http::HttpResults;
use crate::results::schema::revoke::RevokeResults;
use crate::results::schema::size::SizeResults;
use crate::results::schema::validate::ValidateResults;

/// The section's heading.
pub const HEADING: &str = "At your scale";

/// The section: the plan of [`Scenario::report_default`], its ranked answer, the rules,
/// the overheads with their sources and every input figure.
pub(super) fn section(doc: &mut Document, run: &Run) {
    doc.heading(2, HEADING);
    let name = run
        .dir
        .root()
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let inputs = Inputs {
        run: name,
        size: run.get::<SizeResults>(),
        validate: run.get::<ValidateResults>(),
        revoke: run.get::<RevokeResults>(),
        http: run.get::<HttpResults>(),
        has_browser: run.has(crate::plan::inputs::BROWSER),
        browser_rows: &[],
    };
    let scenario = Scenario::report_default();
    let p = match plan(&inputs, &scenario) {
        Ok(p) => p,
        Err(e) => {
            doc.para(format!("{NOT_MEASURED} for a plan: {e}."));
            return;
        }
    };
    doc.para(format!(
        "What this run's figures say a deployment of {} would take, per scheme \
         (`tokenbench plan {} --rate 10k --sessions 1M --nodes 4 --store-rtt 0.5ms` prints \
         the same for any scale; nothing here is measured again: each figure is an input of \
         this run times the scenario, by the rules below). Cores are busy cores at 100%; \
         session memory includes the overheads listed below.",
        scenario.describe(),
        run.dir.root().display()
    ));
    doc.table(
        &TABLE_HEAD,
        p.schemes
            .iter()
            .map(table_row)
            .map(|mut r| {
                // A cell saying the scheme cannot be planned keeps the table's shape.
                r.resize(TABLE_HEAD.len(), String::new());
                r
            })
            .collect(),
    );
    doc.para("Ranked answer:");
    doc.bullets(
        p.ranking
            .iter()
            .map(|r| match r.rank {
                Some(n) => format!("{n}. `{}`: {}", r.scheme, r.reason),
                None => format!("`{}`: {}", r.scheme, r.reason),
            })
            .collect(),
    );
    let notes: Vec<String> = p
        .schemes
        .iter()
        .flat_map(|s| s.notes.iter().map(move |n| format!("`{}`: {n}", s.scheme)))
        .collect();
    doc.bullets(notes);
    doc.para("Memory overheads (flags of `tokenbench plan`), with the source of each default:");
    doc.bullets(
        p.overheads
            .iter()
            .map(|o| format!("`--{}` ×{}: {}", o.name, o.value, o.source))
            .collect(),
    );
    doc.para("Rules:");
    doc.bullets(p.rules.clone());
    let inputs: Vec<String> = p
        .schemes
        .iter()
        .flat_map(|s| {
            s.inputs.iter().map(move |i| {
                format!(
                    "`{}`: {} = {} {} ({}, {})",
                    s.scheme,
                    i.figure,
                    short(i.value),
                    i.unit,
                    i.file,
                    i.from
                )
            })
        })
        .collect();
    doc.notes(
        format!(
            "Every input figure of the plan, from run {} ({}):",
            p.run,
            inputs.len()
        ),
        inputs,
    );
}

/// A figure as read, to four significant decimals at most.
fn short(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
