//! The `tokenbench` binary: parse, run, map errors to an exit status. The command line
//! lives in [`cli`], in the binary only: the library's API knows nothing of anyhow.

use std::process::ExitCode;

mod cli;

/// Counts heap bytes for the size workload (switched on only while it measures).
#[global_allocator]
static ALLOCATOR: tokenbench::alloc::CountingAllocator = tokenbench::alloc::CountingAllocator;

fn main() -> ExitCode {
    match cli::main() {
        Ok(code) => code,
        Err(e) => {
            // `say!` lives in `cli`; stderr may be closed too, which must not panic.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "tokenbench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
