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
