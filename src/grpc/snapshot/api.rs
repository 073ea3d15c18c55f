//! The service: one line per RPC, dispatching to the handlers.

use tonic::{Request, Response, Status};

use crate::grpc::{
    DomainApi, Requests,
    pb::{self, snapshot_service_server::SnapshotService},
    retry_safe::{method, once},
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

/// Dispatches a mutation through its request id: `$handler` runs at most once per id.
macro_rules! mutation {
    ($self:ident, $request:ident, $method:literal, $handler:ident) => {
        once(
            &$self.requests,
            $self.clone(),
            method!("SnapshotService", $method),
            $request.into_inner(),
            |api, request| async move { api.$handler(request).await },
        )
        .await
        .map(Response::new)
    };
}

#[tonic::async_trait]
impl SnapshotService for SnapshotApi {
    async fn create_snapshot(
        &self,
        request: Request<pb::CreateSnapshotRequest>,
    ) -> Reply<pb::Snapshot> {
        mutation!(self, request, "CreateSnapshot", create)
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
        mutation!(self, request, "RevertToSnapshot", revert)
    }

    async fn delete_snapshot(
        &self,
        request: Request<pb::DeleteSnapshotRequest>,
    ) -> Reply<pb::DeleteSnapshotResponse> {
        mutation!(self, request, "DeleteSnapshot", delete)
    }
}
