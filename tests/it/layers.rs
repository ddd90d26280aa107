//! The library's layers, checked from its source: every `crate::<module>` a file names must
//! sit on a lower layer than the file's own top-level module, so data flows one way
//! (claims → scheme → store → workload → results → report) and no import cycle can form.
//! A new top-level module must be given its layer here.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module of `src/` and its layer: a module may import only modules of a
/// strictly lower layer (the base utilities of layer 0 import none of the library).
const LAYERS: &[(&str, u8)] = &[
    ("alloc", 0),
    ("claims", 0),
    ("clock", 0),
    ("crypto", 0),
    ("measure", 0),
    ("units", 0),
    ("net", 0),
    ("store", 1),
    ("denylist", 2),
    ("scheme", 3),
    ("inspect", 4),
    ("results", 4),
    ("http", 5),
    ("load", 5),
    ("plan", 6),
    ("plot", 6),
    ("workload", 6),
    ("report", 7),
    ("run", 8),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::<module>` names a source mentions outside comments.
fn crate_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `$crate::` in a macro is the crate root itself, not a module.
            let dollar = i > 0 && rest.as_bytes()[i - 1] == b'$';
            if !name.is_empty() && !dollar {
                out.push(name);
            }
            rest = after;
        }
    }
    out
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut unranked = Vec::new();
    let mut upward: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        // The binary's own modules use the library by its name, never `crate::`.
        if top == "lib" || top == "main" || top == "cli" {
            continue;
        }
        let Some(mine) = layer(&top) else {
            unranked.push(top);
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for target in crate_refs(&text) {
            if target == top {
                continue;
            }
            match layer(&target) {
                Some(theirs) if theirs < mine => {}
                Some(_) => upward
                    .entry(format!("{top} -> {target}"))
                    .or_default()
                    .push(rel.display().to_string()),
                // Not a module (a macro exported at the root, say): nothing to rank.
                None => {}
            }
        }
    }
    unranked.sort();
    unranked.dedup();
    assert!(
        unranked.is_empty(),
        "top-level modules without a layer in LAYERS: {unranked:?}"
    );
    for files in upward.values_mut() {
        files.sort();
        files.dedup();
    }
    assert!(
        upward.is_empty(),
        "imports of a layer that is not below the importer's: {upward:#?}"
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    // The scanner itself: a reference in code counts, one in a comment or `$crate::` does not.
    let refs = crate_refs(
        "use crate::http::App; // crate::report\n$crate::scheme_conformance!()\nx(crate::units::ns(1))",
    );
    assert_eq!(refs, ["http", "units"]);
    assert!(
        layer("load").unwrap() <= layer("http").unwrap(),
        "load may not import http"
    );
    assert!(layer("results").unwrap() < layer("workload").unwrap());
}
