//! Opening a console: find the device in the running domain's XML, then connect a
//! non-blocking stream to it and hand the stream's events to its pipe.

use std::sync::Arc;

use virt::{connect::Connect, sys};

use super::{
    ConsoleStream,
    device::{self, ConsoleDevice},
    pipe::Pipe,
};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry, domain::lookup, ffi::EventStream},
    model::DomainRef,
};

const NAME: &str = "open console";

/// Which device a console request means, on a running domain.
#[derive(Debug, Clone)]
pub struct ResolveConsole {
    pub domain: DomainRef,
    /// An alias ("serial0"), or empty for the domain's first console.
    pub device: String,
}

/// A running domain's console device, with the domain's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleTarget {
    pub uuid: String,
    pub name: String,
    pub device: ConsoleDevice,
}

impl Operation for ResolveConsole {
    type Output = ConsoleTarget;
    const NAME: &'static str = NAME;
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(NAME, &e);
        let dom = lookup(conn, &self.domain)?;
        if !dom.is_active().map_err(fail)? {
            return Err(HypervisorError::FailedPrecondition {
                operation: NAME,
                message: format!(
                    "domain {} is not running: a console opens only while it runs",
                    self.domain
                ),
            });
        }
        let xml = dom.xml_desc(0).map_err(fail)?;
        Ok(ConsoleTarget {
            uuid: dom.uuid_string().map_err(fail)?,
            name: dom.name().map_err(fail)?,
            device: device::resolve(&xml, &self.domain.to_string(), &self.device)?,
        })
    }
}

/// Connects a stream to a resolved console device.
#[derive(Debug, Clone)]
pub struct OpenConsole {
    pub target: ConsoleTarget,
    /// Take the device over from any other libvirt client holding it.
    pub force: bool,
}

impl Operation for OpenConsole {
    type Output = ConsoleStream;
    const NAME: &'static str = NAME;
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(NAME, &e);
        let target = &self.target;
        let dom = lookup(conn, &DomainRef::Uuid(target.uuid.clone()))?;
        let mut stream = EventStream::new(conn).map_err(fail)?;
        // SAFE: libvirt's own lock on the device, so no other client shares it unseen.
        let mut flags = sys::VIR_DOMAIN_CONSOLE_SAFE;
        if self.force {
            flags |= sys::VIR_DOMAIN_CONSOLE_FORCE;
        }
        stream
            .open_console(&dom, Some(&target.device.alias), flags)
            .map_err(|e| self.refusal(&e))?;
        let pipe = Arc::new(Pipe::default());
        stream
            .watch(pipe.initial_events(), pipe.clone())
            .map_err(fail)?;
        Ok(ConsoleStream::new(stream, pipe))
    }
}

impl OpenConsole {
    /// libvirt's refusal, said the way a client can act on it: a device held by
    /// another libvirt client (`virsh console`, another agent) is a state to resolve
    /// with `force`, not an internal error.
    fn refusal(&self, e: &virt::error::Error) -> HypervisorError {
        let classified = HypervisorError::from_virt(NAME, e);
        let held = e.code().to_raw() == sys::VIR_ERR_OPERATION_FAILED
            && e.message()
                .to_ascii_lowercase()
                .contains("active console session");
        if held {
            return HypervisorError::FailedPrecondition {
                operation: NAME,
                message: format!(
                    "console {:?} of domain {} is held by another libvirt client (for example `virsh console`); open it with force to take it over",
                    self.target.device.alias, self.target.name
                ),
            };
        }
        classified
    }
}
