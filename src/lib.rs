//! tokenbench: opaque session tokens against signed JWTs, measured.
//!
//! Data flows one way: [`claims`] → [`scheme`] → [`workload`] → [`results`] → [`report`].
//!
//! - [`scheme`]: the [`TokenScheme`](scheme::TokenScheme) trait, its two families, and the
//!   one scheme identity ([`scheme::spec`]) every process builds from.
//! - [`store`]: the [`SessionStore`](store::SessionStore) trait, the embedded stores, Redis.
//! - [`denylist`]: `jti` revocation lists for JWTs.
//! - [`claims`]: the claim sets shared by both families.
//! - [`clock`]: injectable time.
//! - [`crypto`]: which crypto library backs `jsonwebtoken` in this process.
//! - [`measure`]: the timing engine, interleaved rounds and their spreads.
//! - [`workload`]: the [`Workload`](workload::Workload) trait and the registry of workloads.
//! - [`run`]: the pipeline of `tokenbench run` (steps, child process, meta.json, report).
//! - [`results`]: run folders, atomic writes, and the versioned results schema.
//! - [`plan`]: the capacity planner (`tokenbench plan`), from a run's results only.
//! - [`report`], [`plot`]: the report (Markdown, HTML, terminal) and its charts, from results
//!   only.
//! - [`http`], [`load`]: the Superb Site server (`serve`) and the open-loop load generator;
//!   [`net`]: what both share (transport, byte counting, TLS, process CPU and placement on
//!   cores, the latency proxy in front of a store), below both.
//! - [`inspect`]: what anyone holding a token can read from it, and JWK verification.
//! - [`units`]: the one formatter of durations, rates and bytes.
//! - [`alloc`]: the counting allocator behind heap bytes per session.

pub mod alloc;
pub mod claims;
pub mod clock;
pub mod crypto;
pub mod denylist;
pub mod http;
pub mod inspect;
pub mod load;
pub mod measure;
pub mod net;
pub mod plan;
pub mod plot;
pub mod report;
pub mod results;
pub mod run;
pub mod scheme;
pub mod store;
pub mod units;
pub mod workload;
