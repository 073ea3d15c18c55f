//! Defining, starting, stopping and undefining networks and their autostart flag:
//! only on a host whose configuration allows it.

use tonic::Status;

use super::NetworkApi;
use crate::{
    grpc::pb,
    grpc::status,
    hypervisor::{
        DefineNetwork, Operation, SetNetworkAutostart, StartNetwork, StopNetwork, UndefineNetwork,
    },
    model::InvalidArgument,
    model::{NetworkInfo, NetworkRef},
};

/// libvirt network XML is small; this bounds what a client can make us parse.
const MAX_XML_BYTES: usize = 1024 * 1024;

impl NetworkApi {
    pub(super) async fn define(
        &self,
        request: pb::DefineNetworkRequest,
    ) -> Result<pb::Network, Status> {
        let pb::DefineNetworkRequest {
            xml,
            create_only,
            request_id: _,
        } = request;
        self.allowed("DefineNetwork")?;
        check_xml(&xml)?;
        self.change(DefineNetwork { xml, create_only }).await
    }

    pub(super) async fn start(
        &self,
        request: pb::StartNetworkRequest,
    ) -> Result<pb::Network, Status> {
        let pb::StartNetworkRequest {
            network,
            request_id: _,
        } = request;
        self.allowed("StartNetwork")?;
        self.change(StartNetwork(NetworkRef::parse(&network)?))
            .await
    }

    pub(super) async fn stop(
        &self,
        request: pb::StopNetworkRequest,
    ) -> Result<pb::Network, Status> {
        let pb::StopNetworkRequest {
            network,
            request_id: _,
        } = request;
        self.allowed("StopNetwork")?;
        self.change(StopNetwork(NetworkRef::parse(&network)?)).await
    }

    pub(super) async fn undefine(
        &self,
        request: pb::UndefineNetworkRequest,
    ) -> Result<pb::UndefineNetworkResponse, Status> {
        let pb::UndefineNetworkRequest {
            network,
            allow_missing,
            request_id: _,
        } = request;
        self.allowed("UndefineNetwork")?;
        let network = NetworkRef::parse(&network)?;
        self.domains
            .perform(UndefineNetwork {
                network,
                allow_missing,
            })
            .await?;
        Ok(pb::UndefineNetworkResponse {})
    }

    pub(super) async fn set_autostart(
        &self,
        request: pb::SetNetworkAutostartRequest,
    ) -> Result<pb::Network, Status> {
        let pb::SetNetworkAutostartRequest {
            network,
            autostart,
            request_id: _,
        } = request;
        self.allowed("SetNetworkAutostart")?;
        let network = NetworkRef::parse(&network)?;
        self.change(SetNetworkAutostart { network, autostart })
            .await
    }

    /// Refuses `method` on a host that does not let clients change its networks.
    /// FAILED_PRECONDITION, not PERMISSION_DENIED: no other token would be let
    /// through; the host's configuration must change first, and the message says how.
    fn allowed(&self, method: &str) -> Result<(), Status> {
        if self.manage_networks {
            return Ok(());
        }
        Err(status::network_changes_disabled(
            format!(
                "{method}: this host does not allow changing its networks through virtplane; \
                 its operator allows it with `libvirt.manage_networks = true` (`manage_networks` \
                 in the [libvirt] section of the service's configuration)"
            ),
            method,
        ))
    }

    /// Runs a change and answers with the network afterwards.
    async fn change<O>(&self, operation: O) -> Result<pb::Network, Status>
    where
        O: Operation<Output = NetworkInfo>,
    {
        Ok(self.domains.perform(operation).await?.into())
    }
}

/// The checks libvirt's parser should not have to make: present, bounded, no NUL.
fn check_xml(xml: &str) -> Result<(), Status> {
    if xml.trim().is_empty() {
        return Err(Status::from(InvalidArgument::new(
            "xml",
            "`xml` is required: a libvirt network XML document",
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
    Ok(())
}
