//! The integration tests on the default crypto backend (aws-lc-rs), one binary: every test
//! file of the project is a module here, so the crate links once (matklad's "Delete Cargo
//! Integration Tests"). `jsonwebtoken`'s crypto provider is process-wide, so the RustCrypto
//! conformance run is the one other binary, `tests/rust_crypto/`.
//!
//! - `conformance`: the conformance suite on every scheme (`common::suite`).
//! - `stores`: the store contract (`common::store`) on every store, Redis and Redis Cluster
//!   included.
//! - `sessions`, `jwt`, `hybrid`, `revoke`: family behaviour (the hybrid's refresh flow
//!   and its race on every store), revocation strategies.
//! - `redis`, `redis_workloads`, `redis_cluster`, `postgres`: against real servers
//!   (`common::skip`).
//! - `report`, `inspect`, `cli`: outputs, token inspection, the binary as a user meets it.
//! - `browser`: a real headless Chromium on the site (skipped without one, failed on CI).
//! - `http`: the Superb Site's routes through the router and over sockets, the load
//!   generator, the http workload.
//! - `wire`: the header bytes each HTTP/2 client sends per request (hyper, nghttp2).

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod browser;
mod cli;
mod conformance;
mod http;
mod hybrid;
mod inspect;
mod jwt;
mod layers;
mod paseto;
mod postgres;
mod proxy;
mod redis;
mod redis_cluster;
mod redis_workloads;
mod report;
mod revoke;
mod sessions;
mod stores;
mod wire;
