//! The host's capacity: what it offers guests.

use tonic::Status;

use super::HostApi;
use crate::{grpc::pb, hypervisor::GetHostCapacity};

impl HostApi {
    pub(super) async fn capacity(
        &self,
        request: pb::GetHostCapacityRequest,
    ) -> Result<pb::HostCapacity, Status> {
        let pb::GetHostCapacityRequest {} = request;
        Ok(self.hypervisor.run(GetHostCapacity).await?.into())
    }
}
