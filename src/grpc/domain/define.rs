//! Defining a domain from XML, and undefining one.

use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::pb,
    hypervisor::{DefineDomain, UndefineDomain, UndefineOptions},
    model::DomainRef,
    model::InvalidArgument,
};

/// libvirt domain XML is small; this bounds what a client can make us parse.
const MAX_XML_BYTES: usize = 1024 * 1024;

impl DomainApi {
    pub(super) async fn define(
        &self,
        request: pb::DefineDomainRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::DefineDomainRequest {
            xml,
            create_only,
            request_id: _,
        } = request;
        if xml.trim().is_empty() {
            return Err(Status::from(InvalidArgument::new(
                "xml",
                "`xml` is required: a libvirt domain XML document",
            )));
        }
        if xml.len() > MAX_XML_BYTES {
            return Err(Status::from(InvalidArgument::new(
                "xml",
                format!(
                    "`xml` is {} bytes; at most {MAX_XML_BYTES} are accepted",
                    xml.len()
                ),
            )));
        }
        if xml.contains('\0') {
            return Err(Status::from(InvalidArgument::new(
                "xml",
                "`xml` must not contain NUL characters",
            )));
        }
        Ok(self
            .written_summary(self.perform(DefineDomain { xml, create_only }).await?)
            .await)
    }

    pub(super) async fn undefine(
        &self,
        request: pb::UndefineDomainRequest,
    ) -> Result<pb::UndefineDomainResponse, Status> {
        let pb::UndefineDomainRequest {
            domain,
            allow_missing,
            remove_managed_save,
            remove_snapshots,
            remove_nvram,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        self.perform(UndefineDomain {
            domain: domain.clone(),
            allow_missing,
            options: UndefineOptions {
                managed_save: remove_managed_save,
                snapshots: remove_snapshots,
                nvram: remove_nvram,
            },
        })
        .await?;
        self.written(&domain).await;
        Ok(pb::UndefineDomainResponse {})
    }
}
