//! The inventory as the API sees it: lock-light reads, and whether it may answer at
//! all, decided from the connection itself, so a lost connection turns it stale the
//! moment the hypervisor knows.

use std::{
    collections::HashSet,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use futures_util::{StreamExt, TryStreamExt, stream};

use super::{RefillOnConnect, Settings, WhenStale, catalog::Catalog, handles::Handles};
use crate::{
    hypervisor::{
        Hypervisor, HypervisorError, ListDomainHandles, ReadDomainLive, ReadDomainView,
        ReadDomainViews, ReadView, Standing,
    },
    model::{DomainRef, DomainView},
};

/// Domains read per call during a refill: one XML read each, well within a
/// call's deadline.
const REFILL_CHUNK: usize = 64;
/// Chunks in flight at once: libvirtd serves 5 requests per client by default, and
/// the API needs some.
const REFILL_PARALLEL: usize = 2;

/// Every domain of the host, as of the last event.
#[derive(Debug)]
pub struct Inventory {
    catalog: RwLock<Catalog>,
    hypervisor: Arc<Hypervisor>,
    settings: Settings,
    /// Numbers libvirt reads, so the newest answer wins.
    reads: AtomicU64,
    /// The connection (its generation) the last completed refill read; 0 before one.
    filled_on: AtomicU64,
    handles: Handles,
}

/// Whether the inventory may answer a read, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// Up to date with libvirt, as far as its events tell.
    Fresh,
    /// libvirt is unreachable; the inventory shows the host as it was then.
    Stale,
}

impl Inventory {
    /// An empty inventory whose domain handles `listener` lets go of when the
    /// connection is lost.
    pub fn new(
        hypervisor: Arc<Hypervisor>,
        settings: Settings,
        listener: &RefillOnConnect,
    ) -> Arc<Self> {
        Arc::new(Inventory {
            catalog: RwLock::default(),
            hypervisor,
            settings,
            reads: AtomicU64::new(0),
            filled_on: AtomicU64::new(0),
            handles: listener.handles.clone(),
        })
    }

    /// Whether reads may come from the inventory; `None` when they must ask libvirt:
    /// on a URI without lifecycle events, before the first refill, after a reconnect until its refill, and while
    /// libvirt is unreachable unless stale answers are configured (asking libvirt
    /// then fails with UNAVAILABLE, as before the inventory existed).
    pub fn serves(&self) -> Option<Served> {
        let filled_on = self.filled_on.load(Ordering::Acquire);
        // Without events it could not follow other clients' changes.
        if filled_on == 0 || !self.hypervisor.delivers_events() {
            return None;
        }
        match self.hypervisor.live_generation() {
            Some(live) if live == filled_on => Some(Served::Fresh),
            Some(_) => None,
            None => (self.settings.when_stale == WhenStale::Serve).then_some(Served::Stale),
        }
    }

    /// The domain `domain` names.
    pub fn get(&self, domain: &DomainRef) -> Option<Arc<DomainView>> {
        self.read().get(domain)
    }

    /// A LIVE read of a domain the inventory knows, by the handle it keeps: two round
    /// trips (state and XML) instead of a lookup and one call per field. What the
    /// XML does not say (persistence, autostart, a managed save image) comes from the
    /// inventory; `None` for a domain it does not know.
    pub fn live_read(&self, domain: &DomainRef) -> Option<ReadDomainLive> {
        let view = self.get(domain)?;
        let summary = &view.summary;
        Some(ReadDomainLive {
            handle: self.handles.get(&summary.uuid)?,
            standing: Standing {
                persistent: summary.persistent,
                autostart: summary.autostart,
                has_managed_save: summary.has_managed_save,
            },
        })
    }

    /// Up to `limit` domains after the name `after` that `keep` accepts, by name.
    pub fn page(
        &self,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&DomainView) -> bool,
    ) -> Vec<Arc<DomainView>> {
        self.read().page(after, limit, keep)
    }

    /// How many domains it holds.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Re-reads one domain from libvirt after the service changed it, before the
    /// change is answered, so the client reads its own write. A failed re-read is
    /// left to the next event or refill: the change itself succeeded.
    pub async fn written(&self, domain: &DomainRef) {
        if let Err(e) = self.refresh(domain).await {
            tracing::debug!(%domain, error = %e, "re-reading a changed domain failed; the next event or refill catches up");
        }
    }

    /// Re-reads one domain and records what libvirt said.
    ///
    /// # Errors
    /// libvirt's, when the read failed.
    pub async fn refresh(&self, domain: &DomainRef) -> Result<(), HypervisorError> {
        let seq = self.next_read();
        let read = self.hypervisor.run(ReadDomainView(domain.clone())).await?;
        let view = read.map(|ReadView { view, handle }| {
            self.handles.insert(handle);
            view
        });
        let uuid = match &view {
            Some(view) => Some(view.summary.uuid.clone()),
            // Gone: marked by its UUID (known, or the one asked for), so an older
            // read still in flight cannot bring it back.
            None => self.read().uuid_of(domain).or_else(|| match domain {
                DomainRef::Uuid(uuid) => Some(uuid.clone()),
                DomainRef::Name(_) => None,
            }),
        };
        if let Some(uuid) = uuid {
            if view.is_none() {
                self.handles.remove(&uuid);
            }
            self.write().apply(seq, &uuid, view);
        }
        Ok(())
    }

    /// Reads every domain afresh: one bulk listing (five round trips: the domains,
    /// their states, which are persistent, autostarted, saved), then the domains'
    /// XML in chunks (each call within its own deadline), then serves from the
    /// connection it was read on. An error leaves it as it was (stale or not yet filled).
    ///
    /// # Errors
    /// libvirt's, when a read failed.
    pub(super) async fn refill(&self) -> Result<(), HypervisorError> {
        let Some(generation) = self.hypervisor.live_generation() else {
            return Err(HypervisorError::unavailable(
                "libvirt is unreachable: the inventory waits for the next connect".to_owned(),
            ));
        };
        let listing = self.next_read();
        let listed = self.hypervisor.run(ListDomainHandles).await?;
        let handles: Vec<_> = listed.iter().map(|l| l.handle.clone()).collect();
        let chunks: Vec<_> = listed.chunks(REFILL_CHUNK).map(<[_]>::to_vec).collect();
        stream::iter(chunks)
            .map(|chunk| async move {
                let seq = self.next_read();
                let views = self.hypervisor.run(ReadDomainViews(chunk)).await?;
                let mut catalog = self.write();
                for (uuid, read) in views {
                    catalog.apply(seq, &uuid, read.map(|read| read.view));
                }
                Ok::<(), HypervisorError>(())
            })
            .buffer_unordered(REFILL_PARALLEL)
            .try_collect::<()>()
            .await?;
        let listed: HashSet<String> = handles.iter().map(|h| h.uuid().to_owned()).collect();
        self.write().forget_unlisted(listing, &listed);
        self.handles.replace(handles);
        self.filled_on.store(generation, Ordering::Release);
        tracing::debug!(domains = listed.len(), generation, "inventory refilled");
        Ok(())
    }

    fn next_read(&self) -> u64 {
        self.reads.fetch_add(1, Ordering::AcqRel) + 1
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Catalog> {
        self.catalog
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
