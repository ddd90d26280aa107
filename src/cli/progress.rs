//! Progress on the terminal: a bar per workload phase on a terminal, one line per phase
//! otherwise, and the run's notes (folder, files written) as `tokenbench: ...` lines.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokenbench::workload::Progress;

/// A progress bar on a terminal; one line per phase otherwise.
pub(crate) struct Bar {
    bar: ProgressBar,
    terminal: bool,
}

impl Bar {
    pub(crate) fn new() -> Bar {
        let terminal = std::io::stderr().is_terminal();
        let bar = if terminal {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>9} [{bar:30}] {pos}/{len} {elapsed:>4} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Bar { bar, terminal }
    }
}

impl Progress for Bar {
    fn start(&self, phase: &str, total: u64) {
        self.bar.reset();
        self.bar.set_prefix(phase.to_owned());
        self.bar.set_length(total);
        if !self.terminal {
            say!("tokenbench: {phase}: {total} steps");
        }
    }

    fn step(&self, what: &str) {
        self.bar.set_message(what.to_owned());
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn note(&self, line: &str) {
        self.bar.suspend(|| say!("tokenbench: {line}"));
    }
}
