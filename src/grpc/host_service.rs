//! `virtplane.v1.HostService`: the host's enabled state, its libvirt connection and
//! its lifecycle events.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{
    convert, lifecycle,
    pb::{self, host_service_server::HostService},
};
use crate::{
    events::{EventHub, EventStats},
    host::HostController,
    hypervisor::Hypervisor,
    store::Store,
};

/// Serves `HostService`.
#[derive(Debug, Clone)]
pub struct HostApi {
    hypervisor: Arc<Hypervisor>,
    host: Arc<HostController>,
    store: Store,
    hub: EventHub,
    stats: Arc<EventStats>,
}

impl HostApi {
    pub fn new(
        hypervisor: Arc<Hypervisor>,
        host: Arc<HostController>,
        store: Store,
        hub: EventHub,
        stats: Arc<EventStats>,
    ) -> Self {
        HostApi {
            hypervisor,
            host,
            store,
            hub,
            stats,
        }
    }
}

#[tonic::async_trait]
impl HostService for HostApi {
    type WatchLifecycleEventsStream = lifecycle::EventStream;

    async fn get_host(
        &self,
        request: Request<pb::GetHostRequest>,
    ) -> Result<Response<pb::Host>, Status> {
        let pb::GetHostRequest {} = request.into_inner();
        // Uses the connection like any caller would, so a dead one is noticed (and the
        // host disabled) here too. Its failure is reported in the reply, not as an error.
        let _ = self.hypervisor.ensure_connected().await;
        let record = self.host.record().await?;
        Ok(Response::new(convert::host(
            record,
            self.hypervisor.status(),
            &self.stats,
        )))
    }

    async fn set_host_enabled(
        &self,
        request: Request<pb::SetHostEnabledRequest>,
    ) -> Result<Response<pb::Host>, Status> {
        let pb::SetHostEnabledRequest { enabled, reason } = request.into_inner();
        let record = self.host.set_enabled(enabled, &reason).await?;
        Ok(Response::new(convert::host(
            record,
            self.hypervisor.status(),
            &self.stats,
        )))
    }

    async fn list_lifecycle_events(
        &self,
        request: Request<pb::ListLifecycleEventsRequest>,
    ) -> Result<Response<pb::ListLifecycleEventsResponse>, Status> {
        let reply =
            lifecycle::list(&self.store, self.host.hostname(), request.into_inner()).await?;
        Ok(Response::new(reply))
    }

    async fn watch_lifecycle_events(
        &self,
        request: Request<pb::WatchLifecycleEventsRequest>,
    ) -> Result<Response<Self::WatchLifecycleEventsStream>, Status> {
        let stream = lifecycle::watch(
            self.store.clone(),
            self.host.hostname().to_owned(),
            self.hub.clone(),
            request.into_inner(),
        )?;
        Ok(Response::new(stream))
    }
}
