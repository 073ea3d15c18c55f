//! What the inventory keeps of a domain, read in one blocking hop: one domain after an
//! event or a change, every domain after a (re)connect.

use virt::{connect::Connect, domain::Domain};

use super::{device::parse_devices, labels, libvirt};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{DomainRef, DomainView},
};

/// One domain's view; `None` once it no longer exists.
#[derive(Debug, Clone)]
pub struct ReadDomainView(pub DomainRef);

impl Operation for ReadDomainView {
    type Output = Option<DomainView>;
    const NAME: &'static str = "read domain";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = match libvirt::lookup(conn, &self.0) {
            Ok(dom) => dom,
            Err(HypervisorError::DomainNotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        gone_is_none(view(&dom))
    }
}

/// The UUIDs of every domain, active and inactive: one round trip, then their views
/// are read in chunks ([`ReadDomainViews`]), each call within its own deadline however
/// many domains the host runs.
#[derive(Debug, Clone, Copy)]
pub struct ListDomainUuids;

impl Operation for ListDomainUuids {
    type Output = Vec<String>;
    const NAME: &'static str = "list domains";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let domains = conn
            .list_all_domains(0)
            .map_err(|e| HypervisorError::from_virt("list domains", &e))?;
        domains
            .iter()
            .map(|dom| {
                dom.uuid_string()
                    .map_err(|e| HypervisorError::from_virt("read domain uuid", &e))
            })
            .collect()
    }
}

/// The views of several domains by UUID, in one blocking hop; `None` for one that no
/// longer exists.
#[derive(Debug, Clone)]
pub struct ReadDomainViews(pub Vec<String>);

impl Operation for ReadDomainViews {
    type Output = Vec<(String, Option<DomainView>)>;
    const NAME: &'static str = "read domains";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        self.0
            .iter()
            .map(|uuid| {
                let read = ReadDomainView(DomainRef::Uuid(uuid.clone())).call(conn)?;
                Ok((uuid.clone(), read))
            })
            .collect()
    }
}

/// The summary and the devices; the labels come from the same XML as the devices
/// rather than from a metadata call of their own.
fn view(dom: &Domain) -> Result<DomainView, HypervisorError> {
    let domain_xml = dom
        .xml_desc(0)
        .map_err(|e| HypervisorError::from_virt("read domain XML", &e))?;
    let devices = parse_devices(&domain_xml)?;
    let summary = libvirt::summarize_with(dom, labels::from_domain_xml(&domain_xml))?;
    Ok(DomainView { summary, devices })
}

fn gone_is_none(
    view: Result<DomainView, HypervisorError>,
) -> Result<Option<DomainView>, HypervisorError> {
    match view {
        Ok(view) => Ok(Some(view)),
        Err(HypervisorError::DomainGone { .. } | HypervisorError::DomainNotFound { .. }) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
