//! "Reproduce": the run's command line, exactly as it was started, and the command that
//! rebuilds this report from the folder it was read from.

use std::fs;
use std::path::{Path, PathBuf};

use crate::report::Run;
use crate::report::document::Document;

/// A command-line argument quoted for a POSIX shell when it needs to be.
fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The command line of the run and of this report, quoted for a POSIX shell.
pub(super) fn section(doc: &mut Document, run: &Run) {
    doc.heading(2, "Reproduce");
    let m = &run.meta;
    doc.para(format!(
        "The run, exactly as it was started (tokenbench {}, {}, {} profile{}):",
        m.tokenbench_version,
        m.rustc,
        m.profile,
        m.git_commit
            .as_deref()
            .map_or_else(String::new, |c| format!(", commit `{c}`"))
    ));
    doc.code(
        m.command_line
            .iter()
            // Redacted when written; again here, for runs of older versions.
            .map(|a| shell_quote(&crate::store::redact_url(a)))
            .collect::<Vec<_>>()
            .join(" "),
    );
    doc.para("This report, again, from the run's files only:");
    doc.code(format!(
        "tokenbench report {}",
        shell_quote(&shown_folder(run.dir.root()).to_string_lossy())
    ));
}

/// The run folder as the report was asked for it (`results/reference`,
/// `results/2026-…-quick`), so the line can be pasted where the command was typed. A
/// `latest` link is followed: the line must keep naming this run after the next one.
fn shown_folder(root: &Path) -> PathBuf {
    let is_link = fs::symlink_metadata(root).is_ok_and(|m| m.file_type().is_symlink());
    match (is_link, fs::read_link(root)) {
        (true, Ok(target)) if target.is_relative() => root
            .parent()
            .map_or_else(|| target.clone(), |parent| parent.join(&target)),
        (true, Ok(target)) => target,
        _ => root.to_path_buf(),
    }
}
