//! Unplugging a device: asked of libvirt here, confirmed by the caller from libvirt's
//! device events (or the device's absence), since a live unplug needs the guest's
//! consent and libvirt only asks for it.

use virt::{connect::Connect, sys};

use super::attach::{describe, find};
use crate::{
    hypervisor::{
        Admission, HypervisorError, Missing, Operation, Retry,
        domain::{libvirt, scope::resolve_scope},
        ffi,
    },
    model::{ChangeScope, DeviceSelector, DomainRef},
};

const NAME: &str = "detach device";

/// Asks to unplug the device `selector` names: from the running domain by its alias
/// (returning at once; the guest decides), from the definition by its XML.
#[derive(Debug, Clone)]
pub struct DetachDevice {
    pub domain: DomainRef,
    pub selector: DeviceSelector,
    pub scope: ChangeScope,
}

/// What a detach asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detached {
    pub domain_uuid: String,
    /// The device's alias in the running domain, when the unplug was live.
    pub live_alias: Option<String>,
    /// Whether it was removed from the definition (that part is immediate).
    pub from_config: bool,
}

impl Operation for DetachDevice {
    type Output = Detached;
    const NAME: &'static str = NAME;
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // Taking a device away is never new load.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(NAME, &e);
        let dom = libvirt::lookup(conn, &self.domain)?;
        let scope = resolve_scope(NAME, &dom, self.scope)?;
        let live = if scope.live {
            find(&dom, 0, &self.selector)?
        } else {
            None
        };
        let config = if scope.config {
            find(&dom, sys::VIR_DOMAIN_XML_INACTIVE, &self.selector)?
        } else {
            None
        };
        if live.is_none() && config.is_none() {
            let place = match (scope.live, scope.config) {
                (true, true) => "running or defined",
                (true, false) => "running",
                _ => "defined",
            };
            return Err(HypervisorError::NotFound {
                operation: NAME,
                missing: Missing::Device(match &self.selector {
                    DeviceSelector::DiskTarget(name) | DeviceSelector::Alias(name) => name.clone(),
                    DeviceSelector::InterfaceMac(mac) => mac.as_str().to_owned(),
                }),
                message: format!(
                    "domain {} has no {} ({place})",
                    self.domain,
                    describe(&self.selector)
                        .trim_start_matches("a ")
                        .trim_start_matches("an ")
                ),
            });
        }
        let live_alias = match live {
            Some(found) if found.alias.is_empty() => {
                return Err(HypervisorError::FailedPrecondition {
                    operation: NAME,
                    message: format!(
                        "the device has no alias in running domain {}: libvirt cannot unplug it",
                        self.domain
                    ),
                });
            }
            Some(found) => {
                ffi::detach_device_alias(&dom, &found.alias, sys::VIR_DOMAIN_AFFECT_LIVE)
                    .map_err(fail)?;
                Some(found.alias)
            }
            None => None,
        };
        if let Some(found) = &config {
            dom.detach_device_flags(&found.xml, sys::VIR_DOMAIN_AFFECT_CONFIG)
                .map_err(fail)?;
        }
        Ok(Detached {
            domain_uuid: dom.uuid_string().map_err(fail)?,
            live_alias,
            from_config: config.is_some(),
        })
    }
}

/// Whether the running domain no longer has the device with `alias`.
#[derive(Debug, Clone)]
pub struct DeviceGone {
    pub domain: DomainRef,
    pub alias: String,
}

impl Operation for DeviceGone {
    type Output = bool;
    const NAME: &'static str = "check device removal";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.domain)?;
        Ok(find(&dom, 0, &DeviceSelector::Alias(self.alias.clone()))?.is_none())
    }
}
