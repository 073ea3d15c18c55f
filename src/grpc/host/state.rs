//! The host as clients see it: enabled or not (and why), its libvirt connection and
//! event counters; operators enable and disable it. Another host of the shared
//! database is shown as its own agent last reported it.

use tonic::Status;

use super::HostApi;
use crate::{
    grpc::{convert, pb, status},
    store::StoreError,
};

impl HostApi {
    pub(super) async fn get(&self, request: pb::GetHostRequest) -> Result<pb::Host, Status> {
        let pb::GetHostRequest { hostname } = request;
        let down_after = self.host.settings().down_after;
        if let Some(hostname) = super::fleet::parse_hostname("hostname", &hostname)?
            && hostname != self.host.hostname()
        {
            return match self.store.host(&hostname).await {
                Ok(record) => Ok(convert::fleet_host(
                    record,
                    crate::store::now_millis(),
                    down_after,
                )),
                Err(StoreError::HostMissing(_)) => Err(status::host_not_found(&hostname)),
                Err(e) => Err(e.into()),
            };
        }
        // Uses the connection like any caller would, so a dead one is noticed (and the
        // host disabled) here too. Its failure is reported in the reply, not as an error.
        let _ = self.hypervisor.ensure_connected().await;
        let record = self.host.record().await?;
        Ok(convert::host(
            record,
            self.hypervisor.status(),
            &self.stats,
            down_after,
        ))
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
        Ok(convert::host(
            record,
            self.hypervisor.status(),
            &self.stats,
            self.host.settings().down_after,
        ))
    }
}
