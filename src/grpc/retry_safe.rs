//! The requests that carry a `request_id`, and the one way a service runs them: at
//! most once per id (see [`super::idempotency`]).

use std::future::Future;

use prost::Message;
use tonic::Status;

use super::{Requests, pb};

/// A mutating request, safe to retry under its `request_id`.
pub(crate) trait RetrySafe: Message + Send + 'static {
    fn request_id(&self) -> &str;
}

macro_rules! retry_safe {
    ($($request:ident),* $(,)?) => {
        $(impl RetrySafe for pb::$request {
            fn request_id(&self) -> &str {
                &self.request_id
            }
        })*
    };
}

retry_safe!(
    DefineDomainRequest,
    UndefineDomainRequest,
    StartDomainRequest,
    ShutdownDomainRequest,
    DestroyDomainRequest,
    RebootDomainRequest,
    SuspendDomainRequest,
    ResumeDomainRequest,
    ResetDomainRequest,
    SetDomainAutostartRequest,
    SetDomainResourcesRequest,
    SaveDomainRequest,
    RestoreDomainRequest,
    ManagedSaveDomainRequest,
    RemoveManagedSaveRequest,
    UpdateDomainLabelsRequest,
    CreateSnapshotRequest,
    RevertToSnapshotRequest,
    DeleteSnapshotRequest,
    AttachDeviceRequest,
    DetachDeviceRequest,
    DefineNetworkRequest,
    StartNetworkRequest,
    StopNetworkRequest,
    UndefineNetworkRequest,
    SetNetworkAutostartRequest,
    CreateStoragePoolRequest,
    StartStoragePoolRequest,
    StopStoragePoolRequest,
    DeleteStoragePoolRequest,
    CreateVolumeRequest,
    CloneVolumeRequest,
    ResizeVolumeRequest,
    DeleteVolumeRequest,
    SetHostEnabledRequest,
    PublishRequest,
    PublishBatchRequest,
);

/// The full gRPC path of a method of `virtplane.v1`, as the access table names it.
macro_rules! method {
    ($service:literal, $method:literal) => {
        concat!("/virtplane.v1.", $service, "/", $method)
    };
}
pub(crate) use method;

/// Dispatches a mutation of `$service` through its request id: the api's `$handler`
/// runs at most once per id (the api must be `Clone` and hold `requests`).
macro_rules! mutation {
    ($self:ident, $service:literal, $request:ident, $method:literal, $handler:ident) => {
        $crate::grpc::retry_safe::once(
            &$self.requests,
            $self.clone(),
            $crate::grpc::retry_safe::method!($service, $method),
            $request.into_inner(),
            |api, request| async move { api.$handler(request).await },
        )
        .await
        .map(tonic::Response::new)
    };
}
pub(crate) use mutation;

/// Runs `handler` on `api` for `request`, once per `request_id`: a repeat gets the
/// first reply.
///
/// # Errors
/// The handler's error, or the request id's (see [`Requests::once`]).
pub(crate) async fn once<A, Req, Resp, Fut>(
    requests: &Requests,
    api: A,
    method: &'static str,
    request: Req,
    handler: impl FnOnce(A, Req) -> Fut,
) -> Result<Resp, Status>
where
    Req: RetrySafe,
    Resp: Message + Default + 'static,
    Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
{
    if request.request_id().is_empty() {
        return handler(api, request).await;
    }
    let id = request.request_id().to_owned();
    requests
        .once(method, &id, request, move |request| handler(api, request))
        .await
}
