//! A domain's power: start, shut down, destroy, reboot, suspend, resume; each
//! answers with the domain afterwards.

use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::pb,
    hypervisor::{
        DestroyDomain, Operation, RebootDomain, ResetDomain, ResumeDomain, ShutdownDomain,
        StartDomain, SuspendDomain,
    },
    model::{DomainRef, DomainSummary},
};

impl DomainApi {
    pub(super) async fn start(
        &self,
        request: pb::StartDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::StartDomainRequest { domain } = request;
        self.power(&domain, StartDomain).await
    }

    pub(super) async fn shutdown(
        &self,
        request: pb::ShutdownDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::ShutdownDomainRequest { domain } = request;
        self.power(&domain, ShutdownDomain).await
    }

    pub(super) async fn destroy(
        &self,
        request: pb::DestroyDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::DestroyDomainRequest { domain } = request;
        self.power(&domain, DestroyDomain).await
    }

    pub(super) async fn reboot(
        &self,
        request: pb::RebootDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::RebootDomainRequest { domain } = request;
        self.power(&domain, RebootDomain).await
    }

    pub(super) async fn suspend(
        &self,
        request: pb::SuspendDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::SuspendDomainRequest { domain } = request;
        self.power(&domain, SuspendDomain).await
    }

    pub(super) async fn reset(
        &self,
        request: pb::ResetDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::ResetDomainRequest { domain } = request;
        self.power(&domain, ResetDomain).await
    }

    pub(super) async fn resume(
        &self,
        request: pb::ResumeDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::ResumeDomainRequest { domain } = request;
        self.power(&domain, ResumeDomain).await
    }

    /// The power operation `operation` makes for the domain `domain` names.
    async fn power<O: Operation<Output = DomainSummary>>(
        &self,
        domain: &str,
        operation: impl FnOnce(DomainRef) -> O,
    ) -> Result<pb::Domain, Status> {
        Ok(self
            .perform(operation(DomainRef::parse(domain)?))
            .await?
            .into())
    }
}
