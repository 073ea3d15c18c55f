//! Listing and reading networks, and their DHCP leases.

use tonic::Status;

use super::NetworkApi;
use crate::{
    grpc::{paging::Paging, pb},
    hypervisor::{GetNetwork, ListNetworkLeases, ListNetworks},
    model::{MacAddress, NetworkRef},
};

impl NetworkApi {
    pub(super) async fn list(
        &self,
        request: pb::ListNetworksRequest,
    ) -> Result<pb::ListNetworksResponse, Status> {
        let pb::ListNetworksRequest {
            page_size,
            page_token,
        } = request;
        let paging = Paging::parse(page_size, &page_token, String::new())?;
        let networks = self.domains.perform(ListNetworks).await?;
        let mut page: Vec<pb::Network> = networks
            .into_iter()
            .filter(|n| paging.after.as_ref().is_none_or(|after| &n.name > after))
            .take(paging.fetch())
            .map(pb::Network::from)
            .collect();
        let next_page_token = paging.finish(&mut page, |n| n.name.clone());
        Ok(pb::ListNetworksResponse {
            networks: page,
            next_page_token,
        })
    }

    pub(super) async fn get(&self, request: pb::GetNetworkRequest) -> Result<pb::Network, Status> {
        let pb::GetNetworkRequest { network } = request;
        let network = NetworkRef::parse(&network)?;
        Ok(self.domains.perform(GetNetwork(network)).await?.into())
    }

    pub(super) async fn leases(
        &self,
        request: pb::ListNetworkLeasesRequest,
    ) -> Result<pb::ListNetworkLeasesResponse, Status> {
        let pb::ListNetworkLeasesRequest { network, mac } = request;
        let network = NetworkRef::parse(&network)?;
        let mac = if mac.is_empty() {
            None
        } else {
            Some(MacAddress::parse("mac", &mac)?)
        };
        let leases = self
            .domains
            .perform(ListNetworkLeases { network, mac })
            .await?;
        Ok(pb::ListNetworkLeasesResponse {
            leases: leases.into_iter().map(pb::NetworkLease::from).collect(),
        })
    }
}
