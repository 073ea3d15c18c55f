//! Where a change applies: the running domain, its persistent definition, or both;
//! "neither" means what the domain's state allows, as libvirt's `AFFECT_CURRENT`.

use virt::{domain::Domain, sys};

use crate::{hypervisor::HypervisorError, model::ChangeScope};

/// Makes "neither" explicit from the domain's state, and refuses a scope the domain
/// cannot take: live for a domain that is off, config for a transient one.
pub(super) fn resolve_scope(
    operation: &'static str,
    dom: &Domain,
    requested: ChangeScope,
) -> Result<ChangeScope, HypervisorError> {
    let fail = |e: virt::error::Error| HypervisorError::from_virt(operation, &e);
    let precondition = |message| HypervisorError::FailedPrecondition { operation, message };
    let active = dom.is_active().map_err(fail)?;
    let persistent = dom.is_persistent().map_err(fail)?;
    let name = dom.name().unwrap_or_default();
    if requested.is_current() {
        return Ok(ChangeScope {
            live: active,
            config: !active,
        });
    }
    if requested.live && !active {
        return Err(precondition(format!(
            "`live` needs a running domain; domain {name:?} is not running (use `config`)"
        )));
    }
    if requested.config && !persistent {
        return Err(precondition(format!(
            "`config` needs a persistent domain; domain {name:?} is transient"
        )));
    }
    Ok(requested)
}

/// libvirt's `AFFECT_*` flags for `scope`.
pub(super) fn affect(scope: ChangeScope) -> u32 {
    let mut flags = 0;
    if scope.live {
        flags |= sys::VIR_DOMAIN_AFFECT_LIVE;
    }
    if scope.config {
        flags |= sys::VIR_DOMAIN_AFFECT_CONFIG;
    }
    flags
}
