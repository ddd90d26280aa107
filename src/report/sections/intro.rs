//! The title, and (after the bottom line) the paragraph saying which results files the run has, and warnings for a
//! quick run, a non-release build or a run that did not finish.

use crate::report::document::Document;
use crate::report::{REGISTRY, Run};

/// The title.
pub(super) fn title(doc: &mut Document, run: &Run) {
    doc.heading(
        1,
        format!("tokenbench report: run of {}", run.meta.started_utc),
    );
}

/// What the report is made from, and what makes its figures less reliable.
pub(super) fn section(doc: &mut Document, run: &Run) {
    doc.heading(2, "About this report");
    let present: Vec<String> = REGISTRY
        .iter()
        .map(|file| {
            let f = file.name();
            if run.has(f) {
                format!("`{f}.json`")
            } else {
                format!("`{f}.json` (absent: not measured)")
            }
        })
        .collect();
    doc.para(format!(
        "Opaque session tokens against signed JWTs. Every figure below is read from this run's files \
         (`meta.json`, {}); every verdict is computed from those figures by the rule printed beside it. \
         Nothing is measured again and nothing is typed in by hand.",
        present.join(", ")
    ));
    let mut warnings = Vec::new();
    if run.meta.quick {
        warnings.push(
            "This was a `--quick` run: short measuring budgets and shortened revocation windows. Its \
             figures show orders of magnitude, not fine differences."
                .to_owned(),
        );
    }
    if run.meta.profile != "release" {
        warnings.push(format!(
            "Built with the `{}` profile: timings are not comparable with release builds.",
            run.meta.profile
        ));
    }
    // meta.json gets its finish time once every workload is on disk; the INCOMPLETE marker
    // goes later, possibly after this report, so only a missing finish time means a cut run.
    if run.meta.finished_utc.is_none() {
        warnings.push(format!(
            "The run did not finish (`meta.json` has no finish time{}): some workloads may be missing.",
            if run.incomplete {
                ", and its INCOMPLETE marker is present"
            } else {
                ""
            }
        ));
    }
    doc.bullets(warnings);
}
