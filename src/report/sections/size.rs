//! "Size": token and header bytes per scheme and claim set, against the cookie and header
//! limits, and the server heap per live entry.

use std::fmt::Write as _;

use super::{NOT_MEASURED, chart};
use crate::claims::ClaimSet;
use crate::plot::{self, Figure, Rendered};
use crate::report::document::Document;
use crate::report::{Run, WorkloadReport};
use crate::results::schema::size::SizeResults;
use crate::scheme::spec::SchemeId;
use crate::units;

impl WorkloadReport for SizeResults {
    const HEADING: &'static str = "Size: bytes on the wire and on the server";
    /// Bandwidth (the headers), scalability (server memory), privacy, cross-domain.
    const ROWS: &'static [usize] = &[1, 3, 4, 7];
    const TOUCHED: &'static str =
        "nothing timed (sizes are counted), only the memory figures' allocator timing";

    fn schemes(&self) -> Vec<SchemeId> {
        self.rows.iter().map(|r| r.scheme).collect()
    }

    fn figures(&self) -> Vec<Figure> {
        plot::size::header_bytes(self).into_iter().collect()
    }

    fn section(&self, _run: &Run, charts: &[Rendered], doc: &mut Document) {
        section(self, charts, doc);
    }

    fn terminal(&self, _run: &Run, out: &mut String) {
        // Writing to a String cannot fail, so the fmt::Results below are ignored.
        let _ = writeln!(
            out,
            "\nsize (typical claims)          token B   Cookie: B   Bearer: B   server B/session"
        );
        for row in self.rows.iter().filter(|x| x.claims == ClaimSet::Typical) {
            let name = row.scheme.to_string();
            let mem = self
                .memory
                .iter()
                .find(|m| m.scheme == name)
                .map_or("-".to_owned(), |m| format!("{:.0}", m.bytes_per_entry));
            let _ = writeln!(
                out,
                "  {:<28} {:>8} {:>11} {:>11} {:>18}",
                name, row.token_bytes, row.cookie_header_bytes, row.authorization_header_bytes, mem
            );
        }
    }
}

/// The size workload's chart and tables.
fn section(s: &SizeResults, charts: &[Rendered], doc: &mut Document) {
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
