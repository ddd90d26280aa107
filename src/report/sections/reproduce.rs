//! "Reproduce": the run's command line, exactly as it was started, and the command that
//! rebuilds this report.

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
    let folder = run.dir.root().file_name().map_or_else(
        || "<run folder>".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    doc.para("This report, again, from the run's files only:");
    doc.code(format!(
        "tokenbench report path/to/{}",
        shell_quote(&folder)
    ));
}
