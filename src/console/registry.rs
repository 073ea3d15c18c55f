//! Who holds which console: one client per device, unless another takes it over with
//! `force`; the one that loses it is told why, as is every client when the service
//! stops; and every session hears of each connect outcome, to check its stream's
//! connection is still the live one.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::SystemTime,
};

use tokio::sync::{oneshot, watch};

use super::Ending;
use crate::hypervisor::{BoxFuture, ConnectionListener, ConsoleTarget};

/// A console is one host-side device of one domain: a console that mirrors a serial
/// port shares that port's pseudo-terminal, so the two are one console here too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    uuid: String,
    path: String,
}

#[derive(Debug)]
struct Holder {
    id: u64,
    since: SystemTime,
    tell: oneshot::Sender<Ending>,
}

#[derive(Debug, Default)]
struct Inner {
    holders: HashMap<Key, Holder>,
    next_id: u64,
}

/// The consoles open through this service.
#[derive(Debug, Clone)]
pub struct Consoles {
    inner: Arc<Mutex<Inner>>,
    /// Bumped at every connect outcome: each session then checks that the connection
    /// its stream lives on is still the live one.
    connection_changes: Arc<watch::Sender<u64>>,
}

impl Default for Consoles {
    fn default() -> Self {
        Consoles {
            inner: Arc::default(),
            connection_changes: Arc::new(watch::Sender::new(0)),
        }
    }
}

/// A console held by one client; dropping it lets the console go.
#[derive(Debug)]
pub(super) struct Claim {
    consoles: Consoles,
    key: Key,
    id: u64,
    /// Resolves when the session must end for a reason outside it.
    pub(super) told: oneshot::Receiver<Ending>,
    /// Changes when libvirt's connection was lost or replaced.
    pub(super) connection_changes: watch::Receiver<u64>,
}

/// The console is held by another client of this service.
#[derive(Debug, Clone)]
pub(super) struct Held {
    pub(super) since: SystemTime,
}

impl Consoles {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `target` for a new client: refused while another holds it, unless
    /// `force`, which tells the other one it was taken over.
    pub(super) fn claim(&self, target: &ConsoleTarget, force: bool) -> Result<Claim, Held> {
        let key = Key {
            uuid: target.uuid.clone(),
            path: target.device.path.clone(),
        };
        let mut inner = self.lock();
        if let Some(holder) = inner.holders.get(&key)
            && !holder.tell.is_closed()
        {
            if !force {
                return Err(Held {
                    since: holder.since,
                });
            }
            if let Some(previous) = inner.holders.remove(&key) {
                let _ = previous.tell.send(Ending::TakenOver {
                    device: target.device.alias.clone(),
                    domain: target.name.clone(),
                });
            }
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let (tell, told) = oneshot::channel();
        inner.holders.insert(
            key.clone(),
            Holder {
                id,
                since: SystemTime::now(),
                tell,
            },
        );
        Ok(Claim {
            consoles: self.clone(),
            key,
            id,
            told,
            connection_changes: self.connection_changes.subscribe(),
        })
    }

    /// Ends every open console with `ending`.
    pub fn end_all(&self, ending: &Ending) {
        let holders: Vec<Holder> = self.lock().holders.drain().map(|(_, h)| h).collect();
        for holder in holders {
            let _ = holder.tell.send(ending.clone());
        }
    }

    /// How many consoles are open.
    pub fn open_count(&self) -> usize {
        self.lock().holders.len()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut inner = self.consoles.lock();
        if inner
            .holders
            .get(&self.key)
            .is_some_and(|h| h.id == self.id)
        {
            inner.holders.remove(&self.key);
        }
    }
}

impl ConnectionListener for Consoles {
    /// A new connection means the previous one is gone, and the streams on it.
    fn connected(&self) -> BoxFuture<'_> {
        Box::pin(async { self.connection_changes.send_modify(|n| *n += 1) })
    }

    fn disconnected<'a>(&'a self, _reason: &'a str) -> BoxFuture<'a> {
        Box::pin(async { self.connection_changes.send_modify(|n| *n += 1) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hypervisor::ConsoleDevice;

    fn target() -> ConsoleTarget {
        ConsoleTarget {
            uuid: "u".into(),
            name: "web".into(),
            device: ConsoleDevice {
                alias: "serial0".into(),
                path: "/dev/pts/3".into(),
            },
        }
    }

    #[test]
    fn a_held_console_is_refused_then_taken_over_with_force() {
        let consoles = Consoles::default();
        let mut first = consoles.claim(&target(), false).expect("free");
        assert!(consoles.claim(&target(), false).is_err());
        let second = consoles.claim(&target(), true).expect("forced");
        assert!(matches!(
            first.told.try_recv(),
            Ok(Ending::TakenOver { .. })
        ));
        // The first one letting go does not free the console the second one holds.
        drop(first);
        assert_eq!(consoles.open_count(), 1);
        drop(second);
        assert_eq!(consoles.open_count(), 0);
        assert!(consoles.claim(&target(), false).is_ok());
    }

    #[test]
    fn every_console_is_told_when_the_service_stops() {
        let consoles = Consoles::default();
        let mut claim = consoles.claim(&target(), false).expect("free");
        consoles.end_all(&Ending::ServiceStopping);
        assert_eq!(claim.told.try_recv(), Ok(Ending::ServiceStopping));
        assert_eq!(consoles.open_count(), 0);
    }
}
