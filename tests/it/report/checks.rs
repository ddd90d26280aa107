//! The self-checks on the fixture: breakdown parts above their whole, added costs that
//! cannot be told from zero, borderline verdicts and budgets, noise.

use tokenbench::claims::ClaimSet;
use tokenbench::report;
use tokenbench::report::verdicts::{self, Verdict};
use tokenbench::results::schema::revoke::{RevokeResults, Strategy};
use tokenbench::results::schema::validate::{Operation, ValidateResults};

use super::fixture::{Fixture, id, measurement, negative_figure, set_median, validate, with_cpu};

#[test]
fn a_breakdown_part_above_its_whole_is_a_warning() {
    let f = Fixture::all()
        .validate(|v| {
            // EdDSA's signature check above its whole validate (65 µs).
            set_median(
                v,
                "jwt-EdDSA",
                Operation::JwtSignatureCheck,
                Some("aws-lc-rs"),
                70_000.0,
            );
            // HS256: every part below the whole (7 µs), their sum above it.
            set_median(
                v,
                "jwt-HS256",
                Operation::JwtClaimsDecode,
                Some("aws-lc-rs"),
                6_000.0,
            );
        })
        .write();
    let lines = f.check_lines();
    let has = |s: &str| lines.iter().any(|l| l.contains(s));
    assert!(
        has(
            "**warning**: breakdown of jwt-EdDSA aws-lc-rs: the part jwt_signature_check (70.0 µs, paired with its whole per round) is above its whole validate (65.0 µs) in every round"
        ),
        "{lines:?}"
    );
    assert!(
        has(
            "**warning**: breakdown of jwt-HS256 aws-lc-rs: its parts sum to 8.10 µs, above its whole validate (7.00 µs)"
        ),
        "{lines:?}"
    );
    let md = f.report_md();
    assert!(
        md.contains("| 8.10 µs **above the whole** | 7.00 µs |"),
        "{md}"
    );
    assert!(report::terminal::summary_of(&f.dir).contains("breakdown of jwt-EdDSA"));
    // A sum above the whole in some rounds only is within the spread: a note, not a warning.
    let f = Fixture::all()
        .validate(|v| {
            set_median(
                v,
                "jwt-HS256",
                Operation::JwtClaimsDecode,
                Some("aws-lc-rs"),
                2_650.0,
            );
            for r in v.rows.iter_mut().filter(|r| {
                r.scheme == "jwt-HS256"
                    && r.operation == Operation::Validate
                    && r.claims == ClaimSet::Typical
                    && r.backend.map(|b| b.name()) == Some("aws-lc-rs")
            }) {
                r.measurement = measurement(4_700.0);
                r.measurement.rounds.as_mut().unwrap().wall_ns =
                    vec![4_500.0, 4_600.0, 4_700.0, 5_500.0, 6_000.0];
            }
        })
        .write();
    let lines = f.check_lines();
    assert!(
        !lines.iter().any(|l| l.contains("warning**: breakdown")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("note: breakdown of jwt-HS256 aws-lc-rs: its parts sum to 4.75 µs")
            && l.ends_with("in 2 of 5 rounds")),
        "{lines:?}"
    );
}

#[test]
fn an_added_cost_whose_spread_reaches_zero_is_no_measurable_cost() {
    let f = Fixture::all()
        .revoke(|r| {
            for s in r.strategies.iter_mut() {
                if s.strategy == Strategy::JwtDenylistPushed {
                    // A negative difference whose rounds reach zero.
                    s.added_cost_ns = -12.0;
                    s.added_cost_lo_ns = Some(-30.0);
                    s.added_cost_hi_ns = Some(8.0);
                }
                if s.strategy == Strategy::JwtDenylistPolled {
                    // An old file: a negative difference without rounds.
                    s.added_cost_ns = -7.0;
                    s.added_cost_lo_ns = None;
                    s.added_cost_hi_ns = None;
                }
            }
        })
        .write();
    let lines = f.check_lines();
    assert!(
        lines.iter().any(|l| l == "note: revoke jwt-denylist-pushed: no measurable cost per request (within ±30.0 ns of jwt-expiry-only), recorded as 0"),
        "{lines:?}"
    );
    let md = f.report_md();
    assert!(
        md.contains("| no measurable cost (within ±30.0 ns) |"),
        "{md}"
    );
    assert!(
        md.contains("| no measurable cost (within ±7.00 ns) |"),
        "{md}"
    );
    assert_eq!(negative_figure(&md), None);
    // Counted as nothing against the revocation row's budget, never as a saving.
    let r = f.run();
    let pushed = r
        .get::<RevokeResults>()
        .unwrap()
        .strategy(Strategy::JwtDenylistPushed)
        .unwrap();
    assert_eq!(pushed.added_ns(), 0.0);
}

#[test]
fn a_ratio_within_its_spread_of_the_threshold_is_borderline() {
    let f = Fixture::all()
        .validate(|v| {
            // Sliding expiry at exactly 50% of session-memory's lookup (160 ns → 240 ns), with
            // rounds that reach both sides of the threshold.
            for r in v.rows.iter_mut().filter(|r| {
                r.scheme == "session-memory"
                    && r.operation == Operation::ValidateSliding
                    && r.claims == ClaimSet::Typical
            }) {
                r.measurement = measurement(240.0);
                r.measurement.rounds.as_mut().unwrap().wall_ns =
                    vec![220.0, 235.0, 240.0, 250.0, 260.0];
            }
        })
        .write();
    let run = f.run();
    let j = verdicts::expiry::judge(run.get::<ValidateResults>());
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    let why = j.borderline.expect("borderline");
    assert!(why.contains("session-memory sliding share 50%"), "{why}");
    let lines = f.check_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("**warning**: row 6 (Expiry) is borderline")),
        "{lines:?}"
    );
    let md = f.report_md();
    assert!(md.contains("| **confirmed** (borderline) |"), "{md}");
    // The CPU row too: HS256 at twice the embedded store's CPU, rounds on both sides.
    let mut v = validate();
    v.rows.retain(|r| r.scheme != "session-redis");
    for r in v.rows.iter_mut().filter(|r| {
        r.scheme == "jwt-HS256"
            && r.operation == Operation::Validate
            && r.claims == ClaimSet::Typical
    }) {
        r.measurement = with_cpu(measurement(320.0), 288.0);
        r.measurement.rounds.as_mut().unwrap().cpu_ns = vec![270.0, 280.0, 288.0, 295.0, 300.0];
    }
    let j = verdicts::cpu::judge(Some(&v));
    assert!(j.borderline.is_some(), "{}", j.because);
}

#[test]
fn a_busy_machine_or_a_wide_spread_is_a_noise_warning() {
    let f = Fixture::all()
        .meta(|m| {
            m.load.push(tokenbench::results::meta::WorkloadLoad {
                workload: "validate".into(),
                load1_start: 2.5,
                load1_end: 5.0,
                load1_max: 6.0,
                runnable_mean: 5.0,
                samples: 12,
            });
        })
        .validate(|v| {
            let r = v
                .rows
                .iter_mut()
                .find(|r| r.scheme == "jwt-RS256" && r.operation == Operation::Validate)
                .unwrap();
            r.measurement.rounds.as_mut().unwrap().wall_ns = vec![30e3, 35e3, 35e3, 40e3, 60e3];
        })
        .write();
    let lines = f.check_lines();
    assert!(
        lines.iter().any(|l| l.starts_with(
            "**warning**: noise: the 1-minute load average reached 6.00 on 4 cores while validate ran"
        ) && l.contains("rows 2 (CPU) and 6 (Expiry)")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l
            .contains("noise: 1 figures have round medians more than ×1.5 apart")
            && l.contains(
                "validate jwt-RS256 aws-lc-rs validate minimal (30.0 µs–60.0 µs, ×2.00)"
            )),
        "{lines:?}"
    );
    // A quiet run says nothing of noise.
    let quiet = Fixture::all().write();
    assert!(!quiet.check_lines().iter().any(|l| l.contains("noise")));
}

#[test]
fn a_breakdown_part_is_paired_with_its_whole_round_by_round() {
    // EdDSA's signature check has the higher median (different rounds were disturbed), but in
    // every round it is 90% of that round's whole: the table prints 90% of the whole.
    let f = Fixture::all()
        .validate(|v| {
            let whole = [60e3, 61e3, 65e3, 90e3, 95e3];
            let part_rounds: Vec<f64> = whole.iter().map(|x| x * 0.9).collect();
            for r in v.rows.iter_mut().filter(|r| {
                r.scheme == "jwt-EdDSA"
                    && r.claims == ClaimSet::Typical
                    && r.backend.map(|b| b.name()) == Some("aws-lc-rs")
            }) {
                match r.operation {
                    Operation::Validate => {
                        r.measurement.rounds.as_mut().unwrap().wall_ns = whole.to_vec()
                    }
                    Operation::JwtSignatureCheck => {
                        // Its own median (70.2 µs) is above the whole's (65 µs) once reordered.
                        let mut p = part_rounds.clone();
                        p[2] = 70.2e3;
                        r.measurement.rounds.as_mut().unwrap().wall_ns = p;
                    }
                    _ => {}
                }
            }
        })
        .write();
    let run = f.run();
    let v = run.get::<ValidateResults>().unwrap();
    let bd = v
        .breakdown(id("jwt-EdDSA"), Some("aws-lc-rs".parse().unwrap()))
        .unwrap();
    let part = bd.part(Operation::JwtSignatureCheck).unwrap();
    assert!(part.median <= 65e3, "{}", part.median);
    assert_eq!(part.share.unwrap().median, 0.9);
    assert!(
        !f.check_lines()
            .iter()
            .any(|l| l.contains("breakdown of jwt-EdDSA")),
    );
}
