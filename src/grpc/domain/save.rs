//! Saving a domain's memory and starting it again from there: a file in the
//! service's save directory, or libvirt's managed save image.

use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::pb,
    hypervisor::{GetDomain, ManagedSaveDomain, RemoveManagedSave, RestoreDomain, SaveDomain},
    model::{DomainRef, SaveFile},
};

impl DomainApi {
    pub(super) async fn save(&self, request: pb::SaveDomainRequest) -> Result<pb::Domain, Status> {
        let pb::SaveDomainRequest {
            domain,
            file,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        let file = if file.is_empty() {
            // The domain's own name, not the reference the client gave.
            let name = self.perform(GetDomain(domain.clone())).await?.name;
            SaveFile::for_domain(&name)
        } else {
            SaveFile::parse("file", &file)?
        };
        let dir = self.save_dir.as_ref().clone();
        Ok(self
            .written_summary(self.perform(SaveDomain { domain, dir, file }).await?)
            .await)
    }

    pub(super) async fn restore(
        &self,
        request: pb::RestoreDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::RestoreDomainRequest {
            file,
            paused,
            request_id: _,
        } = request;
        let file = SaveFile::parse("file", &file)?;
        let dir = self.save_dir.as_ref().clone();
        Ok(self
            .written_summary(self.perform(RestoreDomain { dir, file, paused }).await?)
            .await)
    }

    pub(super) async fn managed_save(
        &self,
        request: pb::ManagedSaveDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::ManagedSaveDomainRequest {
            domain,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        Ok(self
            .written_summary(self.perform(ManagedSaveDomain(domain)).await?)
            .await)
    }

    pub(super) async fn remove_managed_save(
        &self,
        request: pb::RemoveManagedSaveRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::RemoveManagedSaveRequest {
            domain,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        Ok(self
            .written_summary(self.perform(RemoveManagedSave(domain)).await?)
            .await)
    }
}
