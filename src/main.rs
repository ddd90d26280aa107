//! The `tokenbench` binary: parse, run, map errors to an exit status.

use std::io::Write;
use std::process::ExitCode;

/// Counts heap bytes for the size workload (switched on only while it measures).
#[global_allocator]
static ALLOCATOR: tokenbench::alloc::CountingAllocator = tokenbench::alloc::CountingAllocator;

fn main() -> ExitCode {
    match tokenbench::cli::main() {
        Ok(code) => code,
        Err(e) => {
            // Not `eprintln!`, which panics when stderr is closed.
            let _ = writeln!(std::io::stderr(), "tokenbench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
