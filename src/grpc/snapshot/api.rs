//! The service: one line per RPC, dispatching to the handlers.

use tonic::{Request, Response, Status};

use crate::grpc::{
    DomainApi, Requests,
    pb::{self, snapshot_service_server::SnapshotService},
    retry_safe::mutation,
};

/// Serves `SnapshotService`, through the domain service's one entry to libvirt.
#[derive(Debug, Clone)]
pub struct SnapshotApi {
    pub(super) domains: DomainApi,
    requests: Requests,
}

impl SnapshotApi {
    pub fn new(domains: DomainApi, requests: Requests) -> Self {
        SnapshotApi { domains, requests }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl SnapshotService for SnapshotApi {
    async fn create_snapshot(
        &self,
        request: Request<pb::CreateSnapshotRequest>,
    ) -> Reply<pb::Snapshot> {
        mutation!(self, "SnapshotService", request, "CreateSnapshot", create)
    }

    async fn list_snapshots(
        &self,
        request: Request<pb::ListSnapshotsRequest>,
    ) -> Reply<pb::ListSnapshotsResponse> {
        self.list(request.into_inner()).await.map(Response::new)
    }

    async fn get_snapshot(&self, request: Request<pb::GetSnapshotRequest>) -> Reply<pb::Snapshot> {
        self.get(request.into_inner()).await.map(Response::new)
    }

    async fn revert_to_snapshot(
        &self,
        request: Request<pb::RevertToSnapshotRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(self, "SnapshotService", request, "RevertToSnapshot", revert)
    }

    async fn delete_snapshot(
        &self,
        request: Request<pb::DeleteSnapshotRequest>,
    ) -> Reply<pb::DeleteSnapshotResponse> {
        mutation!(self, "SnapshotService", request, "DeleteSnapshot", delete)
    }
}
