//! Results on disk: one folder per run, every path built by [`RunDir::path`], every write
//! atomic (temporary file in the same folder, then rename).
//!
//! ```text
//! results/
//!   2026-11-26T15-04-05Z-mylabel/
//!     INCOMPLETE        present until the run finished; a killed run keeps it
//!     meta.json         machine, toolchain, command line
//!     size.json  validate.json  revoke.json  scale.json
//!     summary.csv
//!   latest -> 2026-11-26T15-04-05Z-mylabel   updated last, only for complete runs
//! ```

pub mod schema;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use schema::meta::{self, Meta};

/// Version of the run folder's layout and of `meta.json`; bumped on any change of them.
/// Each results file carries its own version too ([`schema::ResultFile::VERSION`]).
///
/// - 2: `validate.json` keeps each measurement's wall samples as a histogram
///   (`wall_histogram`) instead of the raw list (`wall_samples_ns`), 20 MB less per full run.
/// - 3: `meta.json` records the resolved settings and each workload's parameters; every
///   results file has a `schema_version` of its own.
/// - 4: `meta.json` records the machine's load while each workload ran (`load`).
pub const SCHEMA_VERSION: u32 = 4;

/// Oldest format this version still reads (version 1 files lack only the histograms).
pub const OLDEST_READABLE_SCHEMA: u32 = 1;

/// A file (or folder) belonging to a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// `meta.json`.
    Meta,
    /// `<workload>.json`, named by the workload (its results file's
    /// [`ResultFile::FILE`](schema::ResultFile::FILE)).
    Workload(&'static str),
    /// `summary.csv`.
    SummaryCsv,
    /// Marker present while the run is unfinished.
    IncompleteMarker,
    /// `charts/` folder.
    ChartsDir,
    /// `charts/<name>.<ext>`.
    Chart {
        /// Chart name without extension.
        name: String,
        /// `svg` or `png`.
        ext: &'static str,
    },
    /// `report.md`.
    ReportMd,
    /// `report.html`.
    ReportHtml,
}

/// Errors reading or writing results. Each message is whole (the path and what went
/// wrong), so the I/O error is not also a `source()`: a chain of contexts (anyhow's `{:#}`)
/// never says it twice.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// A file exists but does not hold what it should.
    #[error("{path}: not a valid tokenbench results file: {reason}")]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ResultsError + '_ {
    move |error| ResultsError::Io {
        path: path.to_owned(),
        error,
    }
}

/// One run's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// An existing run folder (for reading).
    pub fn open(root: impl Into<PathBuf>) -> Result<RunDir, ResultsError> {
        let root = root.into();
        if !root.is_dir() {
            let error = if root.exists() {
                io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "not a folder, so not a run folder",
                )
            } else {
                io::Error::new(io::ErrorKind::NotFound, "no such run folder")
            };
            return Err(ResultsError::Io { path: root, error });
        }
        Ok(RunDir { root })
    }

    /// True when the folder holds a `meta.json`, as every run folder does.
    pub fn has_meta(&self) -> bool {
        self.path(&Artifact::Meta).is_file()
    }

    /// Names of the run folders directly inside `base` (those holding a `meta.json`),
    /// sorted, `latest` left out. A results root (what `--out` names) holds these.
    pub fn runs_in(base: &Path) -> Vec<String> {
        let mut runs: Vec<String> = fs::read_dir(base)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.file_name() != "latest")
            .filter(|e| RunDir { root: e.path() }.has_meta())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        runs.sort();
        runs
    }

    /// Creates `<base>/<timestamp>[-label]/`, marked incomplete until [`RunDir::finish`].
    pub fn create(
        base: &Path,
        timestamp: &str,
        label: Option<&str>,
    ) -> Result<RunDir, ResultsError> {
        let name = match label {
            Some(l) => format!("{timestamp}-{}", sanitize_label(l)),
            None => timestamp.to_owned(),
        };
        fs::create_dir_all(base).map_err(io_err(base))?;
        // Never reuse a folder: add a counter when two runs start in the same second.
        let mut root = base.join(&name);
        let mut n = 1;
        while root.exists() {
            n += 1;
            root = base.join(format!("{name}.{n}"));
        }
        fs::create_dir(&root).map_err(io_err(&root))?;
        let dir = RunDir { root };
        dir.write_bytes(&Artifact::IncompleteMarker, b"this run has not finished\n")?;
        Ok(dir)
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The one place that turns an artifact into a path.
    pub fn path(&self, artifact: &Artifact) -> PathBuf {
        match artifact {
            Artifact::Meta => self.root.join("meta.json"),
            Artifact::Workload(name) => self.root.join(format!("{name}.json")),
            Artifact::SummaryCsv => self.root.join("summary.csv"),
            Artifact::IncompleteMarker => self.root.join("INCOMPLETE"),
            Artifact::ChartsDir => self.root.join("charts"),
            Artifact::Chart { name, ext } => self.root.join("charts").join(format!("{name}.{ext}")),
            Artifact::ReportMd => self.root.join("report.md"),
            Artifact::ReportHtml => self.root.join("report.html"),
        }
    }

    /// True while the run has not finished (or was killed).
    pub fn is_incomplete(&self) -> bool {
        self.path(&Artifact::IncompleteMarker).exists()
    }

    /// Writes `bytes` to `artifact` atomically.
    pub fn write_bytes(&self, artifact: &Artifact, bytes: &[u8]) -> Result<PathBuf, ResultsError> {
        let path = self.path(artifact);
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// Writes `value` as pretty JSON to `artifact` atomically.
    pub fn write_json<T: Serialize>(
        &self,
        artifact: &Artifact,
        value: &T,
    ) -> Result<PathBuf, ResultsError> {
        let path = self.path(artifact);
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| ResultsError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        write_atomic(&path, &bytes)?;
        Ok(path)
    }

    /// Reads `artifact` as JSON of type `T`; a missing or malformed file names itself.
    pub fn read_json<T: DeserializeOwned>(&self, artifact: &Artifact) -> Result<T, ResultsError> {
        let path = self.path(artifact);
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        serde_json::from_slice(&bytes).map_err(|e| ResultsError::Corrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// Marks the run complete and points `<base>/latest` at it (last step of a run).
    pub fn finish(&self) -> Result<(), ResultsError> {
        let marker = self.path(&Artifact::IncompleteMarker);
        match fs::remove_file(&marker) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&marker)(e)),
        }
        if let (Some(base), Some(name)) = (self.root.parent(), self.root.file_name()) {
            update_latest(base, Path::new(name))?;
        }
        Ok(())
    }
}

/// `<base>/latest`: a symbolic link replaced atomically (new link, then rename over).
fn update_latest(base: &Path, target: &Path) -> Result<(), ResultsError> {
    let latest = base.join("latest");
    let tmp = base.join(format!(".latest.{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, &tmp).map_err(io_err(&tmp))?;
    #[cfg(not(unix))]
    fs::write(&tmp, target.to_string_lossy().as_bytes()).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &latest).map_err(io_err(&latest))
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// readers see the old content or the new, never a torn file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ResultsError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    // Results are meant to be read and shared (served, attached to a ticket): 0644, not
    // the 0600 a temporary file starts with. They hold no secret (URLs are redacted).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(io_err(path))?;
    }
    tmp.write_all(bytes).map_err(io_err(path))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| io_err(path)(e.error))?;
    Ok(())
}

fn sanitize_label(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_folder_lifecycle() {
        let base = tempfile::tempdir().unwrap();
        let a = RunDir::create(base.path(), "2026-01-01T00-00-00Z", Some("my run/1")).unwrap();
        assert!(a.root().ends_with("2026-01-01T00-00-00Z-my_run_1"));
        assert!(a.is_incomplete());
        a.write_json(&Artifact::Meta, &serde_json::json!({"x": 1}))
            .unwrap();
        let v: serde_json::Value = a.read_json(&Artifact::Meta).unwrap();
        assert_eq!(v["x"], 1);
        assert!(!base.path().join("latest").exists());
        a.finish().unwrap();
        assert!(!a.is_incomplete());
        assert_eq!(
            fs::canonicalize(base.path().join("latest")).unwrap(),
            fs::canonicalize(a.root()).unwrap()
        );
        // Same second, same label: a new folder, never the old one.
        let b = RunDir::create(base.path(), "2026-01-01T00-00-00Z", Some("my run/1")).unwrap();
        assert_ne!(a.root(), b.root());
        // A corrupt file is named in the error.
        fs::write(b.path(&Artifact::Meta), b"{ not json").unwrap();
        let err = b
            .read_json::<serde_json::Value>(&Artifact::Meta)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("meta.json") && err.contains("not a valid"),
            "{err}"
        );
        // No temporary files are left behind.
        let leftovers: Vec<_> = fs::read_dir(a.root())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
