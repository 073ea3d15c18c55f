//! The service: one line per RPC, dispatching to the handlers.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{hosts_watch, list, watch};
use crate::{
    events::{EventHub, EventStats},
    grpc::{
        Requests,
        pb::{self, host_service_server::HostService},
        retry_safe::{method, once},
    },
    host::HostController,
    hypervisor::Hypervisor,
    store::Store,
};

/// Serves `HostService`.
#[derive(Debug, Clone)]
pub struct HostApi {
    pub(super) hypervisor: Arc<Hypervisor>,
    pub(super) host: Arc<HostController>,
    pub(super) store: Store,
    pub(super) hub: EventHub,
    pub(super) stats: Arc<EventStats>,
    requests: Requests,
}

impl HostApi {
    pub fn new(
        hypervisor: Arc<Hypervisor>,
        host: Arc<HostController>,
        store: Store,
        hub: EventHub,
        stats: Arc<EventStats>,
        requests: Requests,
    ) -> Self {
        HostApi {
            hypervisor,
            host,
            store,
            hub,
            stats,
            requests,
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl HostService for HostApi {
    type WatchLifecycleEventsStream = watch::EventStream;
    type WatchHostsStream = hosts_watch::HostStream;

    async fn get_host(&self, request: Request<pb::GetHostRequest>) -> Reply<pb::Host> {
        self.get(request.into_inner()).await.map(Response::new)
    }

    async fn list_hosts(
        &self,
        request: Request<pb::ListHostsRequest>,
    ) -> Reply<pb::ListHostsResponse> {
        self.list_hosts(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn watch_hosts(
        &self,
        request: Request<pb::WatchHostsRequest>,
    ) -> Reply<Self::WatchHostsStream> {
        Ok(Response::new(self.watch_hosts(request.into_inner())))
    }

    async fn get_host_capacity(
        &self,
        request: Request<pb::GetHostCapacityRequest>,
    ) -> Reply<pb::HostCapacity> {
        self.capacity(request.into_inner()).await.map(Response::new)
    }

    async fn set_host_enabled(
        &self,
        request: Request<pb::SetHostEnabledRequest>,
    ) -> Reply<pb::Host> {
        once(
            &self.requests,
            self.clone(),
            method!("HostService", "SetHostEnabled"),
            request.into_inner(),
            |api, request| async move { api.set_enabled(request).await },
        )
        .await
        .map(Response::new)
    }

    async fn list_lifecycle_events(
        &self,
        request: Request<pb::ListLifecycleEventsRequest>,
    ) -> Reply<pb::ListLifecycleEventsResponse> {
        list::list(&self.store, self.host.hostname(), request.into_inner())
            .await
            .map(Response::new)
    }

    async fn watch_lifecycle_events(
        &self,
        request: Request<pb::WatchLifecycleEventsRequest>,
    ) -> Reply<Self::WatchLifecycleEventsStream> {
        let source = watch::Source {
            store: self.store.clone(),
            this_host: self.host.hostname().to_owned(),
            hub: self.hub.clone(),
            poll_interval: self.host.settings().watch_interval,
        };
        watch::watch(source, request.into_inner()).map(Response::new)
    }
}
