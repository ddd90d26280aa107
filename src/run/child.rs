//! The child process that measures a workload's JWT rows on the other crypto backend
//! (`jsonwebtoken`'s provider is process-wide). The parent writes a [`Job`] (the workload's
//! name, the settings and its parameters, serialized) to the child's standard input; the
//! child, `tokenbench` started with the hidden subcommand [`SUBCOMMAND`], runs it and
//! writes the results file to its standard output. No option is spelled twice.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::{RunError, Step};
use crate::crypto::{self, CryptoBackend};
use crate::scheme::spec::Family;
use crate::workload::{NoProgress, Outcome, Settings, registered};

/// The hidden subcommand that makes `tokenbench` a child: `tokenbench __child`.
pub const SUBCOMMAND: &str = "__child";

/// What a child measures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// The workload's name.
    pub workload: String,
    /// The settings, with the child's backend and JWTs only.
    pub settings: Settings,
    /// The workload's parameters.
    pub params: serde_json::Value,
}

/// Runs `step`'s JWT rows in a child process on `backend` and returns its results.
pub fn run(
    step: &Step,
    settings: &Settings,
    backend: CryptoBackend,
) -> Result<Box<dyn Outcome>, RunError> {
    let workload = step.workload.name();
    let fail = |why: String| RunError::Child {
        workload,
        backend,
        why,
    };
    let job = Job {
        workload: workload.to_owned(),
        settings: Settings {
            families: vec![Family::Jwt],
            backend,
            ..settings.clone()
        },
        params: step.params.clone(),
    };
    let input =
        serde_json::to_vec(&job).map_err(|e| fail(format!("cannot serialize the job: {e}")))?;
    let exe =
        std::env::current_exe().map_err(|e| fail(format!("locating this executable: {e}")))?;
    let mut child = Command::new(exe)
        .arg(SUBCOMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(format!("cannot start it: {e}")))?;
    // The job is small: written whole before the output is read, it cannot deadlock.
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(&input)
            .map_err(|e| fail(format!("cannot send the job: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("waiting for it: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!("it exited with {}", out.status)));
    }
    step.workload
        .outcome_from_json(&out.stdout)
        .map_err(|e| fail(format!("its results are not {workload} results: {e}")))
}

/// Why a child could not do its job (it says so on stderr and exits non-zero).
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// The job on standard input is not a job.
    #[error("not a job: {0}")]
    Job(String),
    /// The job names no registered workload.
    #[error("unknown workload {0:?}")]
    Unknown(String),
    /// The backend could not be installed in this process.
    #[error(transparent)]
    Backend(#[from] crypto::BackendAlreadySet),
    /// The workload failed.
    #[error(transparent)]
    Workload(#[from] crate::workload::WorkloadError),
    /// The results could not be written.
    #[error("writing the results: {0}")]
    Write(String),
}

/// The child's side: reads a [`Job`] from `input`, runs it, writes its results to `output`.
pub fn serve(mut input: impl Read, mut output: impl Write) -> Result<(), ChildError> {
    let mut text = Vec::new();
    input
        .read_to_end(&mut text)
        .map_err(|e| ChildError::Job(e.to_string()))?;
    let job: Job = serde_json::from_slice(&text).map_err(|e| ChildError::Job(e.to_string()))?;
    let workload =
        registered(&job.workload).ok_or_else(|| ChildError::Unknown(job.workload.clone()))?;
    crypto::install(job.settings.backend)?;
    let outcome = workload.run(&job.settings, &job.params, &NoProgress)?;
    let json = outcome
        .to_json()
        .map_err(|e| ChildError::Write(e.to_string()))?;
    output
        .write_all(&json)
        .and_then(|()| output.flush())
        .map_err(|e| ChildError::Write(e.to_string()))
}
