//! `virtplane.v1.HostService`: the host's enabled state and libvirt connection.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{
    convert,
    pb::{self, host_service_server::HostService},
};
use crate::{host::HostController, hypervisor::Hypervisor};

/// Serves `HostService`.
#[derive(Debug, Clone)]
pub struct HostApi {
    hypervisor: Arc<Hypervisor>,
    host: Arc<HostController>,
}

impl HostApi {
    pub fn new(hypervisor: Arc<Hypervisor>, host: Arc<HostController>) -> Self {
        HostApi { hypervisor, host }
    }
}

#[tonic::async_trait]
impl HostService for HostApi {
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
        )))
    }
}
