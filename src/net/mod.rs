//! What the HTTP server (`http`) and the load generator (`load`) share, kept below both so
//! that neither imports the other: how a credential travels ([`Transport`]), the
//! byte-counting stream both wrap their sockets in ([`counting`]), the tap that finds each
//! request head's bytes on a connection ([`header_tap`]), the TLS set-up
//! ([`tls`]), this process's CPU and memory ([`usage`]), and the JSON of the server's
//! `GET /metrics` ([`metrics`]), which the server writes and its readers parse; and what a
//! run of several processes needs beside them: cores for each process and each one's own
//! memory peak ([`placement`]), and network distance to a store ([`proxy`]).

pub mod counting;
pub mod header_tap;
pub mod metrics;
pub mod placement;
pub mod proxy;
pub mod tls;
mod transport;
pub mod usage;

pub use counting::{ByteCounter, CountingStream};
pub use transport::Transport;
