//! Resizing a domain: vCPUs, memory and maximum memory, live, in its definition, or
//! both, refused up front with the limit named when a value cannot fit.

use virt::{connect::Connect, domain::Domain, sys};

use super::{
    libvirt,
    scope::{affect, resolve_scope},
};
use crate::hypervisor::xml;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{ChangeScope, DomainRef, DomainSummary, ResourceChange},
};

const NAME: &str = "set domain resources";

/// Changes a domain's vCPUs and memory; the domain afterwards.
#[derive(Debug, Clone)]
pub struct SetDomainResources {
    pub domain: DomainRef,
    pub change: ResourceChange,
}

impl Operation for SetDomainResources {
    type Output = DomainSummary;
    const NAME: &'static str = NAME;
    // Setting sizes to the same values twice is setting them once.
    const RETRY: Retry = Retry::Safe;
    // A larger domain is more load, but it is the domain's own, already placed here.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.domain)?;
        let scope = resolve_scope(NAME, &dom, self.change.scope)?;
        let change = self.change;
        if let Some(max) = change.max_memory_kib {
            if scope.live {
                return Err(precondition(format!(
                    "the maximum memory of running domain {} cannot change; set `max_memory_kib` with `config` only (it applies from the next start)",
                    self.domain
                )));
            }
            let flags = sys::VIR_DOMAIN_MEM_MAXIMUM | sys::VIR_DOMAIN_AFFECT_CONFIG;
            set(dom.set_memory_flags(max, flags), "set maximum memory")?;
        }
        if let Some(memory) = change.memory_kib {
            check_memory(&dom, scope, memory, change.max_memory_kib)?;
            set(dom.set_memory_flags(memory, affect(scope)), "set memory")?;
        }
        if let Some(vcpus) = change.vcpus {
            check_vcpus(&dom, scope, vcpus)?;
            set(dom.set_vcpus_flags(vcpus, affect(scope)), "set vCPUs")?;
        }
        libvirt::summarize(&dom)
    }
}

/// Memory above the maximum it would apply under is refused, naming that maximum.
fn check_memory(
    dom: &Domain,
    scope: ChangeScope,
    memory: u64,
    new_max: Option<u64>,
) -> Result<(), HypervisorError> {
    let fail = |e: virt::error::Error| HypervisorError::from_virt(NAME, &e);
    if scope.live {
        let max = dom.max_memory().map_err(fail)?;
        if memory > max {
            return Err(out_of_range(format!(
                "`memory_kib` {memory} is above the running domain's maximum memory of {max} KiB"
            )));
        }
    }
    if scope.config {
        // After a new maximum was written above, the definition holds it.
        let max = match new_max {
            Some(max) => max,
            None => config_max_memory(dom)?,
        };
        if memory > max {
            return Err(out_of_range(format!(
                "`memory_kib` {memory} is above the domain's maximum memory of {max} KiB in its definition (raise `max_memory_kib` with `config`)"
            )));
        }
    }
    Ok(())
}

/// vCPUs above the maximum vCPUs of each scope are refused, naming that maximum.
fn check_vcpus(dom: &Domain, scope: ChangeScope, vcpus: u32) -> Result<(), HypervisorError> {
    for (applies, flag, what) in [
        (
            scope.live,
            sys::VIR_DOMAIN_AFFECT_LIVE,
            "the running domain's",
        ),
        (
            scope.config,
            sys::VIR_DOMAIN_AFFECT_CONFIG,
            "the definition's",
        ),
    ] {
        if !applies {
            continue;
        }
        let max = dom
            .vcpus_flags(sys::VIR_DOMAIN_VCPU_MAXIMUM | flag)
            .map_err(|e| HypervisorError::from_virt(NAME, &e))?;
        if vcpus > max {
            return Err(out_of_range(format!(
                "`vcpus` {vcpus} is above {what} maximum of {max} vCPUs"
            )));
        }
    }
    Ok(())
}

/// The maximum memory in the persistent definition (`<memory>`), in KiB.
fn config_max_memory(dom: &Domain) -> Result<u64, HypervisorError> {
    let xml = dom
        .xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)
        .map_err(|e| HypervisorError::from_virt(NAME, &e))?;
    let doc = roxmltree::Document::parse(&xml)
        .map_err(|e| HypervisorError::internal(NAME, format!("domain XML unreadable: {e}")))?;
    xml::child(doc.root_element(), "memory")
        .and_then(xml::memory_kib)
        .ok_or_else(|| HypervisorError::internal(NAME, "domain XML has no <memory>"))
}

fn set(result: Result<(), virt::error::Error>, what: &'static str) -> Result<(), HypervisorError> {
    result.map_err(|e| HypervisorError::from_virt(what, &e))
}

fn precondition(message: String) -> HypervisorError {
    HypervisorError::FailedPrecondition {
        operation: NAME,
        message,
    }
}

fn out_of_range(message: String) -> HypervisorError {
    HypervisorError::OutOfRange {
        operation: NAME,
        message,
    }
}
