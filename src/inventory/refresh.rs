//! Keeping the inventory current: one task re-reads the domains libvirt's events
//! named (a burst about one domain is one read) and refills everything after each
//! (re)connect, retrying a refill that failed while the connection stays up.

use std::{sync::Arc, time::Duration};

use futures_util::{StreamExt, stream};
use tokio::sync::Notify;

use super::{Inventory, handles::Handles};
use crate::{
    hypervisor::{BoxFuture, ConnectionListener, TouchedDomains},
    model::DomainRef,
};

/// Re-reads of distinct domains in flight at once: enough to keep a burst short,
/// few enough to leave libvirt's per-client request slots to the API.
const PARALLEL_READS: usize = 4;
const REFILL_RETRY_FIRST: Duration = Duration::from_millis(200);
const REFILL_RETRY_MAX: Duration = Duration::from_secs(10);

/// Tells the refresh task that a connection was (re)established, and lets go of the
/// domain handles of one that was lost.
#[derive(Debug, Clone, Default)]
pub struct RefillOnConnect {
    connected: Arc<Notify>,
    pub(super) handles: Handles,
}

impl ConnectionListener for RefillOnConnect {
    fn connected(&self) -> BoxFuture<'_> {
        self.connected.notify_one();
        Box::pin(async {})
    }

    fn disconnected<'a>(&'a self, _reason: &'a str) -> BoxFuture<'a> {
        // The inventory turns stale by itself: it compares the connection it was
        // filled on with the live one. Its handles would keep the lost connection open.
        self.handles.clear();
        Box::pin(async {})
    }
}

/// The refresh task's state.
#[derive(Debug)]
pub struct Refresher {
    inventory: Arc<Inventory>,
    touched: Arc<TouchedDomains>,
    connected: RefillOnConnect,
}

impl Refresher {
    pub fn new(
        inventory: Arc<Inventory>,
        touched: Arc<TouchedDomains>,
        connected: RefillOnConnect,
    ) -> Self {
        Refresher {
            inventory,
            touched,
            connected,
        }
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        let mut refill_owed = false;
        let mut retry_in = REFILL_RETRY_FIRST;
        loop {
            if refill_owed {
                match self.inventory.refill().await {
                    Ok(()) => {
                        refill_owed = false;
                        retry_in = REFILL_RETRY_FIRST;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, retry_in = ?retry_in, "inventory refill failed");
                    }
                }
            }
            let retry = async {
                if refill_owed {
                    tokio::time::sleep(retry_in).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = self.connected.connected.notified() => refill_owed = true,
                batch = self.touched.next_batch() => self.reread(batch).await,
                () = retry => retry_in = (retry_in * 2).min(REFILL_RETRY_MAX),
            }
        }
    }

    /// Re-reads the domains of one batch, distinct ones in parallel.
    async fn reread(&self, uuids: Vec<String>) {
        stream::iter(uuids)
            .for_each_concurrent(PARALLEL_READS, |uuid| async move {
                if let Err(e) = self.inventory.refresh(&DomainRef::Uuid(uuid)).await {
                    // A lost connection is covered by the refill after the reconnect.
                    tracing::debug!(error = %e, "re-reading a domain after its event failed");
                }
            })
            .await;
    }
}
