//! The `browser` workload: real HTTP clients against `tokenbench serve` (issue 18).
//!
//! - [`wire`]: the header bytes each HTTP/2 client really sends per request (hyper,
//!   nghttp2; Chromium's rows from the same recorder), first and repeated.

pub mod wire;
