//! What the binary writes: [`Output`] for standard output (a closed pipe is a normal end)
//! and [`say!`] for standard error (never panics).

use std::io::Write;

use anyhow::Context;

/// `eprintln!` that never panics: a closed or failing stderr (`2>&1 | head`) loses the
/// message, nothing else.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// What a subcommand prints on standard output. A reader that went away
/// (`tokenbench size | head -2`) is a normal end, not an error: from the first
/// `BrokenPipe` on, output is dropped quietly and the command carries on (a run still
/// finishes its folder) with its exit status unchanged. Any other write error is returned.
/// `print!` would panic instead (exit status 101).
pub(crate) struct Output<W: Write> {
    inner: W,
    closed: bool,
}

impl Output<std::io::Stdout> {
    pub(crate) fn stdout() -> Self {
        Output::new(std::io::stdout())
    }
}

impl<W: Write> Output<W> {
    pub(crate) fn new(inner: W) -> Self {
        Output {
            inner,
            closed: false,
        }
    }

    /// True once the reader has gone away: nothing more will be written.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Writes `text` (and flushes it, so a closed pipe shows at once).
    pub(crate) fn print(&mut self, text: &str) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        let written = self
            .inner
            .write_all(text.as_bytes())
            .and_then(|()| self.inner.flush());
        self.settle(written)
    }

    /// [`print`](Self::print) of `text` and a newline.
    pub(crate) fn line(&mut self, text: impl std::fmt::Display) -> anyhow::Result<()> {
        self.print(&format!("{text}\n"))
    }

    /// Writes `text` without flushing (for many short lines through a buffer).
    pub(crate) fn buffered(&mut self, text: &str) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        let written = self.inner.write_all(text.as_bytes());
        self.settle(written)
    }

    fn settle(&mut self, written: std::io::Result<()>) -> anyhow::Result<()> {
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other.context("writing to standard output"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every write with `kind` after taking `room` bytes.
    struct Failing {
        room: usize,
        kind: std::io::ErrorKind,
        taken: Vec<u8>,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(self.kind.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.taken.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_broken_pipe_ends_output_quietly_and_other_write_errors_are_errors() {
        let failing = |kind| Failing {
            room: 4,
            kind,
            taken: Vec::new(),
        };
        let mut out = Output::new(failing(std::io::ErrorKind::BrokenPipe));
        out.line("abc").unwrap();
        assert!(!out.is_closed());
        out.print("defgh").unwrap();
        assert!(out.is_closed());
        // Nothing more is attempted once the reader is gone.
        out.buffered("ijk").unwrap();
        out.line("lmn").unwrap();
        assert_eq!(out.inner.taken, b"abc\n");

        let mut out = Output::new(failing(std::io::ErrorKind::StorageFull));
        out.print("abcd").unwrap();
        let err = out.line("e").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("writing to standard output: "),
            "{err:#}"
        );
        assert!(!out.is_closed());
    }
}
