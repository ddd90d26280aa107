//! The seed article's table, rebuilt from the run: one table row per [`verdicts::ROWS`] entry
//! (claim, figures per scheme, verdict, rule), then what decided each verdict.

use crate::report::Run;
use crate::report::document::Document;
use crate::report::verdicts::{self, TableRow, Verdict};
use crate::scheme::spec::SchemeId;

/// A verdict in bold, as the table and the reasons print it.
fn bold_verdict(v: Verdict) -> String {
    format!("**{}**", v.label())
}

/// The rebuilt table and, below it, what decided each verdict.
pub(super) fn section(doc: &mut Document, run: &Run) {
    doc.heading(2, "The comparison table, rebuilt from this run");
    let cols = verdicts::columns(run);
    let rows = verdicts::rows(run);
    let session = cols.iter().find(|c| c.capabilities().store_lookup);
    doc.para(format!(
        "One row per row of the seed article's table: what this run measured for {} and for each \
         {} token, one that carries its claims (typical claims unless stated; figures of schemes \
         measured per crypto backend on the `{}` backend unless another is named), and the \
         verdict computed from those figures. The article's claim, the rule that computed each \
         verdict and the files it reads are the numbered notes under the table (#).",
        session.map_or_else(
            || "sessions (none measured)".to_owned(),
            |s| format!("sessions (`{s}`)")
        ),
        verdicts::SELF_CONTAINED,
        run.meta.crypto_backend
    ));
    let names: Vec<String> = cols.iter().map(SchemeId::to_string).collect();
    let hybrid = verdicts::hybrid::verdicts(run, &rows);
    let hybrid_head = hybrid
        .first()
        .map(|h| format!("With the hybrid (`{}`)", h.scheme));
    let mut head: Vec<&str> = vec!["#", "Row"];
    head.extend(names.iter().map(String::as_str));
    head.push("Verdict");
    head.extend(hybrid_head.as_deref());
    let table_rows = rows
        .iter()
        .map(|r| {
            let mut cells = vec![r.number.to_string(), r.name.to_owned()];
            cells.extend(r.cells.iter().cloned());
            cells.push(verdict_cell(r));
            if !hybrid.is_empty() {
                cells.push(
                    hybrid
                        .iter()
                        .find(|h| h.row == r.number)
                        .map_or_else(|| "—".to_owned(), |h| bold_verdict(h.judgement.verdict)),
                );
            }
            cells
        })
        .collect();
    doc.table(&head, table_rows);
    doc.notes(
        "Claims and rules, by row number:",
        rows.iter()
            .map(|r| {
                let files: Vec<String> = r.evidence.iter().map(|f| format!("`{f}.json`")).collect();
                format!(
                    "**{}**. Claim: {} Rule: {}. From {}.",
                    r.name,
                    r.claim,
                    r.rule.trim_end_matches('.'),
                    files.join(", ")
                )
            })
            .collect(),
    );
    if let Some(first) = hybrid.first() {
        doc.heading(3, "What the hybrid changes");
        doc.para(format!(
            "The last column judges `{}` (an access JWT with a rotating refresh token; figures \
             from `revoke.json`) on the rows where it changes the answer, each by its own rule; \
             `—`: as the JWT of its algorithm.",
            first.scheme
        ));
        doc.bullets(
            hybrid
                .iter()
                .map(|h| {
                    format!(
                        "Row {}: {}. {}. Rule: {}.",
                        h.row,
                        bold_verdict(h.judgement.verdict),
                        h.judgement.because,
                        h.rule
                    )
                })
                .collect(),
        );
    }
    doc.heading(3, "What decided each verdict");
    doc.bullets(
        rows.iter()
            .map(|r| {
                format!(
                    "Row {}, {}: {}. {}.{}",
                    r.number,
                    r.name,
                    verdict_cell(r),
                    r.judgement.because,
                    r.judgement
                        .borderline
                        .as_ref()
                        .map_or_else(String::new, |b| format!(" Borderline: {b}."))
                )
            })
            .collect(),
    );
}

/// The verdict in bold, and "(borderline)" when a deciding ratio's spread reaches its
/// threshold.
fn verdict_cell(r: &TableRow) -> String {
    if r.judgement.borderline.is_some() {
        format!("{} (borderline)", bold_verdict(r.judgement.verdict))
    } else {
        bold_verdict(r.judgement.verdict)
    }
}
