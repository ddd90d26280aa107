//! The verdict rules of the article's table on the fixture: its verdicts, missing results
//! judged not measured, and figures swapped to flip each verdict.

use tokenbench::claims::ClaimSet;
use tokenbench::report::verdicts::{self, Verdict};
use tokenbench::results::schema::revoke::Strategy;
use tokenbench::results::schema::size::Entry;
use tokenbench::results::schema::validate::Operation;
use tokenbench::scheme::spec::{Capabilities, SchemeId};

use super::fixture::{measurement, revoke, scale, set_errors, set_median, set_ops, size, validate};

#[test]
fn the_fixture_verdicts() {
    let (s, v, r, c) = (size(), validate(), revoke(), scale());
    assert_eq!(
        verdicts::bandwidth::judge(Some(&s)).verdict,
        Verdict::Confirmed
    );
    // Confirmed against the embedded store, contradicted for HS256 against Redis (whose
    // lookup costs 12 µs here and 18 µs in the server): nuanced, naming each deployment.
    let j = verdicts::cpu::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    for part in [
        "confirmed for embedded `session-memory`",
        "contradicted for jwt-HS256 aws-lc-rs, jwt-HS256 rust-crypto against networked `session-redis`",
        "session-redis 30.0 µs CPU (12.0 µs client + 18.0 µs server)",
    ] {
        assert!(j.because.contains(part), "{part:?} not in {}", j.because);
    }
    assert_eq!(
        verdicts::scalability::judge(Some(&c), Some(&s)).verdict,
        Verdict::Nuanced
    );
    assert_eq!(
        verdicts::privacy::judge(Some(&s)).verdict,
        Verdict::Confirmed
    );
    assert_eq!(
        verdicts::revocation::judge(Some(&r)).verdict,
        Verdict::Nuanced
    );
    assert_eq!(
        verdicts::expiry::judge(Some(&v)).verdict,
        Verdict::Confirmed
    );
    assert_eq!(
        verdicts::cross_domain::judge(Some(&s)).verdict,
        Verdict::Nuanced
    );
    for row in verdicts::ROWS {
        assert!(!(row.rule)().is_empty(), "rule {}", row.number);
    }
}

#[test]
fn missing_results_are_not_measured_never_guessed() {
    assert_eq!(
        verdicts::bandwidth::judge(None).verdict,
        Verdict::NotMeasured
    );
    assert_eq!(verdicts::cpu::judge(None).verdict, Verdict::NotMeasured);
    assert_eq!(
        verdicts::scalability::judge(None, Some(&size())).verdict,
        Verdict::NotMeasured
    );
    assert_eq!(verdicts::privacy::judge(None).verdict, Verdict::NotMeasured);
    assert_eq!(
        verdicts::revocation::judge(None).verdict,
        Verdict::NotMeasured
    );
    assert_eq!(verdicts::expiry::judge(None).verdict, Verdict::NotMeasured);
    assert_eq!(
        verdicts::cross_domain::judge(None).verdict,
        Verdict::NotMeasured
    );
    // One family only: nothing to compare.
    let mut s = size();
    s.rows.retain(|r| r.scheme.capabilities().carries_claims);
    assert_eq!(
        verdicts::bandwidth::judge(Some(&s)).verdict,
        Verdict::NotMeasured
    );
    // A single thread count: no scaling to compare.
    let mut c = scale();
    c.points.retain(|p| p.threads == 1);
    assert_eq!(
        verdicts::scalability::judge(Some(&c), None).verdict,
        Verdict::NotMeasured
    );
}

#[test]
fn bandwidth_flips_with_the_header_sizes() {
    let mut s = size();
    // One JWT smaller than the session for one claim set: nuanced.
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "jwt-HS256" && r.claims == ClaimSet::Minimal)
        .for_each(|r| r.cookie_header_bytes = 20);
    assert_eq!(
        verdicts::bandwidth::judge(Some(&s)).verdict,
        Verdict::Nuanced
    );
    // Every JWT no larger than the session: contradicted.
    s.rows
        .iter_mut()
        .filter(|r| r.scheme.capabilities().carries_claims)
        .for_each(|r| r.cookie_header_bytes = 30);
    assert_eq!(
        verdicts::bandwidth::judge(Some(&s)).verdict,
        Verdict::Contradicted
    );
}

#[test]
fn cpu_flips_with_the_validate_medians() {
    // An embedded store only: every JWT at least twice its CPU is confirmed.
    let embedded = || {
        let mut v = validate();
        v.rows.retain(|r| r.scheme != "session-redis");
        v
    };
    let j = verdicts::cpu::judge(Some(&embedded()));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    // HS256 within the factor of a session lookup: nuanced.
    let mut v = embedded();
    set_median(
        &mut v,
        "jwt-HS256",
        Operation::Validate,
        Some("aws-lc-rs"),
        250.0,
    );
    let j = verdicts::cpu::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(
        j.because
            .contains("nuanced for jwt-HS256 aws-lc-rs against embedded `session-memory`"),
        "{}",
        j.because
    );
    // The crypto library matters more than the scheme: nuanced.
    let mut v = embedded();
    set_median(
        &mut v,
        "jwt-RS256",
        Operation::Validate,
        Some("rust-crypto"),
        40_000.0 * 300.0,
    );
    assert_eq!(verdicts::cpu::judge(Some(&v)).verdict, Verdict::Nuanced);
    // Sessions costlier than every JWT: contradicted (swap the session and HS256 figures).
    let mut v = embedded();
    set_median(&mut v, "session-memory", Operation::Validate, None, 1e7);
    assert_eq!(
        verdicts::cpu::judge(Some(&v)).verdict,
        Verdict::Contradicted
    );
    // Redis only, and every JWT cheaper than its lookup's CPU (client + server): contradicted
    // against the networked store, by name.
    let mut v = validate();
    v.rows
        .retain(|r| r.scheme == "session-redis" || r.scheme == "jwt-HS256");
    let j = verdicts::cpu::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Contradicted, "{}", j.because);
    assert!(
        j.because
            .starts_with("contradicted for networked `session-redis`"),
        "{}",
        j.because
    );
}

#[test]
fn scalability_flips_with_the_scaling_ratios() {
    let s = size();
    // Sessions barely scale while JWTs do: confirmed.
    let mut c = scale();
    set_ops(&mut c, false, 8, 0.4);
    assert_eq!(
        verdicts::scalability::judge(Some(&c), Some(&s)).verdict,
        Verdict::Confirmed
    );
    // Swapped: JWTs barely scale: contradicted.
    let mut c = scale();
    set_ops(&mut c, true, 8, 0.4);
    assert_eq!(
        verdicts::scalability::judge(Some(&c), Some(&s)).verdict,
        Verdict::Contradicted
    );
    // Sessions scale worse but the server keeps as much per JWT: contradicted.
    let mut c = scale();
    set_ops(&mut c, false, 8, 0.4);
    let mut s2 = size();
    s2.memory
        .iter_mut()
        .filter(|m| m.entry == Entry::IssuedJwt)
        .for_each(|m| m.bytes_per_entry = 5000.0);
    assert_eq!(
        verdicts::scalability::judge(Some(&c), Some(&s2)).verdict,
        Verdict::Contradicted
    );
}

#[test]
fn privacy_flips_with_what_an_outsider_reads() {
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "session-memory")
        .for_each(|r| r.random_bits = 64);
    assert_eq!(verdicts::privacy::judge(Some(&s)).verdict, Verdict::Nuanced);
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "session-memory")
        .for_each(|r| r.readable_payload_bytes = 100);
    assert_eq!(
        verdicts::privacy::judge(Some(&s)).verdict,
        Verdict::Contradicted
    );
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme.capabilities().carries_claims)
        .for_each(|r| r.readable_payload_bytes = 0);
    assert_eq!(
        verdicts::privacy::judge(Some(&s)).verdict,
        Verdict::Contradicted
    );
}

#[test]
fn revocation_flips_with_the_latencies() {
    // In process only (no end-to-end trials): no fast denylist (all slow or costly): confirmed.
    let revoke = || {
        let mut r = revoke();
        r.end_to_end.clear();
        r
    };
    let mut r = revoke();
    for s in r.strategies.iter_mut() {
        match s.strategy.name() {
            "jwt-denylist-central" => s.added_cost_ns = 4000.0,
            "jwt-denylist-pushed" => s.latency.p99_ns = 50e6,
            _ => {}
        }
    }
    assert_eq!(
        verdicts::revocation::judge(Some(&r)).verdict,
        Verdict::Confirmed
    );
    // A fast denylist that failed trials does not count.
    let mut r = revoke();
    for s in r.strategies.iter_mut() {
        match s.strategy.name() {
            "jwt-denylist-central" => s.errors = 2,
            "jwt-denylist-pushed" => s.latency.p99_ns = 50e6,
            _ => {}
        }
    }
    assert_eq!(
        verdicts::revocation::judge(Some(&r)).verdict,
        Verdict::Confirmed
    );
    // Expiry-only as quick as a deleted session: contradicted.
    let mut r = revoke();
    for s in r.strategies.iter_mut() {
        if s.strategy == Strategy::JwtExpiryOnly {
            s.latency.median_ns = 100e3;
        }
    }
    assert_eq!(
        verdicts::revocation::judge(Some(&r)).verdict,
        Verdict::Contradicted
    );
}

#[test]
fn expiry_judges_each_store_against_its_own_lookup() {
    // The fixture's Redis sliding validate (42 µs) costs far more than any JWT validate, yet
    // adds only 40% to its own lookup: confirmed (the old rule called this contradicted).
    let v = validate();
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because
            .contains("session-redis +12.0 µs (40%: 30.0 µs → 42.0 µs)"),
        "{}",
        j.because
    );
    // Exactly at the threshold is still cheap.
    let mut v = validate();
    set_median(
        &mut v,
        "session-redis",
        Operation::ValidateSliding,
        None,
        45_000.0,
    );
    assert_eq!(
        verdicts::expiry::judge(Some(&v)).verdict,
        Verdict::Confirmed
    );
    // One store over the threshold: nuanced, naming that store and its share.
    let mut v = validate();
    set_median(
        &mut v,
        "session-memory",
        Operation::ValidateSliding,
        None,
        400.0,
    );
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(
        j.because
            .contains("over 50% of the lookup: session-memory 150%"),
        "{}",
        j.because
    );
    let mut v = validate();
    set_median(
        &mut v,
        "session-redis",
        Operation::ValidateSliding,
        None,
        120_000.0,
    );
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(
        j.because
            .contains("over 50% of the lookup: session-redis 300%"),
        "{}",
        j.because
    );
}

#[test]
fn expiry_is_never_contradicted_by_a_costly_write() {
    // Every sliding validate a thousand times its lookup and dearer than every JWT: the price
    // of server-side expiry is high, which nuances the row and does not contradict it.
    let mut v = validate();
    for r in v
        .rows
        .iter_mut()
        .filter(|r| r.operation == Operation::ValidateSliding)
    {
        let m = r.measurement.median() * 1000.0;
        r.measurement = measurement(m);
    }
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(verdicts::expiry::rule().contains("Never contradicted"));
    assert!(!verdicts::expiry::rule().contains("JWT validate"));
    // A zero lookup gives no share: not counted as cheap, and no panic.
    let mut v = validate();
    set_median(&mut v, "session-memory", Operation::Validate, None, 0.0);
    assert_eq!(verdicts::expiry::judge(Some(&v)).verdict, Verdict::Nuanced);
}

#[test]
fn expiry_names_what_it_could_not_judge() {
    // A store measured without its sliding row is not judged, and says so.
    let mut v = validate();
    v.rows
        .retain(|r| !(r.scheme == "session-redis" && r.operation == Operation::ValidateSliding));
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because
            .contains("not measured both ways, so not judged: session-redis"),
        "{}",
        j.because
    );
    assert!(!j.because.contains("session-redis +"), "{}", j.because);
    // No store measured both ways: not measured.
    v.rows.retain(|r| r.operation != Operation::ValidateSliding);
    assert_eq!(
        verdicts::expiry::judge(Some(&v)).verdict,
        Verdict::NotMeasured
    );
    // A sliding validate cheaper than the lookup is noise, named as such, never a negative
    // figure.
    let mut v = validate();
    set_median(
        &mut v,
        "session-memory",
        Operation::ValidateSliding,
        None,
        150.0,
    );
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because
            .contains("session-memory no measurable cost (measured 10.0 ns below"),
        "{}",
        j.because
    );
    assert!(!j.because.contains("-10"), "{}", j.because);
}

#[test]
fn verdicts_leave_out_rows_with_failed_operations() {
    // A Redis sliding row that timed refusals would make row 6 nuanced; it is left out.
    let mut v = validate();
    set_median(
        &mut v,
        "session-redis",
        Operation::ValidateSliding,
        None,
        1e9,
    );
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    set_errors(&mut v, "session-redis", Operation::ValidateSliding, 4);
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because.contains("not judged: session-redis")
            && j.because.contains(
                "left out for failed operations: session-redis validate_sliding (4 failed)"
            ),
        "{}",
        j.because
    );
    // A session store with failed operations is left out of the CPU row, by name.
    let mut v = validate();
    set_median(&mut v, "session-memory", Operation::Validate, None, 1e7);
    let j = verdicts::cpu::judge(Some(&v));
    assert!(
        j.because
            .starts_with("contradicted for embedded `session-memory`"),
        "{}",
        j.because
    );
    set_errors(&mut v, "session-memory", Operation::Validate, 2);
    let j = verdicts::cpu::judge(Some(&v));
    assert!(
        !j.because.contains("embedded `session-memory`")
            && j.because.contains("networked `session-redis`")
            && j.because
                .contains("left out for failed operations: session-memory validate (2 failed)"),
        "{}",
        j.because
    );
    // No JWT row without failures: not measured, and saying why.
    for scheme in ["jwt-HS256", "jwt-RS256", "jwt-ES256", "jwt-EdDSA"] {
        set_errors(&mut v, scheme, Operation::Validate, 1);
    }
    let j = verdicts::cpu::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::NotMeasured, "{}", j.because);
    assert!(
        j.because
            .contains("jwt-HS256 aws-lc-rs validate (1 failed)"),
        "{}",
        j.because
    );
}

#[test]
fn cross_domain_flips_with_the_header_limit() {
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "jwt-RS256" && r.claims == ClaimSet::Large)
        .for_each(|r| r.authorization_header_bytes = 9000);
    let j = verdicts::cross_domain::judge(Some(&s));
    assert_eq!(j.verdict, Verdict::Contradicted);
    assert!(j.because.contains("jwt-RS256 large"), "{}", j.because);
    // Only a JWT fits the limits (session tokens would not): confirmed.
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "session-memory")
        .for_each(|r| r.authorization_header_bytes = 9000);
    assert_eq!(
        verdicts::cross_domain::judge(Some(&s)).verdict,
        Verdict::Confirmed
    );
}

/// The capabilities of each scheme, jwt-ES256 carrying its claims encrypted (as a PASETO
/// `v4.local` token does): a third family, judged by what it does.
fn es256_sealed(id: SchemeId) -> Capabilities {
    let mut caps = id.capabilities();
    if id == "jwt-ES256" {
        caps.claims_readable = false;
    }
    caps
}

/// Every token that carries its claims, carrying them encrypted.
fn all_sealed(id: SchemeId) -> Capabilities {
    let mut caps = id.capabilities();
    caps.claims_readable = false;
    caps
}

#[test]
fn privacy_judges_readability_by_capability() {
    // A token that carries its claims encrypted and exposes nothing is reported as such,
    // and the readable tokens still confirm the row.
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "jwt-ES256")
        .for_each(|r| {
            r.readable_payload_bytes = 0;
            r.readable_claims.clear();
        });
    let j = verdicts::privacy::judge_by(Some(&s), es256_sealed);
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because
            .ends_with("; claims carried encrypted (jwt-ES256): nothing readable"),
        "{}",
        j.because
    );
    // Judged as a token with readable claims, the same figures nuance the row.
    assert_eq!(verdicts::privacy::judge(Some(&s)).verdict, Verdict::Nuanced);
    // Encrypted claims that are readable all the same: nuanced, by name.
    let j = verdicts::privacy::judge_by(Some(&size()), es256_sealed);
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(
        j.because
            .contains("readable all the same in jwt-ES256 minimal, jwt-ES256 typical"),
        "{}",
        j.because
    );
    // No token with readable claims: nothing to judge the article's claim on.
    assert_eq!(
        verdicts::privacy::judge_by(Some(&s), all_sealed).verdict,
        Verdict::NotMeasured
    );
}

/// A hybrid row as the revoke workload writes it: HS256 access tokens, refresh on Redis.
fn hybrid_row(refresh_ns: f64, window_s: f64) -> tokenbench::results::schema::revoke::HybridResult {
    let rate = 0.1;
    let per_request = 1.0 / (window_s * rate);
    tokenbench::results::schema::revoke::HybridResult {
        scheme: SchemeId::Hybrid(
            tokenbench::scheme::JwtAlg::HS256,
            tokenbench::scheme::spec::StoreKind::Redis,
        ),
        access_lifetime_s: window_s,
        access_revocation: "expiry-only".into(),
        revocation_window_s: window_s,
        access_token_bytes: 478,
        refresh_token_bytes: 45,
        validate: measurement(2_000.0),
        refresh: measurement(refresh_ns),
        requests_per_user_per_s: rate,
        refreshes_per_request: per_request,
        store_ops_per_request: per_request,
        refresh_ns_per_request: refresh_ns * per_request,
        family_revocation_trials: 20,
        family_revocation_refused: 20,
        family_revocation_latency: None,
        errors: 0,
        race: Vec::new(),
    }
}

#[test]
fn the_hybrid_gets_its_own_column_only_when_it_ran() {
    use super::fixture::Fixture;
    let without = Fixture::all().write();
    assert!(!without.report_md().contains("With the hybrid"));
    assert!(verdicts::hybrid::verdicts(&without.run(), &verdicts::rows(&without.run())).is_empty());

    // A 100 µs refresh once per 5 min at 0.1 req/s: 3.3 µs per request, more than 10% of the
    // 2 µs validate: the CPU answer is nuanced; the store is reached 0.033 times per request.
    let f = Fixture::all()
        .revoke(|r| r.hybrid = vec![hybrid_row(100_000.0, 300.0)])
        .write();
    let run = f.run();
    let rows = verdicts::rows(&run);
    let h = verdicts::hybrid::verdicts(&run, &rows);
    let verdict = |row: usize| h.iter().find(|v| v.row == row).unwrap().judgement.verdict;
    assert_eq!(h.len(), 4);
    assert_eq!(verdict(2), Verdict::Nuanced);
    assert_eq!(verdict(3), Verdict::Nuanced);
    assert_eq!(verdict(4), Verdict::Confirmed);
    assert_eq!(verdict(5), Verdict::Nuanced);
    let md = f.report_md();
    assert!(
        md.contains("With the hybrid (`hybrid-HS256-redis`)"),
        "{md}"
    );
    assert!(md.contains("What the hybrid changes"));
    // Its own column's cells: its access lifetime, its family revocation.
    assert!(
        md.contains(
            "`exp` in the access token, 300 s lifetime, renewed by a rotating refresh token"
        ),
        "{md}"
    );
    assert!(md.contains(
        "logout deletes the family (refresh refused on another node in 20 of 20 trials)"
    ));

    // A cheap refresh (1 µs: 33 ns per request, under 10%) leaves the JWT's CPU verdict; a
    // 1 h access lifetime no longer bounds revocation.
    let f = Fixture::all()
        .revoke(|r| r.hybrid = vec![hybrid_row(1_000.0, 3600.0)])
        .write();
    let run = f.run();
    let rows = verdicts::rows(&run);
    let jwt_cpu = rows
        .iter()
        .find(|r| r.number == 2)
        .unwrap()
        .judgement
        .verdict;
    let h = verdicts::hybrid::verdicts(&run, &rows);
    let verdict = |row: usize| h.iter().find(|v| v.row == row).unwrap().judgement.verdict;
    assert_eq!(verdict(2), jwt_cpu);
    assert_eq!(verdict(5), Verdict::Confirmed);
}
