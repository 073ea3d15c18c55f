//! The service: one line per RPC, dispatching to the handlers; and the one entry
//! every domain operation goes through.

use std::{path::PathBuf, sync::Arc};

use tonic::{Request, Response, Status};

use crate::{
    grpc::{
        Requests, deadline,
        pb::{self, domain_service_server::DomainService},
        retry_safe::{method, mutation, once},
    },
    host::HostController,
    hypervisor::{Admission, Hypervisor, Operation},
    inventory::Inventory,
};

/// Serves `DomainService` over the host's hypervisor connection.
#[derive(Debug, Clone)]
pub struct DomainApi {
    pub(super) hypervisor: Arc<Hypervisor>,
    /// What reads answer from, and what changes write through to.
    pub(super) inventory: Arc<Inventory>,
    host: Arc<HostController>,
    requests: Requests,
    /// Where SaveDomain writes and RestoreDomain reads.
    pub(super) save_dir: Arc<PathBuf>,
}

impl DomainApi {
    pub fn new(
        hypervisor: Arc<Hypervisor>,
        inventory: Arc<Inventory>,
        host: Arc<HostController>,
        requests: Requests,
        save_dir: PathBuf,
    ) -> Self {
        DomainApi {
            hypervisor,
            inventory,
            host,
            requests,
            save_dir: Arc::new(save_dir),
        }
    }

    /// Refused on a disabled host when the operation brings new work, then run over
    /// the connection.
    pub(crate) async fn perform<O: Operation>(&self, operation: O) -> Result<O::Output, Status> {
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
        mutation!(self, "DomainService", request, "DefineDomain", define)
    }

    async fn undefine_domain(
        &self,
        request: Request<pb::UndefineDomainRequest>,
    ) -> Reply<pb::UndefineDomainResponse> {
        mutation!(self, "DomainService", request, "UndefineDomain", undefine)
    }

    async fn start_domain(&self, request: Request<pb::StartDomainRequest>) -> Reply<pb::Domain> {
        mutation!(self, "DomainService", request, "StartDomain", start)
    }

    async fn shutdown_domain(
        &self,
        request: Request<pb::ShutdownDomainRequest>,
    ) -> Reply<pb::ShutdownDomainResponse> {
        // The wait for the guest ends before the client gives up.
        let answer_by = deadline::answer_by(request.metadata());
        once(
            &self.requests,
            self.clone(),
            method!("DomainService", "ShutdownDomain"),
            request.into_inner(),
            move |api, request| async move { api.shutdown(request, answer_by).await },
        )
        .await
        .map(Response::new)
    }

    async fn destroy_domain(
        &self,
        request: Request<pb::DestroyDomainRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(self, "DomainService", request, "DestroyDomain", destroy)
    }

    async fn reboot_domain(&self, request: Request<pb::RebootDomainRequest>) -> Reply<pb::Domain> {
        mutation!(self, "DomainService", request, "RebootDomain", reboot)
    }

    async fn suspend_domain(
        &self,
        request: Request<pb::SuspendDomainRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(self, "DomainService", request, "SuspendDomain", suspend)
    }

    async fn resume_domain(&self, request: Request<pb::ResumeDomainRequest>) -> Reply<pb::Domain> {
        mutation!(self, "DomainService", request, "ResumeDomain", resume)
    }

    async fn reset_domain(&self, request: Request<pb::ResetDomainRequest>) -> Reply<pb::Domain> {
        mutation!(self, "DomainService", request, "ResetDomain", reset)
    }

    async fn set_domain_autostart(
        &self,
        request: Request<pb::SetDomainAutostartRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(
            self,
            "DomainService",
            request,
            "SetDomainAutostart",
            set_autostart
        )
    }

    async fn get_domain_xml(
        &self,
        request: Request<pb::GetDomainXmlRequest>,
    ) -> Reply<pb::GetDomainXmlResponse> {
        self.xml(request).await.map(Response::new)
    }

    async fn set_domain_resources(
        &self,
        request: Request<pb::SetDomainResourcesRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(
            self,
            "DomainService",
            request,
            "SetDomainResources",
            set_resources
        )
    }

    async fn save_domain(&self, request: Request<pb::SaveDomainRequest>) -> Reply<pb::Domain> {
        mutation!(self, "DomainService", request, "SaveDomain", save)
    }

    async fn restore_domain(
        &self,
        request: Request<pb::RestoreDomainRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(self, "DomainService", request, "RestoreDomain", restore)
    }

    async fn managed_save_domain(
        &self,
        request: Request<pb::ManagedSaveDomainRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(
            self,
            "DomainService",
            request,
            "ManagedSaveDomain",
            managed_save
        )
    }

    async fn remove_managed_save(
        &self,
        request: Request<pb::RemoveManagedSaveRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(
            self,
            "DomainService",
            request,
            "RemoveManagedSave",
            remove_managed_save
        )
    }

    async fn update_domain_labels(
        &self,
        request: Request<pb::UpdateDomainLabelsRequest>,
    ) -> Reply<pb::Domain> {
        mutation!(
            self,
            "DomainService",
            request,
            "UpdateDomainLabels",
            update_labels
        )
    }
}
