//! The host as clients see it: enabled or not (and why), its libvirt connection and
//! event counters; operators enable and disable it.

use tonic::Status;

use super::HostApi;
use crate::grpc::{convert, pb};

impl HostApi {
    pub(super) async fn get(&self, request: pb::GetHostRequest) -> Result<pb::Host, Status> {
        let pb::GetHostRequest {} = request;
        // Uses the connection like any caller would, so a dead one is noticed (and the
        // host disabled) here too. Its failure is reported in the reply, not as an error.
        let _ = self.hypervisor.ensure_connected().await;
        let record = self.host.record().await?;
        Ok(convert::host(record, self.hypervisor.status(), &self.stats))
    }

    pub(super) async fn set_enabled(
        &self,
        request: pb::SetHostEnabledRequest,
    ) -> Result<pb::Host, Status> {
        let pb::SetHostEnabledRequest {
            enabled,
            reason,
            request_id: _,
        } = request;
        let record = self.host.set_enabled(enabled, &reason).await?;
        Ok(convert::host(record, self.hypervisor.status(), &self.stats))
    }
}
