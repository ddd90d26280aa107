//! `tokenbench load`: one fixed-rate step (`--rate`) or the search for the highest rate
//! meeting `--p99`; a table on stdout, or JSON with `--json`.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use tokenbench::load::args::LoadArgs;
use tokenbench::load::search::{SearchResult, SearchStep, passes, search};
use tokenbench::load::{Generator, LoadConfig, LoadError, StepResult};

/// Version of the `--json` output.
pub const LOAD_SCHEMA_VERSION: u32 = 1;

/// What `tokenbench load --json` prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadReport {
    /// [`LOAD_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The generator's configuration.
    pub config: LoadConfig,
    /// The step of a fixed-rate run.
    pub step: Option<StepResult>,
    /// The search, when no fixed rate was given.
    pub search: Option<SearchResult>,
}

/// Runs `tokenbench load`. Exit status 2 for bad options (a non-loopback target among
/// them), 1 when the target cannot be reached.
pub fn load(args: &LoadArgs) -> anyhow::Result<ExitCode> {
    let (cfg, params) = match args.config().and_then(|c| Ok((c, args.search()?))) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("tokenbench: error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut g = match Generator::new(cfg.clone()) {
        Ok(g) => g,
        Err(e @ LoadError::Config(_)) => {
            eprintln!("tokenbench: error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    let json = args.json;
    if !json {
        println!("{}", header());
    }
    let report = match args.rate {
        Some(rate) => {
            let step = g.run_step(rate, args.warmup, args.duration)?;
            let pass = passes(&step, &params);
            if !json {
                println!(
                    "{}",
                    row(&SearchStep {
                        step: step.clone(),
                        pass
                    })
                );
            }
            LoadReport {
                schema_version: LOAD_SCHEMA_VERSION,
                config: cfg,
                step: Some(step),
                search: None,
            }
        }
        None => {
            let r = search(&mut g, &params, |s| {
                if !json {
                    println!("{}", row(s));
                }
            })?;
            if !json {
                match r.max_rate {
                    Some(m) => println!(
                        "highest rate with p99 <= {:.1} ms: {m:.0} requests/s (limited by {:?})",
                        r.p99_objective_ns / 1e6,
                        r.limited_by
                    ),
                    None => println!("no rate tried met the objective"),
                }
            }
            LoadReport {
                schema_version: LOAD_SCHEMA_VERSION,
                config: cfg,
                step: None,
                search: Some(r),
            }
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn header() -> String {
    format!(
        "{:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>6} {:>6} {:>5}  note",
        "offered/s",
        "answers/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "errors",
        "lag99 ms",
        "late",
        "cores",
        "pass"
    )
}

fn row(s: &SearchStep) -> String {
    let st = &s.step;
    format!(
        "{:>9.0} {:>9.0} {:>9.3} {:>9.3} {:>9.3} {:>7} {:>9.3} {:>5.1}% {:>6.2} {:>5}  {}",
        st.offered_rate,
        st.achieved_rate,
        st.latency.median_ns / 1e6,
        st.latency.p99_ns / 1e6,
        st.latency.p999_ns / 1e6,
        st.errors,
        st.lag.p99_ns / 1e6,
        st.late_share * 100.0,
        st.generator_cores,
        if s.pass { "yes" } else { "no" },
        st.invalid_reason.as_deref().unwrap_or("")
    )
}
