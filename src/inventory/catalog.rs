//! The domains themselves: ordered by name for paging, indexed by UUID, and each
//! entry stamped with the sequence number of the libvirt read it came from, so a
//! slow read never overwrites a newer one.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    ops::Bound,
    sync::Arc,
};

use crate::model::{DomainRef, DomainView};

#[derive(Debug, Clone)]
struct Entry {
    view: Arc<DomainView>,
    /// The read it came from.
    seq: u64,
}

/// Every known domain.
#[derive(Debug, Default)]
pub(super) struct Catalog {
    by_name: BTreeMap<String, Entry>,
    name_of: HashMap<String, String>,
    /// Domains a read found gone, with that read's number: an older read that still
    /// saw them must not bring them back. Forgotten two refills later.
    gone: HashMap<String, u64>,
    /// The read number of the previous refill's listing.
    previous_listing: u64,
}

impl Catalog {
    /// The domain `domain` names: by UUID, or by name (a UUID-shaped name included).
    pub(super) fn get(&self, domain: &DomainRef) -> Option<Arc<DomainView>> {
        let by_name = |name: &str| self.by_name.get(name).map(|e| Arc::clone(&e.view));
        match domain {
            DomainRef::Uuid(uuid) => self
                .name_of
                .get(uuid)
                .and_then(|name| by_name(name))
                .or_else(|| by_name(uuid)),
            DomainRef::Name(name) => by_name(name),
        }
    }

    /// Up to `limit` domains after `after` (by name) that `keep` accepts: the cost is
    /// the domains visited, never the whole catalog.
    pub(super) fn page(
        &self,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&DomainView) -> bool,
    ) -> Vec<Arc<DomainView>> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.by_name
            .range::<str, _>((start, Bound::Unbounded))
            .map(|(_, entry)| &entry.view)
            .filter(|view| keep(view))
            .take(limit)
            .map(Arc::clone)
            .collect()
    }

    /// Records what read number `seq` found of the domain `uuid`: its view, or `None`
    /// when it is gone. Ignored when a newer read already answered for it.
    pub(super) fn apply(&mut self, seq: u64, uuid: &str, view: Option<DomainView>) {
        if self.newest_read(uuid).is_some_and(|newest| newest > seq) {
            return;
        }
        self.remove(uuid);
        match view {
            Some(view) => {
                // A name is unique on a host: whoever had it before is gone.
                if let Some(previous) = self.by_name.get(&view.summary.name) {
                    let previous = previous.view.summary.uuid.clone();
                    self.remove(&previous);
                    self.gone.insert(previous, seq);
                }
                self.gone.remove(uuid);
                self.name_of
                    .insert(uuid.to_owned(), view.summary.name.clone());
                self.by_name.insert(
                    view.summary.name.clone(),
                    Entry {
                        view: Arc::new(view),
                        seq,
                    },
                );
            }
            None => {
                self.gone.insert(uuid.to_owned(), seq);
            }
        }
    }

    /// Drops every domain the listing read number `seq` did not show, unless a newer
    /// read found it; the views of listed ones are [`Catalog::apply`]'d one by one.
    /// Forgets the marks of domains found gone before the previous listing: no read
    /// outlives two refills.
    pub(super) fn forget_unlisted(&mut self, seq: u64, listed: &HashSet<String>) {
        let unlisted: Vec<String> = self
            .by_name
            .values()
            .filter(|e| e.seq < seq && !listed.contains(&e.view.summary.uuid))
            .map(|e| e.view.summary.uuid.clone())
            .collect();
        for uuid in unlisted {
            self.apply(seq, &uuid, None);
        }
        let before = self.previous_listing;
        self.gone.retain(|_, at| *at >= before);
        self.previous_listing = seq;
    }

    /// The UUID of the domain `domain` names, if known.
    pub(super) fn uuid_of(&self, domain: &DomainRef) -> Option<String> {
        self.get(domain).map(|view| view.summary.uuid.clone())
    }

    pub(super) fn len(&self) -> usize {
        self.by_name.len()
    }

    fn newest_read(&self, uuid: &str) -> Option<u64> {
        let present = self
            .name_of
            .get(uuid)
            .and_then(|name| self.by_name.get(name))
            .map(|e| e.seq);
        present.max(self.gone.get(uuid).copied())
    }

    fn remove(&mut self, uuid: &str) {
        if let Some(name) = self.name_of.remove(uuid) {
            self.by_name.remove(&name);
        }
    }
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
