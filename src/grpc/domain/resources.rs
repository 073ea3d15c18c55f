//! Resizing a domain: vCPUs, memory and maximum memory.

use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::pb,
    hypervisor::SetDomainResources,
    model::{ChangeScope, DomainRef, ResourceChange},
};

impl DomainApi {
    pub(super) async fn set_resources(
        &self,
        request: pb::SetDomainResourcesRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::SetDomainResourcesRequest {
            domain,
            vcpus,
            memory_kib,
            max_memory_kib,
            live,
            config,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        let change = ResourceChange {
            vcpus,
            memory_kib,
            max_memory_kib,
            scope: ChangeScope { live, config },
        };
        change.check()?;
        Ok(self
            .written_summary(self.perform(SetDomainResources { domain, change }).await?)
            .await)
    }
}
