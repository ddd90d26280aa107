//! The summary printed at the end of a run, from the run's results files like the rest of
//! the report: the bottom line and the self-checks, each results file's lines (its
//! [`WorkloadReport::terminal`](super::WorkloadReport::terminal)), then every failure the
//! files record.

use std::fmt::Write as _;

use super::checks::{self, Check};
use super::sections::bottom_line;
use super::{REGISTRY, Run};
use crate::results::RunDir;

/// The summary of the run in `dir`, or a line saying why its files could not be read.
pub fn summary_of(dir: &RunDir) -> String {
    match Run::load(dir, None) {
        Ok(run) => summary(&run),
        Err(e) => format!("\n(no summary: {e})\n"),
    }
}

/// The end-of-run summary of `run`.
pub fn summary(run: &Run) -> String {
    // Writing to a String cannot fail, so the fmt::Results below are ignored.
    let mut s = String::new();
    let found = checks::checks(run);
    let _ = writeln!(s, "\n{}", bottom_line::TITLE);
    for sentence in bottom_line::sentences(run, &found) {
        s.push_str(&wrap(&plain(&sentence), "  - ", "    "));
    }
    if !found.is_empty() {
        let _ = writeln!(s, "\nself-checks");
        for c in &found {
            s.push_str(&wrap(&plain(&Check::line(c)), "  - ", "    "));
        }
    }
    for file in REGISTRY {
        file.terminal(run, &mut s);
    }
    let notes: Vec<String> = REGISTRY.iter().flat_map(|f| f.error_notes(run)).collect();
    if !notes.is_empty() {
        let _ = writeln!(
            s,
            "\nfailures (counted in the results; tokens were refused, never accepted):"
        );
        for n in notes {
            let _ = writeln!(s, "  {n}");
        }
    }
    s
}

/// Text without the report's inline marks (`` ` `` and `**`).
fn plain(text: &str) -> String {
    text.replace("**", "").replace('`', "")
}

/// `text` wrapped at about 100 columns, the first line after `first`, the others after
/// `rest`.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    const WIDTH: usize = 100;
    let mut out = String::from(first);
    let mut col = first.chars().count();
    let mut start = true;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if !start && col + 1 + w > WIDTH {
            out.push('\n');
            out.push_str(rest);
            col = rest.chars().count();
        } else if !start {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += w;
        start = false;
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_keep_every_word_and_their_indent() {
        let text = "word ".repeat(60);
        let w = wrap(&text, "  - ", "    ");
        assert!(w.starts_with("  - word"));
        assert!(w.lines().skip(1).all(|l| l.starts_with("    word")));
        assert!(w.lines().all(|l| l.chars().count() <= 100));
        assert_eq!(w.split_whitespace().filter(|x| *x == "word").count(), 60);
        assert_eq!(plain("`a` **b**"), "a b");
    }
}
