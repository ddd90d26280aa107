//! The machine's load while each workload runs: `/proc/loadavg` read at its start, every
//! [`PERIOD`] while it runs and at its end, recorded in `meta.json` so that the report can
//! say which figures a busy machine touched (hyperfine warns like this).

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::results::meta::WorkloadLoad;

/// How often the load is read while a workload runs.
pub const PERIOD: Duration = Duration::from_millis(250);

/// One reading of `/proc/loadavg`: the 1-minute load average and the number of runnable
/// tasks at that instant; `None` where the file does not exist (not Linux).
fn read() -> Option<(f64, f64)> {
    parse(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// `"0.52 0.58 0.59 3/512 12345"` → `(0.52, 3.0)`.
fn parse(s: &str) -> Option<(f64, f64)> {
    let mut fields = s.split_whitespace();
    let load1 = fields.next()?.parse().ok()?;
    let running = fields.nth(2)?.split_once('/')?.0.parse().ok()?;
    Some((load1, running))
}

/// A sampler running beside one workload.
pub struct Watch {
    workload: &'static str,
    stop: Sender<()>,
    handle: JoinHandle<Vec<(f64, f64)>>,
}

impl Watch {
    /// Starts sampling for `workload`.
    pub fn start(workload: &'static str) -> Watch {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let mut samples: Vec<(f64, f64)> = read().into_iter().collect();
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(PERIOD) {
                samples.extend(read());
            }
            samples.extend(read());
            samples
        });
        Watch {
            workload,
            stop,
            handle,
        }
    }

    /// Stops sampling; the workload's load, or `None` when nothing could be read.
    pub fn finish(self) -> Option<WorkloadLoad> {
        let _ = self.stop.send(());
        let samples = self.handle.join().ok()?;
        summarise(self.workload, &samples)
    }
}

fn summarise(workload: &str, samples: &[(f64, f64)]) -> Option<WorkloadLoad> {
    let (first, last) = (samples.first()?, samples.last()?);
    Some(WorkloadLoad {
        workload: workload.to_owned(),
        load1_start: first.0,
        load1_end: last.0,
        load1_max: samples.iter().map(|s| s.0).fold(0.0, f64::max),
        runnable_mean: samples.iter().map(|s| s.1).sum::<f64>() / samples.len() as f64,
        samples: samples.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg_lines_parse_and_bad_ones_do_not() {
        assert_eq!(parse("0.52 0.58 0.59 3/512 12345\n"), Some((0.52, 3.0)));
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse(""), None);
        let l = summarise("validate", &[(1.0, 2.0), (3.5, 4.0), (2.0, 3.0)]).unwrap();
        assert_eq!((l.load1_start, l.load1_end, l.load1_max), (1.0, 2.0, 3.5));
        assert_eq!((l.runnable_mean, l.samples), (3.0, 3));
        assert!(summarise("x", &[]).is_none());
    }

    #[test]
    fn a_watch_reads_at_least_at_start_and_end_on_linux() {
        let w = Watch::start("validate");
        let load = w.finish();
        if std::path::Path::new("/proc/loadavg").exists() {
            assert!(load.unwrap().samples >= 2);
        }
    }
}
