//! Taking, listing, reading, reverting to and deleting snapshots.

use tonic::Status;

use super::SnapshotApi;
use crate::{
    grpc::{paging::Paging, pb},
    hypervisor::{CreateSnapshot, DeleteSnapshot, GetSnapshot, ListSnapshots, RevertToSnapshot},
    model::{DomainRef, check_snapshot_description, check_snapshot_name},
};

impl SnapshotApi {
    pub(super) async fn create(
        &self,
        request: pb::CreateSnapshotRequest,
    ) -> Result<pb::Snapshot, Status> {
        let pb::CreateSnapshotRequest {
            domain,
            name,
            description,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        let name = if name.is_empty() {
            None
        } else {
            check_snapshot_name(&name)?;
            Some(name)
        };
        check_snapshot_description(&description)?;
        let operation = CreateSnapshot {
            domain,
            name,
            description,
        };
        Ok(self.domains.perform(operation).await?.into())
    }

    pub(super) async fn list(
        &self,
        request: pb::ListSnapshotsRequest,
    ) -> Result<pb::ListSnapshotsResponse, Status> {
        let pb::ListSnapshotsRequest {
            domain,
            page_size,
            page_token,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        let paging = Paging::parse(page_size, &page_token, domain.as_str().to_owned())?;
        let snapshots = self.domains.perform(ListSnapshots(domain)).await?;
        let mut page: Vec<pb::Snapshot> = snapshots
            .into_iter()
            .filter(|s| paging.after.as_ref().is_none_or(|after| &s.name > after))
            .take(paging.fetch())
            .map(pb::Snapshot::from)
            .collect();
        let next_page_token = paging.finish(&mut page, |s| s.name.clone());
        Ok(pb::ListSnapshotsResponse {
            snapshots: page,
            next_page_token,
        })
    }

    pub(super) async fn get(
        &self,
        request: pb::GetSnapshotRequest,
    ) -> Result<pb::Snapshot, Status> {
        let pb::GetSnapshotRequest { domain, name } = request;
        let domain = DomainRef::parse(&domain)?;
        check_snapshot_name(&name)?;
        Ok(self
            .domains
            .perform(GetSnapshot { domain, name })
            .await?
            .into())
    }

    pub(super) async fn revert(
        &self,
        request: pb::RevertToSnapshotRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::RevertToSnapshotRequest {
            domain,
            name,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        check_snapshot_name(&name)?;
        let reverted = self
            .domains
            .perform(RevertToSnapshot { domain, name })
            .await?;
        Ok(self.domains.written_summary(reverted).await)
    }

    pub(super) async fn delete(
        &self,
        request: pb::DeleteSnapshotRequest,
    ) -> Result<pb::DeleteSnapshotResponse, Status> {
        let pb::DeleteSnapshotRequest {
            domain,
            name,
            with_children,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        check_snapshot_name(&name)?;
        self.domains
            .perform(DeleteSnapshot {
                domain,
                name,
                with_children,
            })
            .await?;
        Ok(pb::DeleteSnapshotResponse {})
    }
}
