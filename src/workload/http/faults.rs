//! Faults on a site of K nodes:
//!
//! - `node-killed`: one node is killed (SIGKILL); a step at a moderate rate then shows the
//!   others serving and the requests the balancer still sends to the dead node failing.
//! - `store-cut`: the proxy to the shared store severs every connection and refuses new
//!   ones; each node is asked `GET /me` with a credential issued before the cut. A session
//!   (and a JWT checked against a central denylist) must be refused (401/503), never
//!   accepted without its check; a JWT without a denylist goes on being accepted.

use std::path::Path;
use std::time::Duration;

use super::nodes::{SiteParams, settle, site_generator};
use super::other;
use super::probe::{Nodes, Reply};
use super::site::{ChildProxy, Site, SiteSpec};
use crate::http::Revocation;
use crate::net::placement::Placement;
use crate::results::schema::http::FaultResult;
use crate::scheme::JwtAlg;
use crate::scheme::spec::{SchemeSpec, StoreSpec};
use crate::workload::WorkloadResult;

/// Probes per node while the store is cut.
const CUT_PROBES: usize = 10;

/// Runs the faults on sites of `k` nodes (at least 2 for a node to be killed).
pub fn run(
    exe: &Path,
    p: &SiteParams,
    schemes: &[SchemeSpec],
    store: Option<&StoreSpec>,
    k: usize,
    placement: &Placement,
    hints: &[(SchemeSpec, f64)],
) -> WorkloadResult<Vec<FaultResult>> {
    let mut out = Vec::new();
    if k >= 2
        && let Some(spec) = schemes.first()
    {
        out.push(node_killed(exe, p, spec, k, placement, hints)?);
    }
    if let Some(store) = store
        && let Some(addr) = store.server_address()
    {
        let mut proxy = ChildProxy::start(exe, &addr, Duration::ZERO, None)?;
        let via = store
            .via(proxy.addr())
            .ok_or_else(|| other("store behind a proxy"))?;
        out.extend(store_cut(exe, p, &via, k, placement, &mut proxy)?);
    }
    Ok(out)
}

fn node_killed(
    exe: &Path,
    p: &SiteParams,
    spec: &SchemeSpec,
    k: usize,
    placement: &Placement,
    hints: &[(SchemeSpec, f64)],
) -> WorkloadResult<FaultResult> {
    let site_spec = SiteSpec::bearer(
        spec.clone(),
        Revocation::None,
        None,
        p.accounts,
        p.node_threads,
    );
    let mut site = Site::start(exe, &site_spec, &placement.nodes)?;
    let mut g = site_generator(&site, p, placement, crate::load::Mix::default())?;
    settle(&mut g, p)?;
    let rate = hints
        .iter()
        .rev()
        .find(|(s, _)| s.id() == spec.id())
        .map_or(p.search.start_rate / 2.0, |(_, m)| m * 0.3)
        .max(50.0);
    let victim = k - 1;
    site.nodes[victim].kill();
    let step = g
        .run_step(rate, p.search.warmup, p.common_window)
        .map_err(other)?;
    drop(g);
    site.stop()?;
    let (mut ok, mut refused, mut unreachable) = (0, 0, 0);
    for n in &step.nodes {
        ok += n.ok;
        for (kind, count) in &n.error_kinds {
            if kind.parse::<u16>().is_ok() {
                refused += count;
            } else {
                unreachable += count;
            }
        }
    }
    let survivors_ok = step
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != victim)
        .all(|(_, n)| n.ok > 0);
    Ok(FaultResult {
        fault: "node-killed".into(),
        scheme: spec.id(),
        nodes: k,
        ok_after: ok,
        refused_after: refused,
        unreachable_after: unreachable,
        accepted_unverified: 0,
        outcome: format!(
            "node {} of {k} killed; at {rate:.0} req/s the {} other node(s) {}: {ok} requests \
             served, {unreachable} sent to the dead node or cut off lost",
            victim + 1,
            k - 1,
            if survivors_ok {
                "kept serving"
            } else {
                "did NOT all keep serving"
            },
        ),
    })
}

fn store_cut(
    exe: &Path,
    p: &SiteParams,
    via: &StoreSpec,
    k: usize,
    placement: &Placement,
    proxy: &mut ChildProxy,
) -> WorkloadResult<Vec<FaultResult>> {
    let site = |scheme: SchemeSpec, revocation: Revocation, store: Option<StoreSpec>| {
        SiteSpec::bearer(scheme, revocation, store, 4, p.node_threads)
    };
    let jwt = SchemeSpec::Jwt(JwtAlg::HS256);
    let cases = [
        (
            "session",
            site(SchemeSpec::Session(via.clone()), Revocation::None, None),
            true,
        ),
        ("jwt", site(jwt.clone(), Revocation::None, None), false),
        (
            "jwt-denylist-central",
            site(jwt, Revocation::Denylist, Some(via.clone())),
            true,
        ),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(other)?;
    let mut out = Vec::new();
    for (what, spec, needs_store) in cases {
        let site = Site::start(exe, &spec, &placement.nodes)?;
        let mut nodes = Nodes::new(&site.urls()).map_err(other)?;
        let token = runtime.block_on(nodes.login(0, 1)).map_err(other)?;
        proxy.cut()?;
        let (mut ok, mut refused, mut unreachable) = (0u64, 0u64, 0u64);
        for _ in 0..CUT_PROBES {
            for i in 0..nodes.len() {
                match runtime.block_on(nodes.me(i, &token)) {
                    Reply::Status(s) if s.is_success() => ok += 1,
                    Reply::Status(_) => refused += 1,
                    Reply::Unreachable => unreachable += 1,
                }
            }
        }
        proxy.restore()?;
        site.stop()?;
        let accepted_unverified = if needs_store { ok } else { 0 };
        let total = ok + refused + unreachable;
        let outcome = match (needs_store, ok) {
            (true, 0) => format!("fail closed: {refused} of {total} refused, none accepted"),
            (true, n) => format!("ACCEPTED {n} of {total} without reaching the store"),
            (false, n) if n == total => {
                format!("served without the store: {n} of {total} accepted")
            }
            (false, n) => format!("{n} of {total} accepted without the store"),
        };
        out.push(FaultResult {
            fault: format!("store-cut/{what}"),
            scheme: spec.scheme.id(),
            nodes: k,
            ok_after: ok,
            refused_after: refused,
            unreachable_after: unreachable,
            accepted_unverified,
            outcome,
        });
    }
    Ok(out)
}
