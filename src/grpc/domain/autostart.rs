//! Whether a domain starts with the host.

use tonic::Status;

use super::DomainApi;
use crate::{grpc::pb, hypervisor::SetDomainAutostart, model::DomainRef};

impl DomainApi {
    pub(super) async fn set_autostart(
        &self,
        request: pb::SetDomainAutostartRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::SetDomainAutostartRequest {
            domain,
            autostart,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        Ok(self
            .written_summary(
                self.perform(SetDomainAutostart { domain, autostart })
                    .await?,
            )
            .await)
    }
}
