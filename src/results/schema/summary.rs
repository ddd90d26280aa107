//! `summary.csv`: the headline figures of every workload, flattened, one per line.

use serde::{Deserialize, Serialize};

use crate::crypto::CryptoBackend;

/// One line of `summary.csv`: the headline figures of every workload, flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Workload name.
    pub workload: String,
    /// Scheme name (or strategy, or reference).
    pub scheme: String,
    /// Crypto backend for JWT rows, empty otherwise.
    pub backend: String,
    /// What is varied (claim set, thread count, working set...).
    pub param: String,
    /// The quantity measured.
    pub metric: String,
    /// Its value.
    pub value: f64,
    /// Its unit.
    pub unit: String,
}

impl SummaryRow {
    /// A row; `scheme` is a scheme, strategy or reference (anything displayed), `backend`
    /// the crypto backend of a JWT row.
    pub fn new(
        workload: &str,
        scheme: impl std::fmt::Display,
        backend: Option<CryptoBackend>,
        param: &str,
        metric: &str,
        value: f64,
        unit: &str,
    ) -> SummaryRow {
        SummaryRow {
            workload: workload.into(),
            scheme: scheme.to_string(),
            backend: backend.map_or_else(String::new, |b| b.name().to_owned()),
            param: param.into(),
            metric: metric.into(),
            value,
            unit: unit.into(),
        }
    }
}

/// Renders rows as CSV (RFC 4180 quoting).
pub fn summary_csv(rows: &[SummaryRow]) -> String {
    let q = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from("workload,scheme,backend,param,metric,value,unit\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            q(&r.workload),
            q(&r.scheme),
            q(&r.backend),
            q(&r.param),
            q(&r.metric),
            r.value,
            q(&r.unit)
        ));
    }
    out
}

/// Reads `summary.csv` text back into rows (the inverse of [`summary_csv`]): the header line
/// first, RFC 4180 quoting; a line of another shape is an error naming its number.
pub fn parse_summary_csv(text: &str) -> Result<Vec<SummaryRow>, String> {
    let mut lines = text.lines();
    match lines.next() {
        Some("workload,scheme,backend,param,metric,value,unit") => {}
        _ => return Err("line 1: not the header of a summary.csv".to_owned()),
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let n = i + 2;
        let fields = csv_fields(line).ok_or_else(|| format!("line {n}: unbalanced quotes"))?;
        let [workload, scheme, backend, param, metric, value, unit]: [String; 7] = fields
            .try_into()
            .map_err(|f: Vec<String>| format!("line {n}: {} fields, expected 7", f.len()))?;
        let value: f64 = value
            .parse()
            .map_err(|_| format!("line {n}: value {value:?} is not a number"))?;
        rows.push(SummaryRow {
            workload,
            scheme,
            backend,
            param,
            metric,
            value,
            unit,
        });
    }
    Ok(rows)
}

/// The fields of one CSV line (quotes as RFC 4180 writes them); `None` when a quote is
/// left open.
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_csv_reads_back_what_it_wrote() {
        let rows = vec![
            SummaryRow::new(
                "size",
                "jwt-HS256",
                None,
                "typical",
                "token",
                459.0,
                "bytes",
            ),
            SummaryRow::new(
                "browser",
                "session-memory",
                None,
                "client=chromium,header=cookie,\"q\"",
                "bytes_per_request",
                41.5,
                "B",
            ),
        ];
        assert_eq!(parse_summary_csv(&summary_csv(&rows)).unwrap(), rows);
        assert!(parse_summary_csv("nope\n").is_err());
        let bad = "workload,scheme,backend,param,metric,value,unit\na,b,c\n";
        assert!(parse_summary_csv(bad).unwrap_err().contains("line 2"));
        let open = "workload,scheme,backend,param,metric,value,unit\na,\"b,c,d,e,1,f\n";
        assert!(parse_summary_csv(open).unwrap_err().contains("quotes"));
    }
}
