//! The service: one line per RPC, dispatching to the handlers; and the one entry
//! every domain operation goes through.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::{
    grpc::pb::{self, domain_service_server::DomainService},
    host::HostController,
    hypervisor::{Admission, Hypervisor, Operation},
};

/// Serves `DomainService` over the host's hypervisor connection.
#[derive(Debug, Clone)]
pub struct DomainApi {
    pub(super) hypervisor: Arc<Hypervisor>,
    host: Arc<HostController>,
}

impl DomainApi {
    pub fn new(hypervisor: Arc<Hypervisor>, host: Arc<HostController>) -> Self {
        DomainApi { hypervisor, host }
    }

    /// Refused on a disabled host when the operation brings new work, then run over
    /// the connection.
    pub(super) async fn perform<O: Operation>(&self, operation: O) -> Result<O::Output, Status> {
        if O::ADMISSION == Admission::EnabledHost {
            self.host.ensure_accepting_work(O::NAME).await?;
        }
        Ok(self.hypervisor.run(operation).await?)
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl DomainService for DomainApi {
    async fn list_domains(
        &self,
        request: Request<pb::ListDomainsRequest>,
    ) -> Reply<pb::ListDomainsResponse> {
        self.list(request.into_inner()).await.map(Response::new)
    }

    async fn get_domain(&self, request: Request<pb::GetDomainRequest>) -> Reply<pb::Domain> {
        self.get(request.into_inner()).await.map(Response::new)
    }

    async fn define_domain(&self, request: Request<pb::DefineDomainRequest>) -> Reply<pb::Domain> {
        self.define(request.into_inner()).await.map(Response::new)
    }

    async fn undefine_domain(
        &self,
        request: Request<pb::UndefineDomainRequest>,
    ) -> Reply<pb::UndefineDomainResponse> {
        self.undefine(request.into_inner()).await.map(Response::new)
    }

    async fn start_domain(&self, request: Request<pb::StartDomainRequest>) -> Reply<pb::Domain> {
        self.start(request.into_inner()).await.map(Response::new)
    }

    async fn shutdown_domain(
        &self,
        request: Request<pb::ShutdownDomainRequest>,
    ) -> Reply<pb::Domain> {
        self.shutdown(request.into_inner()).await.map(Response::new)
    }

    async fn destroy_domain(
        &self,
        request: Request<pb::DestroyDomainRequest>,
    ) -> Reply<pb::Domain> {
        self.destroy(request.into_inner()).await.map(Response::new)
    }

    async fn reboot_domain(&self, request: Request<pb::RebootDomainRequest>) -> Reply<pb::Domain> {
        self.reboot(request.into_inner()).await.map(Response::new)
    }

    async fn suspend_domain(
        &self,
        request: Request<pb::SuspendDomainRequest>,
    ) -> Reply<pb::Domain> {
        self.suspend(request.into_inner()).await.map(Response::new)
    }

    async fn resume_domain(&self, request: Request<pb::ResumeDomainRequest>) -> Reply<pb::Domain> {
        self.resume(request.into_inner()).await.map(Response::new)
    }

    async fn reset_domain(&self, request: Request<pb::ResetDomainRequest>) -> Reply<pb::Domain> {
        self.reset(request.into_inner()).await.map(Response::new)
    }

    async fn set_domain_autostart(
        &self,
        request: Request<pb::SetDomainAutostartRequest>,
    ) -> Reply<pb::Domain> {
        self.set_autostart(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_domain_xml(
        &self,
        request: Request<pb::GetDomainXmlRequest>,
    ) -> Reply<pb::GetDomainXmlResponse> {
        self.xml(request).await.map(Response::new)
    }
}
