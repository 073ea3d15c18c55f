//! `virtplane.v1.DomainService`: validate, convert in, call the hypervisor, convert out.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{
    access,
    convert::state_filter,
    paging::Paging,
    pb::{self, domain_service_server::DomainService},
};
use crate::{
    host::HostController,
    hypervisor::{
        Admission, DefineDomain, DestroyDomain, GetDomain, GetDomainXml, Hypervisor, ListDomains,
        Operation, RebootDomain, ResumeDomain, ShutdownDomain, StartDomain, SuspendDomain,
        UndefineDomain, XmlOptions,
    },
    model::{DomainRef, DomainSummary},
    security::Caller,
};

/// libvirt domain XML is small; this bounds what a client can make us parse.
const MAX_XML_BYTES: usize = 1024 * 1024;

/// Serves `DomainService` over the host's hypervisor connection.
#[derive(Debug, Clone)]
pub struct DomainApi {
    hypervisor: Arc<Hypervisor>,
    host: Arc<HostController>,
}

impl DomainApi {
    pub fn new(hypervisor: Arc<Hypervisor>, host: Arc<HostController>) -> Self {
        DomainApi { hypervisor, host }
    }

    /// The one entry every domain operation goes through: refused on a disabled
    /// host when it brings new work, then run over the connection.
    async fn perform<O: Operation>(&self, operation: O) -> Result<O::Output, Status> {
        if O::ADMISSION == Admission::EnabledHost {
            self.host.ensure_accepting_work(O::NAME).await?;
        }
        Ok(self.hypervisor.run(operation).await?)
    }

    /// A power operation on the domain `domain` names; the domain afterwards.
    async fn power<O: Operation<Output = DomainSummary>>(
        &self,
        domain: &str,
        operation: impl FnOnce(DomainRef) -> O,
    ) -> Result<Response<pb::Domain>, Status> {
        let summary = self.perform(operation(DomainRef::parse(domain)?)).await?;
        Ok(Response::new(summary.into()))
    }
}

#[tonic::async_trait]
impl DomainService for DomainApi {
    async fn list_domains(
        &self,
        request: Request<pb::ListDomainsRequest>,
    ) -> Result<Response<pb::ListDomainsResponse>, Status> {
        let pb::ListDomainsRequest {
            page_size,
            page_token,
            state,
        } = request.into_inner();
        let filter = state_filter(state)?;
        let filter_key = filter.map(|s| format!("{s:?}")).unwrap_or_default();
        let paging = Paging::parse(page_size, &page_token, filter_key)?;

        let domains = self.perform(ListDomains).await?;
        let mut page: Vec<pb::Domain> = domains
            .into_iter()
            .filter(|d| filter.is_none_or(|state| d.state == state))
            .filter(|d| paging.after.as_ref().is_none_or(|after| &d.name > after))
            .take(paging.fetch())
            .map(pb::Domain::from)
            .collect();
        let next_page_token = paging.finish(&mut page, |d| d.name.clone());
        Ok(Response::new(pb::ListDomainsResponse {
            domains: page,
            next_page_token,
        }))
    }

    async fn get_domain(
        &self,
        request: Request<pb::GetDomainRequest>,
    ) -> Result<Response<pb::Domain>, Status> {
        let pb::GetDomainRequest { domain } = request.into_inner();
        let domain = DomainRef::parse(&domain)?;
        let summary = self.perform(GetDomain(domain)).await?;
        Ok(Response::new(summary.into()))
    }

    async fn define_domain(
        &self,
        request: Request<pb::DefineDomainRequest>,
    ) -> Result<Response<pb::Domain>, Status> {
        let pb::DefineDomainRequest { xml } = request.into_inner();
        if xml.trim().is_empty() {
            return Err(Status::invalid_argument(
                "`xml` is required: a libvirt domain XML document",
            ));
        }
        if xml.len() > MAX_XML_BYTES {
            return Err(Status::invalid_argument(format!(
                "`xml` is {} bytes; at most {MAX_XML_BYTES} are accepted",
                xml.len()
            )));
        }
        if xml.contains('\0') {
            return Err(Status::invalid_argument(
                "`xml` must not contain NUL characters",
            ));
        }
        let summary = self.perform(DefineDomain { xml }).await?;
        Ok(Response::new(summary.into()))
    }

    async fn undefine_domain(
        &self,
        request: Request<pb::UndefineDomainRequest>,
    ) -> Result<Response<pb::UndefineDomainResponse>, Status> {
        let pb::UndefineDomainRequest { domain } = request.into_inner();
        let domain = DomainRef::parse(&domain)?;
        self.perform(UndefineDomain(domain)).await?;
        Ok(Response::new(pb::UndefineDomainResponse {}))
    }

    async fn start_domain(
        &self,
        request: Request<pb::StartDomainRequest>,
    ) -> Result<Response<pb::Domain>, Status> {
        let pb::StartDomainRequest { domain } = request.into_inner();
        self.power(&domain, StartDomain).await
    }

    async fn shutdown_domain(
        &self,
        request: Request<pb::ShutdownDomainRequest>,
    ) -> Result<Response<pb::Domain>, Status> {
        let pb::ShutdownDomainRequest { domain } = request.into_inner();
        self.power(&domain, ShutdownDomain).await
    }

    async fn destroy_domain(
        &self,
        request: Request<pb::DestroyDomainRequest>,
    ) -> Result<Response<pb::Domain>, Status> {
        let pb::DestroyDomainRequest { domain } = request.into_inner();
        self.power(&domain, DestroyDomain).await
    }

    async fn reboot_domain(
        &self,
        request: Request<pb::RebootDomainRequest>,
    ) -> Result<Response<pb::Domain>, Status> {
        let pb::RebootDomainRequest { domain } = request.into_inner();
        self.power(&domain, RebootDomain).await
    }

    async fn suspend_domain(
        &self,
        request: Request<pb::SuspendDomainRequest>,
    ) -> Result<Response<pb::Domain>, Status> {
        let pb::SuspendDomainRequest { domain } = request.into_inner();
        self.power(&domain, SuspendDomain).await
    }

    async fn resume_domain(
        &self,
        request: Request<pb::ResumeDomainRequest>,
    ) -> Result<Response<pb::Domain>, Status> {
        let pb::ResumeDomainRequest { domain } = request.into_inner();
        self.power(&domain, ResumeDomain).await
    }

    async fn get_domain_xml(
        &self,
        request: Request<pb::GetDomainXmlRequest>,
    ) -> Result<Response<pb::GetDomainXmlResponse>, Status> {
        let caller = request.extensions().get::<Caller>().cloned();
        let pb::GetDomainXmlRequest {
            domain,
            secure,
            inactive,
        } = request.into_inner();
        if secure {
            access::check_field(caller.as_ref(), access::GET_DOMAIN_XML, "secure")?;
        }
        let domain = DomainRef::parse(&domain)?;
        if secure && self.hypervisor.read_only() {
            return Err(Status::failed_precondition(
                "`secure` XML needs a read-write libvirt connection; this service's is read-only",
            ));
        }
        let options = XmlOptions { secure, inactive };
        let xml = self.perform(GetDomainXml { domain, options }).await?;
        Ok(Response::new(pb::GetDomainXmlResponse { xml }))
    }
}
