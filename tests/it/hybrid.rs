//! The hybrid scheme's refresh flow (its access tokens pass the conformance suite in
//! `conformance`): rotation, reuse detection killing the family, the grace interval,
//! logout, what revocation leaves valid, malformed refresh tokens, and the race of two
//! nodes refreshing one token on every store (the store-level race is in the store
//! contract, `common::store`).

use std::sync::{Arc, Barrier};
use std::time::Duration;

use crate::common::skip;
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, ManualClock};
use tokenbench::crypto::{self, CryptoBackend};
use tokenbench::denylist::MemoryDenylist;
use tokenbench::scheme::jwt::JwtKeys;
use tokenbench::scheme::spec::{BuildOptions, SchemeSpec, StoreSpec};
use tokenbench::scheme::{
    HybridConfig, HybridScheme, JwtAlg, JwtConfig, JwtScheme, RefreshScheme, Refreshed, Rejection,
    RevocationStrategy, SchemeError, TokenScheme,
};
use tokenbench::store::{MemoryStore, PostgresStore, RwLockStore, SessionStore};

const GRACE: Duration = Duration::from_secs(2);

fn scheme_with<S: SessionStore>(
    store: S,
    grace: Duration,
    revocation: RevocationStrategy,
) -> (HybridScheme<S>, Arc<ManualClock>) {
    crypto::install(CryptoBackend::AwsLc).unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let config = HybridConfig {
        reuse_grace: grace,
        ..HybridConfig::default()
    };
    let scheme = HybridScheme::new(
        JwtAlg::HS256,
        store,
        config,
        JwtConfig::default(),
        revocation,
        clock.clone(),
    )
    .unwrap();
    (scheme, clock)
}

fn scheme(grace: Duration) -> (HybridScheme<MemoryStore>, Arc<ManualClock>) {
    scheme_with(MemoryStore::new(), grace, RevocationStrategy::None)
}

fn claims() -> tokenbench::claims::Claims {
    ClaimSet::Typical.claims("user-1")
}

#[test]
fn a_refresh_rotates_and_the_replaced_token_kills_the_family() {
    let (s, _) = scheme(Duration::ZERO);
    let pair = s.login(&claims()).unwrap();
    assert_eq!(*s.validate(&pair.access).unwrap().claims, claims());
    assert_eq!(pair.refresh.len(), 45, "two 128-bit parts and a dot");
    let Refreshed::Rotated(next) = s.refresh(&pair.refresh).unwrap() else {
        panic!("a current token rotates");
    };
    assert_ne!(next.refresh, pair.refresh);
    assert_eq!(*s.validate(&next.access).unwrap().claims, claims());
    // Same family, new secret.
    assert_eq!(
        next.refresh.split_once('.').unwrap().0,
        pair.refresh.split_once('.').unwrap().0
    );
    let Refreshed::Rotated(third) = s.refresh(&next.refresh).unwrap() else {
        panic!("the successor rotates in turn");
    };
    // The first token again: a reuse; every token of the login dies with it.
    assert_eq!(s.refresh(&pair.refresh), Err(Rejection::Revoked));
    assert_eq!(s.refresh(&third.refresh), Err(Rejection::UnknownSession));
    // Another login is untouched.
    let other = s.login(&claims()).unwrap();
    assert!(s.refresh(&other.refresh).is_ok());
}

#[test]
fn a_retry_within_the_grace_gets_the_same_successor_and_after_it_is_a_reuse() {
    let (s, clock) = scheme(GRACE);
    let pair = s.login(&claims()).unwrap();
    let first = s.refresh(&pair.refresh).unwrap().into_pair();
    clock.advance(GRACE - Duration::from_millis(1));
    let Refreshed::Grace(retry) = s.refresh(&pair.refresh).unwrap() else {
        panic!("a retry within the grace is answered, not rotated");
    };
    assert_eq!(retry.refresh, first.refresh, "the same successor");
    assert!(s.validate(&retry.access).is_ok());
    // The successor is still the live one.
    let second = s.refresh(&first.refresh).unwrap().into_pair();
    // Once the successor itself rotated, the grace no longer applies to the first token.
    assert_eq!(s.refresh(&pair.refresh), Err(Rejection::Revoked));
    assert_eq!(s.refresh(&second.refresh), Err(Rejection::UnknownSession));

    // The grace ends: the retry is a reuse.
    let pair = s.login(&claims()).unwrap();
    let first = s.refresh(&pair.refresh).unwrap().into_pair();
    clock.advance(GRACE);
    assert_eq!(s.refresh(&pair.refresh), Err(Rejection::Revoked));
    assert_eq!(s.refresh(&first.refresh), Err(Rejection::UnknownSession));
}

#[test]
fn logout_kills_the_family_and_the_access_token_lives_to_its_exp_without_a_denylist() {
    let (s, clock) = scheme(Duration::ZERO);
    assert_eq!(s.revocation_window(), Some(Duration::from_secs(300)));
    let pair = s.login(&claims()).unwrap();
    s.logout(&pair.refresh, Some(&pair.access)).unwrap();
    assert_eq!(s.refresh(&pair.refresh), Err(Rejection::UnknownSession));
    assert!(matches!(
        s.logout(&pair.refresh, None),
        Err(SchemeError::NotRevocable(_))
    ));
    // No denylist: the access token is valid until its exp, five minutes.
    assert!(s.validate(&pair.access).is_ok());
    assert!(matches!(
        s.revoke(&pair.access),
        Err(SchemeError::RevocationUnsupported)
    ));
    clock.advance(Duration::from_secs(299));
    assert!(s.validate(&pair.access).is_ok());
    clock.advance(Duration::from_secs(1));
    assert_eq!(s.validate(&pair.access), Err(Rejection::Expired));

    // `revoke` with the refresh token is a logout.
    let pair = s.login(&claims()).unwrap();
    s.revoke(&pair.refresh).unwrap();
    assert_eq!(s.refresh(&pair.refresh), Err(Rejection::UnknownSession));
}

/// `logout_access`: the verified access token's `sid` names the family, which dies; the
/// refreshed access token names the same family; a forged, an expired or a `sid`-less
/// token revokes nothing; with a denylist the access token dies too. The claim costs the
/// bytes of `,"sid":"<22 characters>"` (31) in base64url: 41 or 42 more per access token.
#[test]
fn logout_by_the_access_token_revokes_the_family_it_names_once_verified() {
    let (s, clock) = scheme(Duration::ZERO);
    let pair = s.login(&claims()).unwrap();
    let family = pair.refresh.split('.').next().unwrap();
    let sid = |t: &str| tokenbench::scheme::jwt::peek(t).unwrap().1["sid"].clone();
    assert_eq!(sid(&pair.access), family);
    let next = s.refresh(&pair.refresh).unwrap().into_pair();
    assert_eq!(
        sid(&next.access),
        family,
        "a refreshed token names the family"
    );
    let plain = s.access().issue(&claims()).unwrap();
    assert!(sid(&plain).is_null(), "issue alone names no family");
    let extra = next.access.len() - plain.len();
    assert!((41..=42).contains(&extra), "sid costs {extra} bytes");
    // A forged token (the payload's sid of another family, the signature kept) and a
    // token without sid revoke nothing.
    let other = s.login(&claims()).unwrap();
    let mut parts: Vec<&str> = next.access.split('.').collect();
    let forged_payload = other.access.split('.').nth(1).unwrap();
    parts[1] = forged_payload;
    assert!(matches!(
        s.logout_access(&parts.join(".")),
        Err(SchemeError::NotRevocable(_))
    ));
    assert!(matches!(
        s.logout_access(&plain),
        Err(SchemeError::NotRevocable(_))
    ));
    assert!(s.refresh(&other.refresh).is_ok(), "the other family lives");
    s.logout_access(&next.access).unwrap();
    assert_eq!(s.refresh(&next.refresh), Err(Rejection::UnknownSession));
    // Again: the family is already dead, which is no error.
    s.logout_access(&next.access).unwrap();
    // No denylist: the access token lives to its exp; once expired it revokes nothing.
    assert!(s.validate(&next.access).is_ok());
    let late = s.login(&claims()).unwrap();
    clock.advance(Duration::from_secs(300));
    assert!(matches!(
        s.logout_access(&late.access),
        Err(SchemeError::NotRevocable(Rejection::Expired))
    ));
    assert!(
        s.refresh(&late.refresh).is_ok(),
        "an expired token revoked nothing"
    );

    let denylist = RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new()));
    let (d, _) = scheme_with(MemoryStore::new(), Duration::ZERO, denylist);
    let pair = d.login(&claims()).unwrap();
    d.logout_access(&pair.access).unwrap();
    assert_eq!(d.validate(&pair.access), Err(Rejection::Revoked));
    assert_eq!(d.refresh(&pair.refresh), Err(Rejection::UnknownSession));
}

#[test]
fn with_a_denylist_logout_also_revokes_the_access_token() {
    let denylist = RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new()));
    let (s, _) = scheme_with(MemoryStore::new(), Duration::ZERO, denylist);
    assert_eq!(
        s.revocation_window(),
        None,
        "the denylist's latency applies"
    );
    let pair = s.login(&claims()).unwrap();
    let kept = s.login(&claims()).unwrap();
    s.logout(&pair.refresh, Some(&pair.access)).unwrap();
    assert_eq!(s.validate(&pair.access), Err(Rejection::Revoked));
    assert!(s.validate(&kept.access).is_ok());
}

#[test]
fn the_access_token_expires_and_a_refresh_renews_it_until_the_family_expires() {
    let (s, clock) = scheme(Duration::ZERO);
    let mut pair = s.login(&claims()).unwrap();
    clock.advance(Duration::from_secs(300));
    assert_eq!(s.validate(&pair.access), Err(Rejection::Expired));
    pair = s.refresh(&pair.refresh).unwrap().into_pair();
    assert!(s.validate(&pair.access).is_ok());
    clock.advance(HybridConfig::default().refresh_lifetime);
    assert!(
        s.refresh(&pair.refresh).is_err(),
        "past the family's lifetime"
    );
}

#[test]
fn what_is_not_a_refresh_token_is_refused_as_such() {
    let (s, _) = scheme(Duration::ZERO);
    let pair = s.login(&claims()).unwrap();
    let family = pair.refresh.split_once('.').unwrap().0;
    for (bad, want) in [
        (String::new(), Rejection::Empty),
        (pair.access.clone(), Rejection::Malformed(String::new())),
        (format!("{family}."), Rejection::Malformed(String::new())),
        (
            format!("{family}.{}", "A".repeat(21) + "="),
            Rejection::Malformed(String::new()),
        ),
        (
            format!("{family}:{}", "A".repeat(22)),
            Rejection::Malformed(String::new()),
        ),
        (
            "x".repeat(9000),
            Rejection::Oversized {
                len: 9000,
                max: 8192,
            },
        ),
    ] {
        let got = s.refresh(&bad).unwrap_err();
        assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(&want),
            "{bad:.50}: {got:?}"
        );
    }
    // The refresh token is no access token.
    assert!(matches!(
        s.validate(&pair.refresh),
        Err(Rejection::Malformed(_))
    ));
    // None of it touched the family.
    assert!(s.refresh(&pair.refresh).is_ok());
}

#[test]
fn the_spec_builds_a_hybrid_with_the_options_lifetimes() {
    crypto::install(CryptoBackend::AwsLc).unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let spec = SchemeSpec::Hybrid(JwtAlg::ES256, StoreSpec::RwLock);
    let options = BuildOptions {
        hybrid: HybridConfig {
            access_lifetime: Duration::from_secs(60),
            ..HybridConfig::default()
        },
        ..BuildOptions::default()
    };
    let scheme = spec.build(options, clock.clone()).unwrap();
    assert_eq!(scheme.name(), "hybrid-ES256-rwlock");
    assert_eq!(scheme.name(), spec.name());
    let flow = scheme.refreshing().expect("a hybrid refreshes");
    let pair = flow.login(&claims()).unwrap();
    let p = scheme.validate(&pair.access).unwrap();
    assert_eq!(p.expires_at_secs, clock.now().as_secs() + 60);
    let jwt = SchemeSpec::Jwt(JwtAlg::ES256)
        .build(BuildOptions::default(), clock)
        .unwrap();
    assert!(jwt.refreshing().is_none());
}

/// Two nodes (two schemes sharing the access keys) over one store refresh the same token
/// at once, many times: without grace exactly one wins and the other trips reuse
/// detection (the family dies); within the grace both get the same successor. Never two
/// live successors.
fn race<S: SessionStore>(nodes: [HybridScheme<S>; 2]) {
    for round in 0..20 {
        let pair = nodes[0].login(&claims()).unwrap();
        let barrier = Barrier::new(2);
        let got: Vec<Result<Refreshed, Rejection>> = std::thread::scope(|scope| {
            let handles: Vec<_> = nodes
                .iter()
                .map(|node| {
                    let (barrier, token) = (&barrier, &pair.refresh);
                    scope.spawn(move || {
                        barrier.wait();
                        node.refresh(token)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let grace = nodes[0].config().reuse_grace > Duration::ZERO;
        let rotated: Vec<_> = got
            .iter()
            .filter_map(|r| match r {
                Ok(Refreshed::Rotated(p)) => Some(p.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(rotated.len(), 1, "round {round}: {got:?}");
        let winner = &rotated[0];
        if grace {
            for r in &got {
                let pair = r.as_ref().unwrap().clone().into_pair();
                assert_eq!(pair.refresh, winner.refresh, "round {round}");
            }
            // The one successor lives, on either node.
            assert!(nodes[1].refresh(&winner.refresh).is_ok(), "round {round}");
        } else {
            assert!(
                got.contains(&Err(Rejection::Revoked)),
                "round {round}: {got:?}"
            );
            assert_eq!(
                nodes[1].refresh(&winner.refresh),
                Err(Rejection::UnknownSession),
                "round {round}: the reuse killed the winner's successor too"
            );
        }
    }
}

/// Two nodes over stores `make(i)` (the same store, reached twice), with shared keys.
fn nodes<S: SessionStore>(
    grace: Duration,
    mut make: impl FnMut(usize) -> S,
) -> ([HybridScheme<S>; 2], Arc<ManualClock>) {
    crypto::install(CryptoBackend::AwsLc).unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let keys = Arc::new(JwtKeys::generate(JwtAlg::HS256).unwrap());
    let config = HybridConfig {
        reuse_grace: grace,
        ..HybridConfig::default()
    };
    let jwt = JwtConfig {
        lifetime: config.access_lifetime,
        ..JwtConfig::default()
    };
    let mut node = |i| {
        let access = JwtScheme::with_keys(
            keys.clone(),
            jwt.clone(),
            RevocationStrategy::None,
            clock.clone(),
        );
        HybridScheme::with_access(access, make(i), config, clock.clone())
    };
    ([node(0), node(1)], clock)
}

#[test]
fn two_nodes_racing_on_one_token_make_one_successor_in_process() {
    for grace in [Duration::ZERO, GRACE] {
        // One store shared by both nodes: an `Arc` handed to each.
        let memory = Arc::new(MemoryStore::new());
        let (n, _clock) = nodes(grace, |_| Shared(memory.clone()));
        race(n);
        let rwlock = Arc::new(RwLockStore::new());
        let (n, _clock) = nodes(grace, |_| Shared(rwlock.clone()));
        race(n);
    }
}

#[test]
fn two_nodes_racing_on_one_token_make_one_successor_on_redis() {
    let Some(url) = skip::shared_redis_url() else {
        return;
    };
    for grace in [Duration::ZERO, GRACE] {
        let first = skip::connect(&url, None);
        let prefix = first.prefix().to_owned();
        let mut first = Some(first);
        let (n, _clock) = nodes(grace, |i| match i {
            0 => first.take().unwrap(),
            // The second node shares the first's keys and leaves the cleanup to it.
            _ => skip::connect(&url, Some(&prefix)).with_cleanup_on_drop(false),
        });
        race(n);
    }
}

#[test]
fn two_nodes_racing_on_one_token_make_one_successor_on_postgres() {
    let Some(url) = skip::shared_postgres_url() else {
        return;
    };
    for grace in [Duration::ZERO, GRACE] {
        let first = skip::connect_postgres(&url);
        let table = first.table().to_owned();
        let mut first = Some(first);
        let (n, _clock) = nodes(grace, |i| match i {
            0 => first.take().unwrap(),
            _ => PostgresStore::connect_with_table(&url, &table)
                .unwrap()
                .with_cleanup_on_drop(false),
        });
        race(n);
    }
}

/// A store shared by two nodes of one process.
struct Shared<S>(Arc<S>);

impl<S: SessionStore> SessionStore for Shared<S> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn get(
        &self,
        id: &str,
    ) -> tokenbench::store::StoreResult<Option<tokenbench::store::SessionRecord>> {
        self.0.get(id)
    }
    fn put(
        &self,
        id: &str,
        record: &tokenbench::store::SessionRecord,
    ) -> tokenbench::store::StoreResult<()> {
        self.0.put(id, record)
    }
    fn touch(
        &self,
        id: &str,
        last_seen_ms: u64,
        idle_deadline_ms: u64,
    ) -> tokenbench::store::StoreResult<bool> {
        self.0.touch(id, last_seen_ms, idle_deadline_ms)
    }
    fn delete(&self, id: &str) -> tokenbench::store::StoreResult<bool> {
        self.0.delete(id)
    }
    fn rename(
        &self,
        old: &str,
        new: &str,
        update: &dyn Fn(&mut tokenbench::store::SessionRecord),
    ) -> tokenbench::store::StoreResult<bool> {
        self.0.rename(old, new, update)
    }
    fn refresh_family(
        &self,
        family: &str,
        op: tokenbench::store::FamilyOp<'_>,
    ) -> tokenbench::store::StoreResult<tokenbench::store::FamilyOutcome> {
        self.0.refresh_family(family, op)
    }
    fn len(&self) -> tokenbench::store::StoreResult<usize> {
        self.0.len()
    }
}

/// The revoke workload's hybrid part on a tiny budget: the race table says what the rule
/// says, for every grace and retry delay, and no trial leaves two live successors.
fn revoke_hybrid_rows(store: StoreSpec) {
    use tokenbench::measure::Budget;
    use tokenbench::scheme::spec::Family;
    use tokenbench::workload::revoke::RevokeParams;
    use tokenbench::workload::revoke::hybrid::{RACE_GRACES_MS, RACE_RETRIES_MS};
    use tokenbench::workload::{NoProgress, Settings};
    crypto::install(CryptoBackend::AwsLc).unwrap();
    let mut settings = Settings::defaults(true);
    settings.families = vec![Family::Hybrid];
    settings.stores = vec![store];
    settings.budget = Budget {
        warmup: Duration::from_millis(2),
        measure: Duration::from_millis(20),
        batch: Duration::from_micros(200),
    };
    let p = RevokeParams {
        trials: 4,
        ..RevokeParams::defaults(true)
    };
    let rows = tokenbench::workload::revoke::hybrid::run(&settings, &p, &NoProgress).unwrap();
    assert_eq!(rows.len(), 1);
    let h = &rows[0];
    assert_eq!(
        h.scheme.to_string(),
        format!("hybrid-HS256-{}", settings.stores[0].name())
    );
    assert_eq!(h.errors, 0);
    assert_eq!(
        (h.access_token_bytes > 100, h.refresh_token_bytes),
        (true, 45)
    );
    assert!(h.refresh.median() > 0.0 && h.validate.median() > 0.0);
    assert!((h.refreshes_per_request - 1.0 / 30.0).abs() < 1e-12);
    assert_eq!(h.store_ops_per_request, h.refreshes_per_request);
    assert_eq!(h.revocation_window_s, 300.0);
    assert_eq!(h.family_revocation_refused, h.family_revocation_trials);
    let latency = h.family_revocation_latency.as_ref().expect("a latency");
    assert_eq!(latency.samples as usize, h.family_revocation_refused);
    assert!(latency.median_ns > 0.0 && latency.median_ns <= latency.p99_ns);
    assert_eq!(h.race.len(), RACE_GRACES_MS.len() * RACE_RETRIES_MS.len());
    for r in &h.race {
        assert_eq!(r.two_successors, 0, "{r:?}");
        // A concurrent retry comes within any grace above 0; a later one within the grace
        // only if its delay is shorter.
        let within = r.grace_ms > 0.0 && r.retry_after_ms < r.grace_ms;
        let want = if within { (0, r.trials) } else { (r.trials, 0) };
        assert_eq!((r.tripped, r.same_successor), want, "{r:?}");
    }
}

#[test]
fn the_revoke_workload_measures_the_hybrid_race_in_process() {
    revoke_hybrid_rows(StoreSpec::Memory);
}

#[test]
fn the_revoke_workload_measures_the_hybrid_race_on_redis() {
    let Some(url) = skip::shared_redis_url() else {
        return;
    };
    revoke_hybrid_rows(StoreSpec::Redis(url));
}

/// The http workload serves the hybrid: a quick run only on the embedded store (as the
/// sessions), a full run over every store selected; a virtual user refreshes once every
/// access lifetime × requests per user per second (300 s × 0.1/s = 30 requests).
#[test]
fn the_http_workload_serves_the_hybrid_and_refreshes_once_per_access_lifetime() {
    use tokenbench::workload::Settings;
    use tokenbench::workload::http::served;
    let mut settings = Settings::defaults(true);
    settings.stores = vec![StoreSpec::Memory, StoreSpec::RwLock];
    let names = |quick| -> Vec<String> {
        served(&settings, quick)
            .iter()
            .map(|s| s.id().to_string())
            .filter(|n| n.starts_with("hybrid"))
            .collect()
    };
    assert_eq!(names(true), ["hybrid-HS256-memory"]);
    assert_eq!(names(false), ["hybrid-HS256-memory", "hybrid-HS256-rwlock"]);
    let every = tokenbench::load::refresh_every;
    assert_eq!(every(Duration::from_secs(300), 0.1), 30);
    assert_eq!(every(Duration::from_secs(60), 2.0), 120);
    assert_eq!(
        every(Duration::from_secs(1), 0.1),
        1,
        "at least every request"
    );
    assert_eq!(every(Duration::from_secs(300), f64::NAN), 1);
}
