//! The libvirt handles of the domains the inventory holds, by UUID, so a LIVE read
//! needs no lookup. A handle keeps its connection alive: they are all let go when the
//! connection is lost and replaced by each refill.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use crate::hypervisor::DomainHandle;

/// Shared by the inventory (which fills it) and the connection listener (which
/// empties it when libvirt goes away).
#[derive(Debug, Clone, Default)]
pub(super) struct Handles(Arc<RwLock<HashMap<String, DomainHandle>>>);

impl Handles {
    pub(super) fn get(&self, uuid: &str) -> Option<DomainHandle> {
        self.read().get(uuid).cloned()
    }

    pub(super) fn insert(&self, handle: DomainHandle) {
        let old = self.write().insert(handle.uuid().to_owned(), handle);
        release(old);
    }

    pub(super) fn remove(&self, uuid: &str) {
        let old = self.write().remove(uuid);
        release(old);
    }

    /// Replaces every handle with `handles`, read on the live connection.
    pub(super) fn replace(&self, handles: impl IntoIterator<Item = DomainHandle>) {
        let fresh = handles
            .into_iter()
            .map(|handle| (handle.uuid().to_owned(), handle))
            .collect();
        let old = std::mem::replace(&mut *self.write(), fresh);
        release(old);
    }

    pub(super) fn clear(&self) {
        let old = std::mem::take(&mut *self.write());
        release(old);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, DomainHandle>> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, DomainHandle>> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Drops handles off the async runtime: the last one of an old connection closes it,
/// which may wait on its socket.
fn release<T: Send + 'static>(old: T) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || drop(old))),
        Err(_) => drop(old),
    }
}
