//! The libvirt calls that read and change domains, and their conversions to the model.
//!
//! Everything here is blocking and runs inside [`crate::hypervisor::Hypervisor::call`].

use virt::{
    connect::Connect,
    domain::{Domain, DomainState as VirtState},
    enumutil::Enum,
    sys,
};

use crate::hypervisor::HypervisorError;
use crate::model::{DomainAction, DomainRef, DomainState, DomainSummary};

/// Options for reading a domain's XML.
#[derive(Debug, Clone, Copy, Default)]
pub struct XmlOptions {
    pub secure: bool,
    pub inactive: bool,
}

/// Finds a domain; a UUID-shaped reference falls back to a name lookup.
pub(crate) fn lookup(conn: &Connect, domain: &DomainRef) -> Result<Domain, HypervisorError> {
    let found = match domain {
        DomainRef::Uuid(uuid) => conn
            .lookup_domain_by_uuid_string(uuid)
            .or_else(|_| conn.lookup_domain_by_name(uuid)),
        DomainRef::Name(name) => conn.lookup_domain_by_name(name),
    };
    found.map_err(|e| match HypervisorError::from_virt("lookup domain", &e) {
        HypervisorError::DomainGone { .. } => HypervisorError::DomainNotFound {
            domain: domain.clone(),
        },
        other => other,
    })
}

/// Reads a domain's summary: its state, its XML, and what the XML does not say
/// (four or five round trips; see [`super::handle`]).
pub(super) fn summarize(dom: &Domain) -> Result<DomainSummary, HypervisorError> {
    let (state, domain_xml) = super::handle::state_and_xml(dom)?;
    let standing = super::handle::standing(dom, state)?;
    super::xml_summary::summary(&domain_xml, state, standing)
}

fn state_from_virt(state: Enum<VirtState, sys::virDomainState>) -> DomainState {
    match state {
        Enum::Known(VirtState::NoState) | Enum::Unknown(_) => DomainState::NoState,
        Enum::Known(VirtState::Running) => DomainState::Running,
        Enum::Known(VirtState::Blocked) => DomainState::Blocked,
        Enum::Known(VirtState::Paused) => DomainState::Paused,
        Enum::Known(VirtState::Shutdown) => DomainState::Shutdown,
        Enum::Known(VirtState::Shutoff) => DomainState::Shutoff,
        Enum::Known(VirtState::Crashed) => DomainState::Crashed,
        Enum::Known(VirtState::PMSuspended) => DomainState::PmSuspended,
    }
}

/// Defines a persistent domain from XML.
pub(super) fn define(conn: &Connect, xml: &str) -> Result<DomainSummary, HypervisorError> {
    let dom = conn
        .define_domain_xml(xml)
        .map_err(|e| HypervisorError::from_virt("define domain", &e))?;
    summarize(&dom)
}

/// Applies `action` and returns the domain's state afterwards.
pub(super) fn act(
    conn: &Connect,
    domain: &DomainRef,
    action: DomainAction,
) -> Result<DomainSummary, HypervisorError> {
    act_with(conn, domain, action, |dom| match action {
        DomainAction::Start => ("start domain", dom.create()),
        DomainAction::Shutdown => ("shut down domain", dom.shutdown()),
        DomainAction::Destroy => ("destroy domain", dom.destroy()),
        DomainAction::Reboot => ("reboot domain", dom.reboot(0)),
        DomainAction::Suspend => ("suspend domain", dom.suspend()),
        DomainAction::Resume => ("resume domain", dom.resume()),
        DomainAction::Reset => ("reset domain", dom.reset()),
        DomainAction::Save => ("managed save domain", dom.managed_save(0)),
    })
}

/// Checks that the domain's state allows `action`, makes `call` (which names its
/// libvirt operation) and returns the domain's state afterwards.
pub(super) fn act_with(
    conn: &Connect,
    domain: &DomainRef,
    action: DomainAction,
    call: impl FnOnce(&Domain) -> (&'static str, Result<(), virt::error::Error>),
) -> Result<DomainSummary, HypervisorError> {
    let dom = lookup(conn, domain)?;
    check_transition(&dom, action)?;
    // A transient domain vanishes once it stops: what it was is read first, to answer
    // with, since afterwards there is nothing left to read.
    let before = if ends_a_transient_domain(action) && !is_persistent(&dom)? {
        Some(summarize(&dom)?)
    } else {
        None
    };
    let (op, result) = call(&dom);
    result.map_err(|e| HypervisorError::from_virt(op, &e))?;
    match (summarize(&dom), before) {
        (Err(HypervisorError::DomainGone { .. }), Some(before)) => Ok(stopped(before, action)),
        (after, _) => after,
    }
}

/// Actions after which a transient domain may no longer exist.
fn ends_a_transient_domain(action: DomainAction) -> bool {
    matches!(
        action,
        DomainAction::Destroy | DomainAction::Shutdown | DomainAction::Save
    )
}

fn is_persistent(dom: &Domain) -> Result<bool, HypervisorError> {
    dom.is_persistent()
        .map_err(|e| HypervisorError::from_virt("read domain persistence", &e))
}

/// A vanished transient domain as `action` left it: off, with libvirt's reason.
fn stopped(before: DomainSummary, action: DomainAction) -> DomainSummary {
    let state_reason = match action {
        DomainAction::Destroy => "destroyed",
        DomainAction::Save => "saved",
        _ => "shutdown",
    };
    DomainSummary {
        state: DomainState::Shutoff,
        state_reason: state_reason.to_owned(),
        id: None,
        ..before
    }
}

/// Sets the autostart flag of a persistent domain.
pub(super) fn set_autostart(
    conn: &Connect,
    domain: &DomainRef,
    autostart: bool,
) -> Result<DomainSummary, HypervisorError> {
    let dom = lookup(conn, domain)?;
    let fail = |e: virt::error::Error| HypervisorError::from_virt("set domain autostart", &e);
    if !dom.is_persistent().map_err(fail)? {
        // Drivers differ in how they refuse it (the test driver accepts it); clients
        // need one answer.
        return Err(HypervisorError::FailedPrecondition {
            operation: "set domain autostart",
            message: format!(
                "domain {domain} is transient: only a defined (persistent) domain can start with the host"
            ),
        });
    }
    dom.set_autostart(autostart).map_err(fail)?;
    summarize(&dom)
}

/// Refuses an action the domain's current state does not allow, with a message that
/// says why. libvirt would refuse too, but drivers differ in the error code they use
/// (the test driver reports an internal error), and clients need a stable one.
fn check_transition(dom: &Domain, action: DomainAction) -> Result<(), HypervisorError> {
    use DomainState::{Blocked, Crashed, Paused, PmSuspended, Running, Shutdown, Shutoff};
    let (state, _) = dom
        .state()
        .map_err(|e| HypervisorError::from_virt("read domain state", &e))?;
    let state = state_from_virt(state);
    let (allowed, needs): (&[DomainState], &str) = match action {
        DomainAction::Start => (&[Shutoff, Crashed], "a shut-off domain"),
        DomainAction::Shutdown | DomainAction::Reboot => {
            (&[Running, Blocked, Paused, PmSuspended], "a running domain")
        }
        DomainAction::Destroy => (
            &[Running, Blocked, Paused, Shutdown, Crashed, PmSuspended],
            "an active domain",
        ),
        DomainAction::Suspend => (&[Running, Blocked], "a running domain"),
        DomainAction::Resume => (&[Paused], "a paused domain"),
        DomainAction::Reset => (&[Running, Blocked, Paused, PmSuspended], "a running domain"),
        DomainAction::Save => (&[Running, Blocked, Paused], "a running or paused domain"),
    };
    if allowed.contains(&state) || state == DomainState::NoState {
        return Ok(());
    }
    Err(HypervisorError::DomainState {
        domain: dom.name().unwrap_or_default(),
        state,
        action,
        needs,
    })
}

/// The domain's XML description.
pub(super) fn xml(
    conn: &Connect,
    domain: &DomainRef,
    options: XmlOptions,
) -> Result<String, HypervisorError> {
    let dom = lookup(conn, domain)?;
    let mut flags = 0;
    if options.secure {
        flags |= sys::VIR_DOMAIN_XML_SECURE;
    }
    if options.inactive {
        flags |= sys::VIR_DOMAIN_XML_INACTIVE;
    }
    dom.xml_desc(flags)
        .map_err(|e| HypervisorError::from_virt("read domain XML", &e))
}
