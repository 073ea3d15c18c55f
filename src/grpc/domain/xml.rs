//! A domain's XML; the secure form (graphics passwords) needs an admin token.

use tonic::{Request, Status};

use super::DomainApi;
use crate::{
    grpc::status,
    grpc::{access, pb},
    hypervisor::{GetDomainXml, XmlOptions},
    model::DomainRef,
    security::Caller,
};

impl DomainApi {
    pub(super) async fn xml(
        &self,
        request: Request<pb::GetDomainXmlRequest>,
    ) -> Result<pb::GetDomainXmlResponse, Status> {
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
            return Err(status::read_only_connection(
                "`secure` XML needs a read-write libvirt connection; this service's is read-only",
                "secure",
            ));
        }
        let options = XmlOptions { secure, inactive };
        let xml = self.perform(GetDomainXml { domain, options }).await?;
        Ok(pb::GetDomainXmlResponse { xml })
    }
}
