//! A domain's power: start, destroy, reboot, suspend, resume, reset; each answers
//! with the domain afterwards.

use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::pb,
    hypervisor::{
        DestroyDomain, Operation, RebootDomain, ResetDomain, ResumeDomain, StartDomain,
        SuspendDomain,
    },
    model::{DomainRef, DomainSummary},
};

impl DomainApi {
    pub(super) async fn start(
        &self,
        request: pb::StartDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::StartDomainRequest {
            domain,
            request_id: _,
        } = request;
        self.power(&domain, StartDomain).await
    }

    pub(super) async fn destroy(
        &self,
        request: pb::DestroyDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::DestroyDomainRequest {
            domain,
            request_id: _,
        } = request;
        self.power(&domain, DestroyDomain).await
    }

    pub(super) async fn reboot(
        &self,
        request: pb::RebootDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::RebootDomainRequest {
            domain,
            request_id: _,
        } = request;
        self.power(&domain, RebootDomain).await
    }

    pub(super) async fn suspend(
        &self,
        request: pb::SuspendDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::SuspendDomainRequest {
            domain,
            request_id: _,
        } = request;
        self.power(&domain, SuspendDomain).await
    }

    pub(super) async fn reset(
        &self,
        request: pb::ResetDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::ResetDomainRequest {
            domain,
            request_id: _,
        } = request;
        self.power(&domain, ResetDomain).await
    }

    pub(super) async fn resume(
        &self,
        request: pb::ResumeDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::ResumeDomainRequest {
            domain,
            request_id: _,
        } = request;
        self.power(&domain, ResumeDomain).await
    }

    /// The power operation `operation` makes for the domain `domain` names.
    async fn power<O: Operation<Output = DomainSummary>>(
        &self,
        domain: &str,
        operation: impl FnOnce(DomainRef) -> O,
    ) -> Result<pb::Domain, Status> {
        Ok(self
            .written_summary(self.perform(operation(DomainRef::parse(domain)?)).await?)
            .await)
    }
}
