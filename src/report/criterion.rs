//! Criterion's estimates (`<root>/**/new/estimates.json`), read to show beside the CLI's
//! own figures. They are not part of a run: criterion wrote them when `cargo bench` last
//! ran, so the report says where they come from and never mixes them into a verdict.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Depth below the root at which `new/estimates.json` may sit (`group/function/value/new`).
const MAX_DEPTH: usize = 6;

/// One criterion benchmark's point estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Benchmark group, e.g. `validate`.
    pub group: String,
    /// Function id, e.g. `session-memory`.
    pub function: String,
    /// Parameter, e.g. `typical`.
    pub value: Option<String>,
    /// Point estimate of the median time per iteration, ns.
    pub median_ns: f64,
    /// Point estimate of the mean time per iteration, ns.
    pub mean_ns: f64,
}

impl Estimate {
    /// `group/function[/value]`, criterion's own id.
    pub fn id(&self) -> String {
        match &self.value {
            Some(v) => format!("{}/{}/{v}", self.group, self.function),
            None => format!("{}/{}", self.group, self.function),
        }
    }
}

/// What was found under a criterion root.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimates {
    /// The folder searched, when one was given.
    pub root: Option<PathBuf>,
    /// Estimates read, sorted by id.
    pub found: Vec<Estimate>,
    /// Files that could not be read, with the reason (shown in the report, never fatal).
    pub skipped: Vec<(PathBuf, String)>,
}

impl Estimates {
    /// The estimate of `group/function/value`, if criterion measured it.
    pub fn get(&self, group: &str, function: &str, value: &str) -> Option<&Estimate> {
        self.found.iter().find(|e| {
            e.group == group && e.function == function && e.value.as_deref() == Some(value)
        })
    }
}

/// Reads every `new/estimates.json` under `root`; `None` or a missing folder gives none.
pub fn scan(root: Option<&Path>) -> Estimates {
    let mut out = Estimates {
        root: root.map(Path::to_owned),
        ..Estimates::default()
    };
    let Some(root) = root else { return out };
    let mut files = Vec::new();
    collect(root, 0, &mut files);
    files.sort();
    for file in files {
        match read(root, &file) {
            Ok(e) => out.found.push(e),
            Err(reason) => out.skipped.push((file, reason)),
        }
    }
    out.found.sort_by_key(Estimate::id);
    out
}

fn collect(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // `report/` holds criterion's HTML; `base/` and `change/` are older estimates.
            if path.file_name().is_some_and(|n| n == "report") {
                continue;
            }
            collect(&path, depth + 1, files);
        } else if path.file_name().is_some_and(|n| n == "estimates.json")
            && path
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "new")
        {
            files.push(path);
        }
    }
}

fn read(root: &Path, file: &Path) -> Result<Estimate, String> {
    let text = fs::read_to_string(file).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let point = |k: &str| {
        v.get(k)
            .and_then(|x| x.get("point_estimate"))
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("no {k}.point_estimate"))
    };
    let (median_ns, mean_ns) = (point("median")?, point("mean")?);
    // Names from benchmark.json beside it; else from the folders (group/function/value/new).
    let dir = file.parent().unwrap_or(root);
    let names = fs::read_to_string(dir.join("benchmark.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|b| {
            let s = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_owned);
            Some((s("group_id")?, s("function_id")?, s("value_str")))
        });
    let (group, function, value) = match names {
        Some(n) => n,
        None => {
            let rel = dir
                .parent()
                .and_then(|d| d.strip_prefix(root).ok())
                .ok_or("outside the criterion root")?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            match parts.as_slice() {
                [g, f] => (g.clone(), f.clone(), None),
                [g, f, v] => (g.clone(), f.clone(), Some(v.clone())),
                _ => return Err("no benchmark.json and not group/function[/value]/new".into()),
            }
        }
    };
    Ok(Estimate {
        group,
        function,
        value,
        median_ns,
        mean_ns,
    })
}
