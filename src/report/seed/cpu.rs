//! Row 2, CPU usage: a JWT validate against a session validate (typical claims), per
//! algorithm and crypto backend, and whether the backend matters more than the scheme.

use super::{
    Judgement, Row, SESSION_MEMORY, Verdict, clean, failed_rows, median, validate_row, with_backend,
};
use crate::claims::ClaimSet;
use crate::report::Run;
use crate::results::schema::validate::{Operation, ValidateResults, ValidateRow};
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 2: a JWT must cost at least this many times a session validate to count as
/// clearly more expensive.
pub const FACTOR: f64 = 2.0;

/// Row 2 of the table.
pub const ROW: Row = Row {
    number: 2,
    name: "CPU usage",
    claim: "A JWT costs a signature check and a decode on every request; a session costs a store lookup, so JWTs use more CPU.",
    rule,
    cell,
    judge: |run| judge(run.validate.as_ref()),
};

/// The rule, in words, with the thresholds [`judge`] uses.
pub fn rule() -> String {
    format!(
        "r = JWT validate median ÷ session validate median (typical claims; session-memory, else \
         the first session store). Confirmed if r ≥ {FACTOR} for every algorithm and backend and, \
         for each algorithm measured on two crypto backends, the backend gap (slower ÷ faster) is \
         smaller than that algorithm's r on the faster one; contradicted if r ≤ 1 for every one; \
         nuanced otherwise"
    )
}

/// Validate and issue medians, and validate on the other crypto backend.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let row = validate_row(run, scheme, Operation::Validate)?;
    let mut out = format!("validate {}", units::ns(row.measurement.wall.median_ns));
    if let Some(i) = validate_row(run, scheme, Operation::Issue) {
        out.push_str(&format!(
            ", issue {}",
            units::ns(i.measurement.wall.median_ns)
        ));
    }
    if let Some(v) = &run.validate {
        for other in v.rows.iter().filter(|r| {
            r.scheme == scheme
                && r.operation == Operation::Validate
                && r.claims == ClaimSet::Typical
                && r.backend.is_some()
                && r.backend != row.backend
        }) {
            out.push_str(&format!(
                "; {}: validate {}",
                other.backend.map_or("?", |b| b.name()),
                units::ns(other.measurement.wall.median_ns)
            ));
        }
    }
    Some(out)
}

/// A validate of typical claims, the operation the CPU row compares.
fn typical_validate(r: &ValidateRow) -> bool {
    r.operation == Operation::Validate && r.claims == ClaimSet::Typical
}

/// The session validate the CPU row compares with: session-memory, else the first session
/// store, typical claims; only rows without failed operations.
pub fn session_baseline(v: &ValidateResults) -> Option<&ValidateRow> {
    let typical = |r: &&ValidateRow| typical_validate(r) && r.scheme.is_session() && clean(r);
    v.rows
        .iter()
        .filter(typical)
        .find(|r| r.scheme == SESSION_MEMORY)
        .or_else(|| v.rows.iter().find(typical))
}

fn jwt_validates(v: &ValidateResults) -> impl Iterator<Item = &ValidateRow> {
    v.rows
        .iter()
        .filter(|r| typical_validate(r) && r.scheme.is_jwt() && clean(r))
}

/// The verdict, from `validate.json`.
pub fn judge(validate: Option<&ValidateResults>) -> Judgement {
    let Some(v) = validate else {
        return Judgement::missing("validate.json is not in this run");
    };
    let Some(base) = session_baseline(v) else {
        return Judgement::missing(format!(
            "validate.json has no session validate row (typical claims) without failed operations{}",
            failed_rows(v, typical_validate)
        ));
    };
    let jwts: Vec<&ValidateRow> = jwt_validates(v).collect();
    if jwts.is_empty() {
        return Judgement::missing(format!(
            "validate.json has no JWT validate row (typical claims) without failed operations{}",
            failed_rows(v, typical_validate)
        ));
    }
    let b = median(base);
    let ratios: Vec<(String, f64)> = jwts
        .iter()
        .map(|r| (with_backend(r), median(r) / b))
        .collect();
    // Per algorithm on two backends: does the library matter more than the scheme?
    let mut backend_notes = Vec::new();
    let mut library_dominates = false;
    let mut schemes: Vec<SchemeId> = Vec::new();
    for r in &jwts {
        if !schemes.contains(&r.scheme) {
            schemes.push(r.scheme);
        }
    }
    for scheme in schemes {
        let rows: Vec<&&ValidateRow> = jwts.iter().filter(|r| r.scheme == scheme).collect();
        if rows.len() < 2 {
            continue;
        }
        let fast = rows.iter().map(|r| median(r)).fold(f64::INFINITY, f64::min);
        let slow = rows.iter().map(|r| median(r)).fold(0.0, f64::max);
        let gap = slow / fast;
        let r_fast = fast / b;
        if gap > r_fast {
            library_dominates = true;
        }
        backend_notes.push(format!(
            "{scheme} backend gap {} {} its r {}",
            units::ratio(gap),
            if gap > r_fast { ">" } else { "<" },
            units::ratio(r_fast)
        ));
    }
    let all_clear = ratios.iter().all(|(_, r)| *r >= FACTOR);
    let verdict = if ratios.iter().all(|(_, r)| *r <= 1.0) {
        Verdict::Contradicted
    } else if all_clear && !library_dominates {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "r against {} validate {}: {}",
        base.scheme,
        units::ns(b),
        ratios
            .iter()
            .map(|(n, r)| format!("{n} {}", units::ratio(*r)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let close: Vec<&str> = ratios
        .iter()
        .filter(|(_, r)| *r < FACTOR)
        .map(|(n, _)| n.as_str())
        .collect();
    if !close.is_empty() {
        because.push_str(&format!("; within ×{FACTOR}: {}", close.join(", ")));
    }
    if !backend_notes.is_empty() {
        because.push_str(&format!("; {}", backend_notes.join(", ")));
    }
    because.push_str(&failed_rows(v, typical_validate));
    Judgement::new(verdict, because)
}
