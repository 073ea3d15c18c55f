//! The service: one line per RPC, dispatching to the handlers.

use std::{path::PathBuf, sync::Arc};

use tonic::{Request, Response, Status};

use crate::{
    events::EventHub,
    grpc::domain::Source,
    grpc::{
        DomainApi, Requests,
        pb::{self, device_service_server::DeviceService},
        retry_safe::mutation,
    },
    hypervisor::{HypervisorError, ListDevices},
    model::DomainRef,
};

/// Serves `DeviceService`, through the domain service's one entry to libvirt.
#[derive(Debug, Clone)]
pub struct DeviceApi {
    pub(super) domains: DomainApi,
    requests: Requests,
    /// Where disk images may be attached from.
    pub(super) storage_roots: Arc<Vec<PathBuf>>,
    /// Device events, which confirm a live detach.
    pub(super) hub: EventHub,
}

impl DeviceApi {
    pub fn new(
        domains: DomainApi,
        requests: Requests,
        storage_roots: Vec<PathBuf>,
        hub: EventHub,
    ) -> Self {
        DeviceApi {
            domains,
            requests,
            storage_roots: Arc::new(storage_roots),
            hub,
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl DeviceService for DeviceApi {
    async fn list_devices(&self, request: Request<pb::ListDevicesRequest>) -> Reply<pb::Devices> {
        let pb::ListDevicesRequest {
            domain,
            inactive,
            consistency,
        } = request.into_inner();
        let domain = DomainRef::parse(&domain)?;
        // The inventory holds the running domain's devices, not the definition's.
        let source = self.domains.source(consistency)?;
        if let (Source::Inventory { stale }, false) = (source, inactive) {
            let view = self
                .domains
                .inventory()
                .get(&domain)
                .ok_or(HypervisorError::DomainNotFound { domain })?;
            return Ok(Response::new(pb::Devices {
                stale,
                ..view.devices.clone().into()
            }));
        }
        let devices = self
            .domains
            .perform(ListDevices { domain, inactive })
            .await?;
        Ok(Response::new(devices.into()))
    }

    async fn attach_device(
        &self,
        request: Request<pb::AttachDeviceRequest>,
    ) -> Reply<pb::AttachDeviceResponse> {
        mutation!(self, "DeviceService", request, "AttachDevice", attach)
    }

    async fn detach_device(
        &self,
        request: Request<pb::DetachDeviceRequest>,
    ) -> Reply<pb::DetachDeviceResponse> {
        mutation!(self, "DeviceService", request, "DetachDevice", detach)
    }
}
