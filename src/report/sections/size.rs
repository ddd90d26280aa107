//! "Size": token and header bytes per scheme and claim set, against the cookie and header
//! limits, and the server heap per live entry.

use super::{NOT_MEASURED, chart, workload};
use crate::claims::ClaimSet;
use crate::plot::Rendered;
use crate::report::Run;
use crate::report::document::Document;
use crate::units;

/// The size workload's chart and tables, or a line saying it was not measured.
pub(super) fn section(doc: &mut Document, run: &Run, charts: &[Rendered]) {
    let Some(s) = workload(doc, "Size: bytes on the wire and on the server", &run.size) else {
        return;
    };
    chart(doc, charts, "size_headers");
    doc.table(
        &[
            "Scheme",
            "Claims",
            "Token",
            "`Cookie:`",
            "`Authorization:`",
            "`Set-Cookie:`",
            "Readable without a key",
            "Random bits",
            "Cookie within limit",
        ],
        s.rows
            .iter()
            .map(|r| {
                vec![
                    r.scheme.to_string(),
                    r.claims.name().to_owned(),
                    units::bytes(r.token_bytes as f64),
                    units::bytes(r.cookie_header_bytes as f64),
                    units::bytes(r.authorization_header_bytes as f64),
                    units::bytes(r.set_cookie_header_bytes as f64),
                    if r.readable_claims.is_empty() {
                        units::bytes(r.readable_payload_bytes as f64)
                    } else {
                        format!(
                            "{}: {}",
                            units::bytes(r.readable_payload_bytes as f64),
                            r.readable_claims.join(", ")
                        )
                    },
                    r.random_bits.to_string(),
                    if r.fits_cookie_limit { "yes" } else { "no" }.to_owned(),
                ]
            })
            .collect(),
    );
    let per_million: Vec<String> = s
        .rows
        .iter()
        .filter(|r| r.claims == ClaimSet::Typical)
        .map(|r| {
            // bytes per request × 10^6 requests = that many megabytes.
            format!("{} {} MB", r.scheme, r.cookie_header_bytes)
        })
        .collect();
    if !per_million.is_empty() {
        doc.para(format!(
            "Per million requests, typical claims, the `Cookie:` header alone carries: {}.",
            per_million.join(", ")
        ));
    }
    doc.para(format!(
        "Limits drawn on the chart: a cookie (name, value and attributes) of up to {} B must be supported \
         by browsers (RFC 6265 §6.1); {} B is a common default limit for one request header line.",
        s.cookie_limit_bytes, s.header_limit_bytes
    ));
    if s.memory.is_empty() {
        doc.para(format!(
            "Server memory per session: {NOT_MEASURED} ({}).",
            s.memory_method
        ));
    } else {
        doc.para(format!(
            "Server heap per entry, measured by: {}.",
            s.memory_method
        ));
        doc.table(
            &[
                "Scheme",
                "Entry",
                "Claims",
                "Entries",
                "Heap bytes",
                "Per entry",
                "Measured by",
            ],
            s.memory
                .iter()
                .map(|m| {
                    vec![
                        m.scheme.to_string(),
                        m.entry.to_string(),
                        m.claims.name().to_owned(),
                        m.entries.to_string(),
                        units::bytes(m.heap_bytes as f64),
                        units::bytes(m.bytes_per_entry),
                        // Rows written before `method` existed were all measured the
                        // section-wide way.
                        m.method.clone().unwrap_or_else(|| s.memory_method.clone()),
                    ]
                })
                .collect(),
        );
    }
}
