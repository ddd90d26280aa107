//! The command line as a user meets it: help, bad input (exit 2, never a panic), tiny real
//! runs, and a run killed midway.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;
use predicates::prelude::*;
use tokenbench::results::schema::ResultFile;
use tokenbench::results::schema::size::SizeResults;
use tokenbench::results::{Artifact, Meta, RunDir};
use tokenbench::workload::REGISTRY;

fn tb() -> Command {
    Command::cargo_bin("tokenbench").unwrap()
}

/// Flags that make `size` finish in seconds, sessions only (`size` takes no flag of the
/// other workloads).
const SIZE_TINY: [&str; 6] = [
    "--quick",
    "--schemes",
    "session",
    "--stores",
    "memory",
    "--single-backend",
];

/// Flags that make a full `run` finish in seconds, sessions only.
const TINY: [&str; 16] = [
    "--quick",
    "--schemes",
    "session",
    "--stores",
    "memory",
    "--threads",
    "1",
    "--sessions",
    "100",
    "--trials",
    "2",
    "--cache-ttl",
    "20ms",
    "--poll-interval",
    "20ms",
    "--single-backend",
];

#[test]
fn help_shows_examples() {
    tb().arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
    tb().args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--quick"));
}

#[test]
fn bad_values_exit_2_with_a_message_and_no_panic() {
    for args in [
        vec!["run", "--threads", "0"],
        vec!["run", "--threads", "two"],
        vec!["run", "--algs", "none"],
        vec!["run", "--schemes", "cookies"],
        vec!["run", "--cache-ttl", "5h"],
        vec!["run", "--sessions", "-1"],
        vec!["validate", "--crypto", "openssl"],
        vec!["frobnicate"],
        vec!["issue", "--scheme", "jwt", "--count", "0"],
        vec!["run", "--store", "ftp://example"],
        vec!["run", "--store", "redis://"],
    ] {
        tb().args(&args).assert().code(2).stderr(
            predicate::str::contains("error").and(predicate::str::contains("panicked").not()),
        );
    }
}

#[test]
fn runtime_errors_exit_1_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    // The output folder cannot be created under a regular file.
    let file = dir.path().join("file");
    fs::write(&file, b"x").unwrap();
    tb().args(["size", "--out"])
        .arg(&file)
        .args(SIZE_TINY)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("tokenbench: error")
                .and(predicate::str::contains("panicked").not()),
        );
    tb().args(["inspect", "abc", "--jwk"])
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing.json"));
}

#[test]
fn an_unreachable_redis_is_a_clear_error_within_seconds() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = tempfile::tempdir().unwrap();
    let start = Instant::now();
    tb().args(["validate", "--schemes", "session", "--store"])
        .arg(format!("redis://127.0.0.1:{port}/"))
        .arg("--out")
        .arg(base.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("redis").and(predicate::str::contains("panicked").not()));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    // Nothing was measured, so no run folder was left behind.
    assert_eq!(fs::read_dir(base.path()).unwrap().count(), 0);
}

#[test]
fn issue_prints_one_token_per_line() {
    let out = tb()
        .args(["issue", "--scheme", "session", "--count", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<_> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.len() == 22));
    let jwt = tb()
        .args([
            "issue", "--scheme", "jwt", "--alg", "ES256", "--claims", "large",
        ])
        .output()
        .unwrap();
    let token = String::from_utf8(jwt.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3);
    tb().args(["inspect", token.trim()])
        .assert()
        .success()
        .stdout(predicate::str::contains("ES256"));
}

fn only_run(base: &Path) -> RunDir {
    let runs: Vec<_> = fs::read_dir(base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("latest"))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    RunDir::open(&runs[0]).unwrap()
}

#[test]
fn a_tiny_run_writes_every_file_and_moves_latest() {
    let base = tempfile::tempdir().unwrap();
    tb().args(["run", "--label", "tiny", "--out"])
        .arg(base.path())
        .args(TINY)
        .assert()
        .success()
        .stdout(predicate::str::contains("results:"));
    let run = only_run(base.path());
    assert!(!run.is_incomplete());
    assert!(run.root().to_string_lossy().ends_with("-tiny"));
    let meta: Meta = run.read_json(&Artifact::Meta).unwrap();
    assert!(meta.quick && meta.finished_utc.is_some() && meta.cores >= 1);
    for w in REGISTRY {
        let v: serde_json::Value = run.read_json(&Artifact::Workload(w.name())).unwrap();
        assert!(v.is_object(), "{}", w.name());
        assert!(
            meta.params.contains_key(w.name()),
            "{}: parameters recorded",
            w.name()
        );
    }
    let size: SizeResults = run
        .read_json(&Artifact::Workload(SizeResults::FILE))
        .unwrap();
    // The binary installs the counting allocator: memory per session is measured.
    let mem = size
        .memory
        .iter()
        .find(|m| m.scheme == "session-memory")
        .expect("memory row");
    assert!(mem.bytes_per_entry > 100.0, "{mem:?}");
    let csv = fs::read_to_string(run.path(&Artifact::SummaryCsv)).unwrap();
    assert!(csv.starts_with("workload,scheme,backend,param,metric,value,unit\n"));
    assert!(csv.contains("validate,session-memory,"));
    assert_eq!(
        fs::canonicalize(base.path().join("latest")).unwrap(),
        fs::canonicalize(run.root()).unwrap()
    );
    // run builds the report; `report` rebuilds it from the files alone.
    assert!(run.path(&Artifact::ReportHtml).exists());
    let md = run.path(&Artifact::ReportMd);
    fs::remove_file(&md).unwrap();
    tb().arg("report")
        .arg(base.path().join("latest"))
        .assert()
        .success();
    assert!(md.exists());
}

#[test]
fn report_on_a_missing_or_corrupt_run_names_the_problem() {
    let base = tempfile::tempdir().unwrap();
    let nope = base.path().join("nope");
    tb().arg("report")
        .arg(&nope)
        .assert()
        .code(1)
        .stderr(format!(
            "tokenbench: error: {}: no such run folder\n",
            nope.display()
        ));
    let file = base.path().join("file");
    fs::write(&file, b"x").unwrap();
    tb().arg("report")
        .arg(&file)
        .assert()
        .code(1)
        .stderr(format!(
            "tokenbench: error: {}: not a folder, so not a run folder\n",
            file.display()
        ));
    let run = RunDir::create(base.path(), "2026-01-01T00-00-00Z", None).unwrap();
    fs::write(run.path(&Artifact::Meta), b"{ broken").unwrap();
    tb().arg("report").arg(run.root()).assert().code(1).stderr(
        predicate::str::contains("meta.json").and(predicate::str::contains("panicked").not()),
    );
}

#[test]
fn an_uncreatable_out_folder_is_named_once_with_the_os_error_once() {
    let base = tempfile::tempdir().unwrap();
    let file = base.path().join("file");
    fs::write(&file, b"x").unwrap();
    let mut outs = vec![file.clone(), file.join("sub")];
    if cfg!(target_os = "linux") {
        outs.push("/proc/nope".into());
    }
    for out in outs {
        // The same call, made here, gives the OS error the binary must show (once).
        let os_error = fs::create_dir_all(&out).unwrap_err();
        tb().args(["size", "--out"])
            .arg(&out)
            .args(SIZE_TINY)
            .assert()
            .code(1)
            .stderr(format!(
                "tokenbench: error: creating a run folder: {}: {os_error}\n",
                out.display()
            ));
    }
}

#[test]
fn report_on_a_results_root_follows_latest_or_names_the_runs() {
    let base = tempfile::tempdir().unwrap();
    tb().args(["size", "--out"])
        .arg(base.path())
        .args(SIZE_TINY)
        .assert()
        .success();
    let run = only_run(base.path());
    let name = run
        .root()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    // The run built its report; `report` on the results root must build it again.
    fs::remove_file(run.path(&Artifact::ReportMd)).unwrap();
    let latest = base.path().join("latest");
    tb().arg("report")
        .arg(base.path())
        .assert()
        .success()
        .stderr(format!(
            "tokenbench: {} holds run folders; reporting on its latest run, {} -> {name}\n",
            base.path().display(),
            latest.display()
        ));
    assert!(run.path(&Artifact::ReportMd).exists());

    // Without `latest`: which runs there are, and how to name one.
    fs::remove_file(&latest).unwrap();
    fs::create_dir(base.path().join("not-a-run")).unwrap();
    tb().arg("report")
        .arg(base.path())
        .assert()
        .code(1)
        .stderr(format!(
            "tokenbench: error: {base} holds run folders, not a run, and no latest: {name}; \
             name one, e.g. tokenbench report {base}/{name}\n",
            base = base.path().display()
        ));
}

#[test]
fn a_killed_run_leaves_earlier_runs_and_latest_intact() {
    let base = tempfile::tempdir().unwrap();
    tb().args(["size", "--out"])
        .arg(base.path())
        .args(SIZE_TINY)
        .assert()
        .success();
    let first = only_run(base.path());
    let first_size = fs::read(first.path(&Artifact::Workload(SizeResults::FILE))).unwrap();

    // A long run, killed once it has started writing.
    let mut child = tb()
        .args([
            "run",
            "--quick",
            "--label",
            "killed",
            "--single-backend",
            "--out",
        ])
        .arg(base.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let killed = loop {
        let started = fs::read_dir(base.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("-killed"));
        if let Some(p) = started.filter(|p| p.join("meta.json").exists()) {
            break p;
        }
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();

    let killed = RunDir::open(killed).unwrap();
    assert!(
        killed.is_incomplete(),
        "a killed run stays marked INCOMPLETE"
    );
    assert_eq!(
        fs::read(first.path(&Artifact::Workload(SizeResults::FILE))).unwrap(),
        first_size
    );
    assert_eq!(
        fs::canonicalize(base.path().join("latest")).unwrap(),
        fs::canonicalize(first.root()).unwrap(),
        "latest still points at the last complete run"
    );
    // No half-written files: everything present parses.
    for entry in fs::read_dir(killed.root()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            serde_json::from_slice::<serde_json::Value>(&fs::read(&p).unwrap()).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// No password in what the command line prints.

/// A password that must never be printed.
const PASSWORD: &str = "s3cr3tpw";

/// A Redis URL with [`PASSWORD`] on a port nothing listens on.
fn url_with_password(user: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("redis://{user}:{PASSWORD}@127.0.0.1:{port}/")
}

#[test]
fn an_unreachable_store_with_a_password_on_the_command_line_is_named_without_it() {
    let base = tempfile::tempdir().unwrap();
    let url = url_with_password("alice");
    for store in [url.clone(), format!("memory,{url}")] {
        let out = tb()
            .args(["validate", "--schemes", "session", "--store", &store])
            .arg("--out")
            .arg(base.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains(PASSWORD), "{stderr}");
        assert!(
            stderr.starts_with("tokenbench: error: --store redis://alice:***@127.0.0.1:"),
            "{stderr}"
        );
    }
}

#[test]
fn an_unreachable_store_from_tokenbench_redis_url_is_named_without_its_password() {
    let base = tempfile::tempdir().unwrap();
    let out = tb()
        .args(["validate", "--schemes", "session", "--store", "redis"])
        .arg("--out")
        .arg(base.path())
        .env("TOKENBENCH_REDIS_URL", url_with_password(""))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(
        stderr.starts_with("tokenbench: error: --store redis://:***@127.0.0.1:"),
        "{stderr}"
    );
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_run_on_a_password_protected_redis_prints_and_writes_no_password() {
    let Some(server) = crate::common::PrivateServer::start_with_password_or_skip(PASSWORD) else {
        return;
    };
    let url = server.url();
    assert!(url.contains(PASSWORD), "{url}");
    // The URL on the command line, then from TOKENBENCH_REDIS_URL (`--store redis`).
    for (store, env) in [(url.as_str(), None), ("redis", Some(url.as_str()))] {
        let base = tempfile::tempdir().unwrap();
        let mut cmd = tb();
        cmd.args(["size", "--out"])
            .arg(base.path())
            .args(SIZE_TINY)
            .args(["--store", store]);
        if let Some(url) = env {
            cmd.env("TOKENBENCH_REDIS_URL", url);
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stdout.contains("session-redis"), "{stdout}");
        assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
        let run = only_run(base.path());
        let meta: Meta = run.read_json(&Artifact::Meta).unwrap();
        let expected = if env.is_some() {
            "redis".to_owned()
        } else {
            url.replace(PASSWORD, "***")
        };
        assert_eq!(meta.command_line.last(), Some(&expected));
        // Nothing in the run folder (meta.json, results, report, charts) holds it.
        let files = files_under(run.root());
        assert!(files.len() > 5, "{files:?}");
        for file in files {
            let bytes = fs::read(&file).unwrap();
            assert!(
                !bytes
                    .windows(PASSWORD.len())
                    .any(|w| w == PASSWORD.as_bytes()),
                "{} holds the password",
                file.display()
            );
        }
    }
}

#[test]
fn a_store_value_refused_by_the_parser_is_echoed_without_its_password() {
    for store in [
        format!("redis+cluster://alice:{PASSWORD}@a:1,,b:2"),
        format!("ftp://alice:{PASSWORD}@a"),
        format!("memory,mem,redis://:{PASSWORD}@h"),
    ] {
        let out = tb().args(["run", "--store", &store]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(!stderr.contains(PASSWORD), "{stderr}");
        assert!(
            stderr.starts_with("error: invalid value '") && stderr.contains(":***@"),
            "{stderr}"
        );
    }
    let out = tb()
        .args(["issue", "--scheme", "session", "--redis-prefix", "p:"])
        .arg(format!("--store=ftp://{PASSWORD}@h"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
}

/// The shared PostgreSQL URL with a password: its own, or [`PASSWORD`] added (the test
/// server trusts loopback clients and ignores it); and that password.
fn postgres_url_with_password(url: &str) -> (String, String) {
    let config: postgres::Config = url.parse().expect("a PostgreSQL URL");
    if let Some(own) = config.get_password() {
        return (url.to_owned(), String::from_utf8_lossy(own).into_owned());
    }
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, host) = match rest.rsplit_once('@') {
        Some((user, host)) => (user.to_owned(), host),
        None => (tokenbench::store::POSTGRES_DEFAULT_USER.to_owned(), rest),
    };
    (
        format!("{scheme}://{user}:{PASSWORD}@{host}"),
        PASSWORD.to_owned(),
    )
}

#[test]
fn a_run_on_postgres_with_a_password_prints_and_writes_no_password() {
    let Some(url) = crate::common::skip::shared_postgres_url() else {
        return;
    };
    let (url, password) = postgres_url_with_password(&url);
    let base = tempfile::tempdir().unwrap();
    let out = tb()
        .args(["size", "--out"])
        .arg(base.path())
        .args(SIZE_TINY)
        .args(["--store", &url])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("session-postgres"), "{stdout}");
    assert!(!stdout.contains(&password) && !stderr.contains(&password));
    let run = only_run(base.path());
    let meta: Meta = run.read_json(&Artifact::Meta).unwrap();
    assert_eq!(
        meta.command_line.last(),
        Some(&url.replace(&format!(":{password}@"), ":***@"))
    );
    // Nothing in the run folder (meta.json, results, report, charts) holds it.
    let files = files_under(run.root());
    assert!(files.len() > 5, "{files:?}");
    for file in files {
        let bytes = fs::read(&file).unwrap();
        assert!(
            !bytes
                .windows(password.len())
                .any(|w| w == password.as_bytes()),
            "{} holds the password",
            file.display()
        );
    }
}

#[test]
fn an_unreachable_postgres_is_a_clear_error_without_its_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = tb()
        .args(["validate", "--schemes", "session", "--store"])
        .arg(format!(
            "memory,postgres://alice:{PASSWORD}@127.0.0.1:{port}/db"
        ))
        .arg("--out")
        .arg(base.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(
        stderr.starts_with("tokenbench: error: --store postgres://alice:***@127.0.0.1:"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(fs::read_dir(base.path()).unwrap().count(), 0);
    // Refused by the parser (exit 2): echoed without it too.
    let out = tb()
        .args(["run", "--store"])
        .arg(format!("postgres://alice:{PASSWORD}@h:notaport/db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(
        stderr.contains("postgres://alice:***@h:notaport/db"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// A closed standard output (`| head`) is a normal end.

/// Runs `tb() args` with a real pipe as stdout whose reading end is closed after `lines`
/// lines have been read; returns the exit status and stderr.
fn with_stdout_closed_after(args: &[&str], lines: usize) -> (std::process::ExitStatus, String) {
    use std::io::{BufRead, BufReader, Read};
    let mut child = tb()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..lines {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "{args:?}: too few lines"
        );
    }
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap(), stderr)
}

#[test]
fn a_closed_stdout_ends_every_printing_subcommand_with_status_0_and_no_panic() {
    let base = tempfile::tempdir().unwrap();
    let out = base.path().to_str().unwrap().to_owned();
    let mut size = vec!["size", "--out", &out];
    size.extend(SIZE_TINY);
    let token = String::from_utf8(
        tb().args(["issue", "--scheme", "jwt"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let token = token.trim();
    let cases: Vec<(Vec<&str>, usize)> = vec![
        // `| head -2` on the summary table; and a reader that never reads.
        (size.clone(), 2),
        (size, 0),
        (vec!["report", &out], 0),
        (
            vec!["issue", "--scheme", "session", "--count", "1000000"],
            1,
        ),
        (vec!["inspect", token], 0),
        (vec!["inspect", token, "--json"], 0),
    ];
    for (args, lines) in cases {
        let (status, stderr) = with_stdout_closed_after(&args, lines);
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // Both runs finished their folders although nobody read their results.
    let runs: Vec<_> = fs::read_dir(base.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("latest"))
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in runs {
        assert!(!RunDir::open(&run).unwrap().is_incomplete(), "{run:?}");
    }
}

#[test]
fn closed_stdout_and_stderr_end_a_run_with_status_0() {
    let base = tempfile::tempdir().unwrap();
    let mut child = tb()
        .args(["size", "--out"])
        .arg(base.path())
        .args(SIZE_TINY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!only_run(base.path()).is_incomplete());
}

// ---------------------------------------------------------------------------------------
// inspect: tokens as users paste them.

#[test]
fn inspect_takes_a_session_id_that_begins_with_a_hyphen_without_double_dash() {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    // 16 random-looking bytes whose encoding begins with `-`, `--`, `-h`, `-V` (flags).
    let mut ids = Vec::new();
    for first in [[0xf8, 0x11], [0xfb, 0xe1], [0xfa, 0x11], [0xf9, 0x51]] {
        let mut bytes = [0x5au8; 16];
        bytes[..2].copy_from_slice(&first);
        ids.push(b64(&bytes));
    }
    assert_eq!(
        ids.iter().map(|id| &id[..2]).collect::<Vec<_>>(),
        ["-B", "--", "-h", "-V"]
    );
    for id in &ids {
        for args in [vec!["inspect", id], vec!["inspect", "--json", id]] {
            let out = tb().args(&args).output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                stdout.contains("token: opaque (22 characters)")
                    || stdout.contains("\"chars\": 22"),
                "{args:?}: {stdout}"
            );
        }
        tb().args(["inspect", id, "--json"])
            .assert()
            .success()
            .stdout(predicate::str::contains("\"encoding\": \"base64url\""));
    }
    // Flags still work around it.
    tb().args(["inspect", "-h"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: tokenbench inspect"));
}

/// `tokenbench inspect -` with `input` on standard input.
fn inspect_stdin(input: impl Into<Vec<u8>>) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("tokenbench").unwrap();
    cmd.args(["inspect", "-"]).write_stdin(input);
    cmd
}

#[test]
fn inspect_reads_the_token_from_standard_input() {
    let jwt = String::from_utf8(
        tb().args(["issue", "--scheme", "jwt", "--alg", "EdDSA"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    // `echo "Bearer $TOKEN" | tokenbench inspect -`: newline trimmed without a note.
    let out = inspect_stdin(format!("Bearer {jwt}")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("token: JWT"), "{stdout}");
    assert!(stdout.contains("\"alg\": \"EdDSA\""), "{stdout}");
    assert!(stdout.contains("note: a leading \"Bearer \""), "{stdout}");
    assert!(!stdout.contains("whitespace"), "{stdout}");

    for (input, message) in [
        (
            b" \n".to_vec(),
            "tokenbench: error: no token on standard input\n",
        ),
        (
            vec![0xff, 0xfe, b'a'],
            "tokenbench: error: standard input is not UTF-8 text: ",
        ),
        (
            vec![b'a'; (1 << 20) + 1],
            "tokenbench: error: standard input holds more than 1048576 bytes: not a token\n",
        ),
    ] {
        inspect_stdin(input)
            .assert()
            .code(1)
            .stderr(predicate::str::starts_with(message).and(predicate::str::ends_with("\n")));
    }
}

/// `tokenbench plan` with the default scenario's flags on the run in `dir`.
fn plan_cmd(dir: &Path) -> Command {
    plan_with(dir, &[])
}

/// [`plan_cmd`] with some of the scenario's flags given other values (or added).
fn plan_with(dir: &Path, changed: &[(&str, &str)]) -> Command {
    let mut flags = vec![
        ("--rate", "10k"),
        ("--sessions", "1M"),
        ("--nodes", "4"),
        ("--store-rtt", "0.5ms"),
    ];
    for (flag, value) in changed {
        match flags.iter_mut().find(|(f, _)| f == flag) {
            Some(f) => f.1 = value,
            None => flags.push((flag, value)),
        }
    }
    let mut c = tb();
    c.arg("plan").arg(dir);
    for (flag, value) in flags {
        c.args([flag, value]);
    }
    c
}

fn reference() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("results/reference")
}

#[test]
fn plan_answers_on_the_reference_run() {
    let out = plan_cmd(&reference())
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    for part in [
        "Plan for 10.0 k req/s",
        "Ranked answer:",
        "Inputs (run reference)",
        "Rules:",
        "--fragmentation 1.5 (default)",
    ] {
        assert!(text.contains(part), "{part} missing from:\n{text}");
    }
    // Every scheme of the run is in the table, planned or saying what it lacks.
    let json = plan_cmd(&reference())
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan: tokenbench::plan::Plan = serde_json::from_slice(&json).unwrap();
    assert_eq!(plan.schema_version, tokenbench::plan::PLAN_VERSION);
    assert!(plan.schemes.len() >= 2);
    assert_eq!(plan.ranking.len(), plan.schemes.len());
    for s in &plan.schemes {
        assert!(text.contains(&s.scheme.to_string()));
        assert!(
            s.complete() || text.contains(&s.cannot_plan()),
            "{}",
            s.scheme
        );
        assert!(s.node.is_none() || s.inputs.iter().any(|i| i.file == "http.json"));
    }
    assert!(plan.ranking.iter().any(|r| r.rank == Some(1)));
}

#[test]
fn plan_refuses_bad_flags_with_status_2() {
    let dir = reference();
    for (flag, value, says) in [
        ("--rate", "0", "more than 0"),
        ("--rate", "-5k", "more than 0"),
        ("--rate", "5x", "unknown unit"),
        ("--sessions", "2q", "unknown unit"),
        ("--store-rtt", "5xs", "unknown unit"),
        ("--store-rtt", "2s", "above 1s"),
        ("--nodes", "0", "0"),
        ("--client", "firefox", "unknown client"),
        ("--revocation-within", "0s", "out of range"),
        ("--fragmentation", "0.5", "at least 1"),
    ] {
        let out = plan_with(&dir, &[(flag, value)])
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A scenario flag left out is named.
    tb().args(["plan", "--rate", "1k"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--sessions"));
}

#[test]
fn plan_refuses_a_bad_run_with_status_1() {
    let tmp = tempfile::tempdir().unwrap();
    // No such folder.
    plan_cmd(&tmp.path().join("nope"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no such run folder"));
    // A folder that is not a run.
    plan_cmd(tmp.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("meta.json"));
    // A corrupt results file is named.
    let run = tmp.path().join("run");
    fs::create_dir(&run).unwrap();
    fs::copy(reference().join("meta.json"), run.join("meta.json")).unwrap();
    fs::copy(reference().join("size.json"), run.join("size.json")).unwrap();
    fs::write(run.join("http.json"), "{ not json").unwrap();
    plan_cmd(&run)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("http.json").and(predicate::str::contains("not a valid")));
    // Without http.json, no scheme can be planned: the error says which figure is missing.
    fs::remove_file(run.join("http.json")).unwrap();
    plan_cmd(&run)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing from http.json"));
    // Chromium's bytes need browser.json: a run without it is refused, the reference run
    // (which has it) is planned.
    fs::copy(reference().join("http.json"), run.join("http.json")).unwrap();
    plan_cmd(&run)
        .args(["--client", "chromium"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("browser.json"));
    plan_cmd(&reference())
        .args(["--client", "chromium"])
        .assert()
        .success()
        .stdout(predicate::str::contains("h2 first"));
}
