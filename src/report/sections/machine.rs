//! "Machine and run": the machine, the build and the versions the run was made with, from
//! `meta.json`.

use crate::report::Run;
use crate::report::document::Document;

/// A two-column table of `meta.json`'s description of the machine and the build.
pub(super) fn section(doc: &mut Document, run: &Run) {
    let m = &run.meta;
    doc.heading(2, "Machine and run");
    let versions: Vec<String> = m
        .crate_versions
        .iter()
        .map(|c| format!("{} {}", c.name, c.version))
        .collect();
    let rows = vec![
        ("tokenbench", m.tokenbench_version.clone()),
        ("started (UTC)", m.started_utc.clone()),
        (
            "finished (UTC)",
            m.finished_utc
                .clone()
                .unwrap_or_else(|| "did not finish".into()),
        ),
        ("quick run", if m.quick { "yes" } else { "no" }.into()),
        ("seed", m.seed.to_string()),
        ("CPU", m.cpu_model.clone()),
        ("logical cores", m.cores.to_string()),
        ("OS", m.os.clone()),
        (
            "kernel",
            m.kernel.clone().unwrap_or_else(|| "unknown".into()),
        ),
        ("compiler", m.rustc.clone()),
        ("build profile", m.profile.clone()),
        (
            "JWT crypto backend (main process)",
            m.crypto_backend.clone(),
        ),
        (
            "git commit",
            m.git_commit.clone().unwrap_or_else(|| "unknown".into()),
        ),
        ("measured crates", versions.join(", ")),
    ];
    doc.table(
        &["", ""],
        rows.into_iter()
            .map(|(k, v)| vec![k.to_owned(), v])
            .collect(),
    );
}
