//! The service and its one handler.

use tonic::{Request, Response, Status};

use crate::{
    grpc::{
        DomainApi,
        pb::{self, guest_service_server::GuestService},
    },
    hypervisor::GetGuestInfo,
    model::InvalidArgument,
    model::{AddressSource, DomainRef},
};

/// Serves `GuestService`, through the domain service's one entry to libvirt.
#[derive(Debug, Clone)]
pub struct GuestApi {
    domains: DomainApi,
}

impl GuestApi {
    pub fn new(domains: DomainApi) -> Self {
        GuestApi { domains }
    }
}

#[tonic::async_trait]
impl GuestService for GuestApi {
    async fn get_guest_info(
        &self,
        request: Request<pb::GetGuestInfoRequest>,
    ) -> Result<Response<pb::GuestInfo>, Status> {
        let pb::GetGuestInfoRequest {
            domain,
            address_source,
        } = request.into_inner();
        let domain = DomainRef::parse(&domain)?;
        let source = match pb::AddressSource::try_from(address_source) {
            Ok(pb::AddressSource::Unspecified | pb::AddressSource::Lease) => AddressSource::Lease,
            Ok(pb::AddressSource::Agent) => AddressSource::Agent,
            Ok(pb::AddressSource::Arp) => AddressSource::Arp,
            Err(_) => {
                return Err(Status::from(InvalidArgument::new(
                    "address_source",
                    format!("`address_source` {address_source} is not an AddressSource value"),
                )));
            }
        };
        let info = self
            .domains
            .perform(GetGuestInfo { domain, source })
            .await?;
        Ok(Response::new(info.into()))
    }
}
