//! The service: one line per RPC, dispatching to the handlers.

use tonic::{Request, Response, Status};

use crate::grpc::{
    DomainApi, Requests,
    pb::{self, network_service_server::NetworkService},
    retry_safe::mutation,
};

/// Serves `NetworkService`, through the domain service's one entry to libvirt.
#[derive(Debug, Clone)]
pub struct NetworkApi {
    pub(super) domains: DomainApi,
    requests: Requests,
    /// `libvirt.manage_networks`: whether this host lets clients change its networks.
    pub(super) manage_networks: bool,
}

impl NetworkApi {
    pub fn new(domains: DomainApi, requests: Requests, manage_networks: bool) -> Self {
        NetworkApi {
            domains,
            requests,
            manage_networks,
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl NetworkService for NetworkApi {
    async fn list_networks(
        &self,
        request: Request<pb::ListNetworksRequest>,
    ) -> Reply<pb::ListNetworksResponse> {
        self.list(request.into_inner()).await.map(Response::new)
    }

    async fn get_network(&self, request: Request<pb::GetNetworkRequest>) -> Reply<pb::Network> {
        self.get(request.into_inner()).await.map(Response::new)
    }

    async fn list_network_leases(
        &self,
        request: Request<pb::ListNetworkLeasesRequest>,
    ) -> Reply<pb::ListNetworkLeasesResponse> {
        self.leases(request.into_inner()).await.map(Response::new)
    }

    async fn define_network(
        &self,
        request: Request<pb::DefineNetworkRequest>,
    ) -> Reply<pb::Network> {
        mutation!(self, "NetworkService", request, "DefineNetwork", define)
    }

    async fn start_network(&self, request: Request<pb::StartNetworkRequest>) -> Reply<pb::Network> {
        mutation!(self, "NetworkService", request, "StartNetwork", start)
    }

    async fn stop_network(&self, request: Request<pb::StopNetworkRequest>) -> Reply<pb::Network> {
        mutation!(self, "NetworkService", request, "StopNetwork", stop)
    }

    async fn undefine_network(
        &self,
        request: Request<pb::UndefineNetworkRequest>,
    ) -> Reply<pb::UndefineNetworkResponse> {
        mutation!(self, "NetworkService", request, "UndefineNetwork", undefine)
    }

    async fn set_network_autostart(
        &self,
        request: Request<pb::SetNetworkAutostartRequest>,
    ) -> Reply<pb::Network> {
        mutation!(
            self,
            "NetworkService",
            request,
            "SetNetworkAutostart",
            set_autostart
        )
    }
}
