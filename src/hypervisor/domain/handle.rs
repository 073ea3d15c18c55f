//! A domain handle kept between calls, and the reads it makes cheap: with a handle in
//! hand a domain needs no lookup round trip, since libvirt's remote protocol names a
//! domain by its UUID in every call.

use std::fmt;

use virt::{connect::Connect, domain::Domain};

use super::{
    libvirt,
    xml_summary::{self, RawState, Standing},
};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry, ffi},
    model::{DomainRef, DomainSummary},
};

/// A libvirt domain handle and its UUID. It holds a reference to the connection it
/// came from: keep it only while that connection is the live one.
#[derive(Clone)]
pub struct DomainHandle {
    dom: Domain,
    uuid: String,
    name: String,
}

impl fmt::Debug for DomainHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DomainHandle").field(&self.uuid).finish()
    }
}

impl DomainHandle {
    pub(super) fn new(dom: Domain) -> Result<Self, HypervisorError> {
        // Both are kept in the handle by libvirt: no round trip.
        let uuid = dom
            .uuid_string()
            .map_err(|e| HypervisorError::from_virt("read domain uuid", &e))?;
        let name = dom
            .name()
            .map_err(|e| HypervisorError::from_virt("read domain name", &e))?;
        Ok(DomainHandle { dom, uuid, name })
    }

    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The name the domain had when the handle was obtained.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The domain on `conn`: this handle when it came from `conn`, else a lookup.
    pub(super) fn on_connection(&self, conn: &Connect) -> Result<Domain, HypervisorError> {
        if ffi::same_connection(&self.dom, conn) {
            Ok(self.dom.clone())
        } else {
            libvirt::lookup(conn, &DomainRef::Uuid(self.uuid.clone()))
        }
    }
}

/// One domain read live in two round trips (its state, its XML) by a kept handle;
/// what neither says (persistence, autostart, a managed save image) is `standing`,
/// as last known. A handle from an older connection costs one lookup more.
#[derive(Debug, Clone)]
pub struct ReadDomainLive {
    pub handle: DomainHandle,
    pub standing: Standing,
}

impl Operation for ReadDomainLive {
    type Output = DomainSummary;
    const NAME: &'static str = "get domain";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = self.handle.on_connection(conn)?;
        let (state, domain_xml) = state_and_xml(&dom).map_err(|e| match e {
            HypervisorError::DomainGone { .. } => HypervisorError::DomainNotFound {
                domain: DomainRef::Uuid(self.handle.uuid.clone()),
            },
            other => other,
        })?;
        xml_summary::summary(&domain_xml, state, self.standing)
    }
}

/// A domain's state and live XML: two round trips.
pub(super) fn state_and_xml(dom: &Domain) -> Result<(RawState, String), HypervisorError> {
    let (state, reason) =
        ffi::state_numbers(dom).map_err(|e| HypervisorError::from_virt("read domain state", &e))?;
    let domain_xml = dom
        .xml_desc(0)
        .map_err(|e| HypervisorError::from_virt("read domain XML", &e))?;
    Ok((RawState { state, reason }, domain_xml))
}

/// Whether the domain is defined, starts with the host and has a managed save image:
/// two or three round trips (the image only matters for a domain that is off).
pub(super) fn standing(dom: &Domain, state: RawState) -> Result<Standing, HypervisorError> {
    let fail = |op| move |e: virt::error::Error| HypervisorError::from_virt(op, &e);
    let is_off = crate::model::DomainState::from_number(u64::from(state.state)).is_off();
    Ok(Standing {
        persistent: dom
            .is_persistent()
            .map_err(fail("read domain persistence"))?,
        autostart: dom.autostart().map_err(fail("read domain autostart"))?,
        has_managed_save: is_off
            && dom
                .has_managed_save(0)
                .map_err(fail("read domain managed save"))?,
    })
}
