//! Prints the header bytes per request per HTTP/2 client (the wire rows of issue 18, item
//! 4) as a markdown table, measured now against `tokenbench serve` children, and what row 1
//! and the bottom line make of them, until the browser workload runs them as part of
//! `tokenbench run`:
//!
//! ```sh
//! cargo build --release && cargo run --release --example wire_bytes -- target/release/tokenbench
//! ```
//!
//! Optional second argument: requests per sequence (default 3). nghttp2's rows need
//! `nghttp` on PATH (`apt-get install nghttp2-client`).

use std::path::PathBuf;
use std::process::ExitCode;

use tokenbench::claims::ClaimSet;
use tokenbench::report::sections::bottom_line;
use tokenbench::report::sections::wire::{HEAD, table};
use tokenbench::report::verdicts::bandwidth;
use tokenbench::results::schema::wire::disagreements;
use tokenbench::scheme::spec::{SchemeSpec, StoreSpec};
use tokenbench::scheme::{JwtAlg, PasetoPurpose};
use tokenbench::workload::browser::wire;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(exe) = args.next().map(PathBuf::from) else {
        eprintln!("usage: wire_bytes PATH/TO/tokenbench [REQUESTS]");
        return ExitCode::from(2);
    };
    let requests = match args.next().map(|n| n.parse::<usize>()) {
        None => wire::DEFAULT_REQUESTS,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("wire_bytes: REQUESTS: {e}");
            return ExitCode::from(2);
        }
    };
    let schemes = [
        SchemeSpec::Session(StoreSpec::Memory),
        SchemeSpec::Jwt(JwtAlg::HS256),
        SchemeSpec::Jwt(JwtAlg::RS256),
        SchemeSpec::Jwt(JwtAlg::ES256),
        SchemeSpec::Paseto(PasetoPurpose::Local),
    ];
    let rows = match wire::measure(&exe, &schemes, &ClaimSet::ALL, requests) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wire_bytes: {e}");
            return ExitCode::from(1);
        }
    };
    println!("| {} |", HEAD.join(" | "));
    println!("|{}", "---|".repeat(HEAD.len()));
    for r in table(&rows) {
        println!("| {} |", r.join(" | "));
    }
    for note in wire::missing_clients() {
        println!("\nnote: {note}");
    }
    // What the report says of them: row 1 from these rows alone, and the bottom line.
    let j = bandwidth::judge_with_wire(None, None, Some(&rows));
    println!(
        "\nRow 1 (wire rows alone): {}: {}",
        j.verdict.label(),
        j.because
    );
    for s in bottom_line::wire(&rows, true) {
        println!("\nBottom line: {s}");
    }
    let bad = disagreements(&rows);
    if !bad.is_empty() {
        eprintln!(
            "wire_bytes: {} requests where the client's count differs from the server's",
            bad.len()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
