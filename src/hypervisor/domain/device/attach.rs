//! Hot-plugging a disk or an interface, or any device given as XML.

use virt::{connect::Connect, domain::Domain, sys};

use super::xml::{self, Found};
use crate::{
    hypervisor::{
        Admission, HypervisorError, Operation, Retry,
        domain::{
            libvirt,
            scope::{affect, resolve_scope},
        },
    },
    model::{ChangeScope, DeviceSelector, DeviceSpec, Devices, DomainRef},
};

const NAME: &str = "attach device";

/// Attaches a device; the domain's devices afterwards, and the new device's alias
/// when libvirt gave it one.
#[derive(Debug, Clone)]
pub struct AttachDevice {
    pub domain: DomainRef,
    pub spec: DeviceSpec,
    pub scope: ChangeScope,
}

/// The domain's devices after an attach (running ones when the attach was live).
#[derive(Debug, Clone)]
pub struct Attached {
    pub devices: Devices,
    pub alias: String,
}

impl Operation for AttachDevice {
    type Output = Attached;
    const NAME: &'static str = NAME;
    // A second attach of the same disk target or MAC is refused as present, not
    // repeated: the selector check below makes a repeat harmless but not silent.
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(NAME, &e);
        let dom = libvirt::lookup(conn, &self.domain)?;
        let scope = resolve_scope(NAME, &dom, self.scope)?;
        let (device_xml, selector) = match &self.spec {
            DeviceSpec::Disk(disk) => (
                xml::disk_xml(disk),
                Some(DeviceSelector::DiskTarget(disk.target.clone())),
            ),
            DeviceSpec::Interface(nic) => (
                xml::interface_xml(nic),
                Some(DeviceSelector::InterfaceMac(nic.mac.clone())),
            ),
            DeviceSpec::Xml(xml) => (xml.clone(), None),
        };
        if let Some(selector) = &selector {
            for (view, wanted) in [
                (0, scope.live),
                (sys::VIR_DOMAIN_XML_INACTIVE, scope.config),
            ] {
                if wanted && find(&dom, view, selector)?.is_some() {
                    return Err(HypervisorError::AlreadyExists {
                        operation: NAME,
                        message: format!(
                            "domain {} has {} already",
                            self.domain,
                            describe(selector)
                        ),
                    });
                }
            }
        }
        dom.attach_device_flags(&device_xml, affect(scope))
            .map_err(fail)?;
        let view = if scope.live {
            0
        } else {
            sys::VIR_DOMAIN_XML_INACTIVE
        };
        let after = dom.xml_desc(view).map_err(fail)?;
        let alias = match &selector {
            Some(selector) => xml::find(&after, selector)
                .map_err(unreadable)?
                .map(|found| found.alias)
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(Attached {
            devices: xml::devices(&after).map_err(unreadable)?,
            alias,
        })
    }
}

/// The device `selector` names in the running domain (`view` 0) or its definition.
pub(super) fn find(
    dom: &Domain,
    view: u32,
    selector: &DeviceSelector,
) -> Result<Option<Found>, HypervisorError> {
    let domain_xml = dom
        .xml_desc(view)
        .map_err(|e| HypervisorError::from_virt(NAME, &e))?;
    xml::find(&domain_xml, selector).map_err(unreadable)
}

/// The device a selector names, in words.
pub(super) fn describe(selector: &DeviceSelector) -> String {
    match selector {
        DeviceSelector::DiskTarget(target) => format!("a disk {target:?}"),
        DeviceSelector::InterfaceMac(mac) => format!("an interface with MAC {}", mac.as_str()),
        DeviceSelector::Alias(alias) => format!("a device with alias {alias:?}"),
    }
}

fn unreadable(e: roxmltree::Error) -> HypervisorError {
    HypervisorError::internal(NAME, format!("unreadable domain XML: {e}"))
}
