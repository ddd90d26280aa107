//! The pipeline of `tokenbench run` (and of each workload's subcommand): a [`Plan`] of
//! registered workloads with their resolved parameters goes in; a finished run folder,
//! its report and the end-of-run summary come out.
//!
//! ```text
//! Plan ─► check the stores ─► RunDir (INCOMPLETE) ─► meta.json
//!      ─► for each workload: run ─► [child process on the other crypto backend, merged]
//!                          ─► <name>.json
//!      ─► summary.csv ─► meta.json (finished) ─► report (charts, md, html) ─► latest
//! ```
//!
//! - [`child`]: the child process that measures the JWT rows on the other backend, fed
//!   the serialized settings and parameters on its standard input.
//! - [`loadavg`]: the machine's load beside each workload, for `meta.json`.
//! - [`check`]: `tokenbench plan --check`, a plan compared with a site run at its scale.
//!
//! Nothing here prints: what a watcher should see goes through [`Progress::note`].

pub mod check;
pub mod child;
pub mod loadavg;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::clock::{Clock, SystemClock};
use crate::crypto::CryptoBackend;
use crate::report::{self, ReportError};
use crate::results::schema::Contribution;
use crate::results::{Artifact, Meta, ResultsError, RunDir};
use crate::scheme::spec::StoreSpec;
use crate::store::StoreError;
use crate::units::{rfc3339, utc_timestamp};
use crate::workload::{Outcome, Progress, Registered, Settings, WorkloadError, summary_csv};

/// Why a run stopped before it finished. A run that stops leaves its `INCOMPLETE` marker
/// and never moves `latest`.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The selection leaves nothing to measure.
    #[error("no scheme selected: --schemes, --stores and --algs leave nothing to run")]
    NothingSelected,
    /// A store server did not answer before anything was measured.
    #[error("--store {url}: {source}")]
    Unreachable {
        /// The store, its password redacted.
        url: String,
        /// Why it did not answer.
        source: StoreError,
    },
    /// The run folder could not be created.
    #[error("creating a run folder: {0}")]
    CreateDir(ResultsError),
    /// A file of the run folder could not be written.
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// A workload failed.
    #[error("{workload}: {source}")]
    Workload {
        /// The workload.
        workload: &'static str,
        /// What went wrong.
        source: WorkloadError,
    },
    /// The child process for the other crypto backend failed.
    #[error("the {backend} child process for {workload} failed: {why}")]
    Child {
        /// The workload.
        workload: &'static str,
        /// The child's backend.
        backend: CryptoBackend,
        /// What went wrong.
        why: String,
    },
    /// Results could not be serialized (not expected: every field is plain data).
    #[error("{workload}: cannot serialize the results: {source}")]
    Serialize {
        /// The workload.
        workload: &'static str,
        /// The serializer's error.
        source: serde_json::Error,
    },
}

/// One workload of a run and its resolved parameters.
#[derive(Clone)]
pub struct Step {
    /// The workload.
    pub workload: &'static dyn Registered,
    /// Its parameters (as [`Registered::params`] resolved them).
    pub params: serde_json::Value,
}

/// Everything a run needs.
#[derive(Clone)]
pub struct Plan {
    /// What every workload shares.
    pub settings: Settings,
    /// The workloads, in run order.
    pub steps: Vec<Step>,
    /// The folder that receives one sub-folder per run.
    pub out: PathBuf,
    /// Appended to the run folder's name.
    pub label: Option<String>,
    /// The command line, recorded (redacted) in `meta.json`.
    pub command_line: Vec<String>,
    /// Also measure the JWT rows of per-backend workloads on the other crypto backend.
    pub other_backend: bool,
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    /// The run folder, complete and pointed at by `latest`.
    pub dir: RunDir,
    /// The end-of-run summary, as the report layer renders it for a terminal.
    pub summary: String,
    /// The report's files, or why it could not be built (the measurements are saved and
    /// `tokenbench report DIR` retries).
    pub report: Result<Vec<PathBuf>, ReportError>,
}

/// The other crypto backend.
pub fn other_backend(b: CryptoBackend) -> CryptoBackend {
    match b {
        CryptoBackend::AwsLc => CryptoBackend::RustCrypto,
        CryptoBackend::RustCrypto => CryptoBackend::AwsLc,
    }
}

/// `settings` as `meta.json` records them: store URLs without passwords, whichever store.
fn recorded(settings: &Settings) -> Option<serde_json::Value> {
    let mut shown = settings.clone();
    shown.stores = shown
        .stores
        .iter()
        .map(StoreSpec::without_password)
        .collect();
    serde_json::to_value(shown).ok()
}

/// Time a store's server has to answer [`check_stores`]'s ping.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Fails when the server of a networked store of `settings` does not answer: an error now,
/// not after minutes of measuring.
pub fn check_stores(settings: &Settings) -> Result<(), RunError> {
    for store in &settings.stores {
        let unreachable = |source| RunError::Unreachable {
            url: store.redacted(),
            source,
        };
        if let Some(probe) = store.probe().map_err(unreachable)? {
            probe.ping(CHECK_TIMEOUT).map_err(unreachable)?;
        }
    }
    Ok(())
}

/// Runs `plan`: measures, writes the run folder, builds the report. `progress` is given
/// to every workload and told what happens (the folder, each file written).
pub fn execute(plan: &Plan, progress: &dyn Progress) -> Result<Finished, RunError> {
    let settings = &plan.settings;
    if settings.schemes().is_empty() {
        return Err(RunError::NothingSelected);
    }
    check_stores(settings)?;
    let started = SystemClock.now_secs();
    let dir = RunDir::create(&plan.out, &utc_timestamp(started), plan.label.as_deref())
        .map_err(RunError::CreateDir)?;
    let mut meta = Meta::collect(
        plan.command_line.clone(),
        rfc3339(started).unwrap_or_else(|| started.to_string()),
        settings.quick,
        settings.seed,
    );
    meta.settings = recorded(settings);
    meta.params = plan
        .steps
        .iter()
        .map(|s| (s.workload.name().to_owned(), s.params.clone()))
        .collect::<BTreeMap<_, _>>();
    dir.write_json(&Artifact::Meta, &meta)?;
    progress.note(&format!("writing {}", dir.root().display()));
    if cfg!(debug_assertions) {
        progress.note("warning: debug build, figures are not representative (use --release)");
    }

    let t0 = Instant::now();
    let mut rows = Vec::new();
    for step in &plan.steps {
        let name = step.workload.name();
        let watch = loadavg::Watch::start(name);
        let mut outcome = step
            .workload
            .run(settings, &step.params, progress)
            .map_err(|source| RunError::Workload {
                workload: name,
                source,
            })?;
        if plan.other_backend
            && step.workload.per_backend()
            && settings
                .schemes()
                .iter()
                .any(|s| s.capabilities().per_crypto_backend)
        {
            let backend = other_backend(settings.backend);
            progress.note(&format!("{name}: JWT rows on {backend} (child process)"));
            let theirs = child::run(step, settings, backend)?;
            outcome.merge(theirs).map_err(|why| RunError::Child {
                workload: name,
                backend,
                why: why.to_owned(),
            })?;
        }
        meta.load.extend(watch.finish());
        let path = write_outcome(&dir, name, outcome.as_ref())?;
        progress.note(&format!(
            "{name} done ({:.0?} so far): {}",
            t0.elapsed(),
            path.display()
        ));
        rows.extend(outcome.summary_rows());
        for c in outcome.contributions() {
            let path = contribute(&dir, &c)?;
            progress.note(&format!("{name}: {} in {}", c.member, path.display()));
            rows.extend(c.rows);
        }
    }
    dir.write_bytes(&Artifact::SummaryCsv, summary_csv(&rows).as_bytes())?;
    let finished = SystemClock.now_secs();
    meta.finished_utc = Some(rfc3339(finished).unwrap_or_else(|| finished.to_string()));
    dir.write_json(&Artifact::Meta, &meta)?;
    // The measurements are complete and on disk whatever happens to the report, which can
    // be rebuilt from them with `tokenbench report DIR`.
    let summary = report::terminal::summary_of(&dir);
    let report = report::write_report(&dir);
    dir.finish()?;
    Ok(Finished {
        dir,
        summary,
        report,
    })
}

/// Writes one workload's results file.
fn write_outcome(
    dir: &RunDir,
    name: &'static str,
    outcome: &dyn Outcome,
) -> Result<PathBuf, RunError> {
    let mut json = outcome.to_json().map_err(|source| RunError::Serialize {
        workload: name,
        source,
    })?;
    json.push(b'\n');
    Ok(dir.write_bytes(&Artifact::Workload(name), &json)?)
}

/// Sets member `c.member` of `<c.file>.json` in `dir` to `c.value`, creating the file from
/// `c.empty` when the run has none yet; returns its path.
fn contribute(dir: &RunDir, c: &Contribution) -> Result<PathBuf, RunError> {
    let artifact = Artifact::Workload(c.file);
    let mut json: serde_json::Value = if dir.path(&artifact).exists() {
        dir.read_json(&artifact)?
    } else {
        c.empty.clone()
    };
    match json.as_object_mut() {
        Some(obj) => {
            obj.insert(c.member.to_owned(), c.value.clone());
        }
        None => {
            return Err(RunError::Serialize {
                workload: c.file,
                source: serde::de::Error::custom("a results file is not a JSON object"),
            });
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&json).map_err(|source| RunError::Serialize {
        workload: c.file,
        source,
    })?;
    bytes.push(b'\n');
    Ok(dir.write_bytes(&artifact, &bytes)?)
}

/// The path of `dir`'s HTML report among `paths`, if it was written.
pub fn html_report(paths: &[PathBuf]) -> Option<&Path> {
    paths
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "html"))
        .map(PathBuf::as_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_json_records_no_password_of_any_store() {
        let mut settings = Settings::defaults(true);
        settings.stores = StoreSpec::parse_list(
            "memory,redis://:s3cr3t1@127.0.0.1:1/,postgres://alice:s3cr3t2@127.0.0.1:1/db",
        )
        .unwrap();
        let text = recorded(&settings).unwrap().to_string();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(
            text.contains("postgres://alice:***@127.0.0.1:1/db"),
            "{text}"
        );
        // Nothing answers on port 1: the error names the store without its password.
        let err = check_stores(&settings).unwrap_err().to_string();
        assert!(
            err.starts_with("--store redis://:***@127.0.0.1:1/"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t"), "{err}");
        settings.stores.remove(1);
        let err = check_stores(&settings).unwrap_err().to_string();
        assert!(
            err.starts_with("--store postgres://alice:***@127.0.0.1:1/db"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_contribution_fills_its_member_of_another_results_file() {
        use crate::results::schema::ResultFile;
        use crate::results::schema::revoke::RevokeResults;
        let base = tempfile::tempdir().unwrap();
        let dir = RunDir::create(base.path(), "t", None).unwrap();
        let c = |value: serde_json::Value| Contribution {
            file: RevokeResults::FILE,
            member: "end_to_end",
            value,
            empty: serde_json::to_value(RevokeResults::empty(900.0)).unwrap(),
            rows: Vec::new(),
        };
        // No revoke.json yet: made from the empty file, and readable as the schema.
        contribute(&dir, &c(serde_json::json!([]))).unwrap();
        let made: RevokeResults = dir.read_json(&Artifact::Workload("revoke")).unwrap();
        assert!(made.strategies.is_empty() && made.end_to_end.is_empty());
        // An existing file keeps its own members; only the contributed one changes.
        let mut with_strategies: serde_json::Value =
            dir.read_json(&Artifact::Workload("revoke")).unwrap();
        with_strategies["validators"] = serde_json::json!(4);
        dir.write_json(&Artifact::Workload("revoke"), &with_strategies)
            .unwrap();
        contribute(&dir, &c(serde_json::json!(["x"]))).unwrap();
        let after: serde_json::Value = dir.read_json(&Artifact::Workload("revoke")).unwrap();
        assert_eq!(after["validators"], 4);
        assert_eq!(after["end_to_end"], serde_json::json!(["x"]));
    }
}
