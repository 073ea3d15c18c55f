//! Where a domain read is answered from: the inventory, or libvirt itself; and the
//! write-through every change makes before it replies.

use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::pb,
    inventory::{Inventory, Served},
    model::InvalidArgument,
    model::{DomainRef, DomainSummary},
};

/// Where a read is answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The inventory; `stale` while libvirt is unreachable.
    Inventory {
        stale: bool,
    },
    Libvirt,
}

impl DomainApi {
    /// The source for a read asking for `consistency`: LIVE asks libvirt; otherwise
    /// the inventory, unless it cannot answer (not yet filled, or stale and not
    /// configured to serve), when libvirt is asked as before it existed.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a value that is no `ReadConsistency`.
    pub(crate) fn source(&self, consistency: i32) -> Result<Source, Status> {
        let consistency = pb::ReadConsistency::try_from(consistency).map_err(|_| {
            Status::from(InvalidArgument::new(
                "consistency",
                format!("`consistency` {consistency} is not a ReadConsistency value"),
            ))
        })?;
        if consistency == pb::ReadConsistency::Live {
            return Ok(Source::Libvirt);
        }
        Ok(match self.inventory.serves() {
            Some(Served::Fresh) => Source::Inventory { stale: false },
            Some(Served::Stale) => Source::Inventory { stale: true },
            None => Source::Libvirt,
        })
    }

    /// The inventory reads are answered from.
    pub(crate) fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Records a change the service made to `domain` in the inventory before the
    /// change is answered: the client reads its own write.
    pub(crate) async fn written(&self, domain: &DomainRef) {
        self.inventory.written(domain).await;
    }

    /// As [`DomainApi::written`], for a change that answered with the domain.
    pub(crate) async fn written_summary(&self, summary: DomainSummary) -> pb::Domain {
        self.written(&DomainRef::Uuid(summary.uuid.clone())).await;
        summary.into()
    }
}
