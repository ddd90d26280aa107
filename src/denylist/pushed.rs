//! A denylist replicated by push: every node keeps its own copy, and a revocation on one
//! node is sent to every other node over a channel, where a receiver thread applies it.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use super::{Denylist, MemoryDenylist};
use crate::store::StoreResult;

/// What travels between nodes.
enum Message {
    /// `jti` is revoked until `expires_at_secs`.
    Revoked { jti: String, expires_at_secs: u64 },
    /// The owning node is being dropped: its receiver thread ends.
    Stop,
}

/// One node's copy of a pushed denylist.
///
/// `insert` adds to the local copy and pushes `(jti, exp)` to every other node of the
/// cluster; `contains` reads only the local copy, so a lookup never leaves the node. Each
/// node runs one receiver thread, which ends when the node is dropped. A push to a node that
/// has already been dropped is ignored (that node no longer validates anything).
///
/// ```
/// use tokenbench::denylist::{Denylist, PushedDenylist};
/// let nodes = PushedDenylist::cluster(3).unwrap();
/// nodes[0].insert("jti-1", u64::MAX).unwrap();
/// assert!(nodes[0].contains("jti-1", 0).unwrap()); // at once on the revoking node
/// let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
/// while !nodes[2].contains("jti-1", 0).unwrap() && std::time::Instant::now() < deadline {
///     std::thread::yield_now();
/// }
/// assert!(nodes[2].contains("jti-1", 0).unwrap()); // soon after on the others
/// ```
pub struct PushedDenylist {
    local: Arc<MemoryDenylist>,
    /// Senders to every other node's receiver.
    peers: Vec<Sender<Message>>,
    /// Sender to this node's own receiver, used only to stop it.
    own: Sender<Message>,
    receiver: Option<JoinHandle<()>>,
}

impl PushedDenylist {
    /// `nodes` copies wired to each other (each pushes to all the others).
    pub fn cluster(nodes: usize) -> std::io::Result<Vec<PushedDenylist>> {
        let (senders, receivers): (Vec<Sender<Message>>, Vec<Receiver<Message>>) =
            (0..nodes).map(|_| mpsc::channel()).unzip();
        let mut out = Vec::with_capacity(nodes);
        for (i, rx) in receivers.into_iter().enumerate() {
            let local = Arc::new(MemoryDenylist::new());
            let applied = local.clone();
            let receiver = std::thread::Builder::new()
                .name(format!("denylist-push-{i}"))
                .spawn(move || receive(&rx, &applied))?;
            out.push(PushedDenylist {
                local,
                peers: senders
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, s)| s.clone())
                    .collect(),
                own: senders[i].clone(),
                receiver: Some(receiver),
            });
        }
        Ok(out)
    }

    /// Number of other nodes this one pushes to.
    pub fn peers(&self) -> usize {
        self.peers.len()
    }
}

/// Applies pushed entries to `local` until told to stop (or every sender is gone).
fn receive(rx: &Receiver<Message>, local: &MemoryDenylist) {
    while let Ok(Message::Revoked {
        jti,
        expires_at_secs,
    }) = rx.recv()
    {
        // MemoryDenylist::insert cannot fail.
        let _ = local.insert(&jti, expires_at_secs);
    }
}

impl Denylist for PushedDenylist {
    fn name(&self) -> &'static str {
        "pushed"
    }

    fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()> {
        self.local.insert(jti, expires_at_secs)?;
        for peer in &self.peers {
            // Err only when that peer was dropped: nothing left to inform.
            let _ = peer.send(Message::Revoked {
                jti: jti.to_owned(),
                expires_at_secs,
            });
        }
        Ok(())
    }

    fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool> {
        self.local.contains(jti, now_secs)
    }

    fn len(&self) -> usize {
        self.local.len()
    }
}

impl Drop for PushedDenylist {
    fn drop(&mut self) {
        let _ = self.own.send(Message::Stop);
        if let Some(handle) = self.receiver.take() {
            // A panicked receiver has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

impl std::fmt::Debug for PushedDenylist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushedDenylist")
            .field("entries", &self.local.len())
            .field("peers", &self.peers.len())
            .finish_non_exhaustive()
    }
}
