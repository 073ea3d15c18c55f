//! A domain's summary from its XML and its state, without the per-field calls
//! (`virDomainGetInfo`, name, persistence...) that each cost a round trip.

use virt::{
    domain::{
        DomainBlockedReasonEnum, DomainCrashedReasonEnum, DomainNoStateReasonEnum,
        DomainPMSuspendedReasonEnum, DomainPausedReasonEnum, DomainRunningReasonEnum,
        DomainShutdownReasonEnum, DomainShutoffReasonEnum, DomainState as VirtState,
        DomainStateReason,
    },
    enumutil::Enum,
    sys,
};

use super::labels;
use crate::{
    hypervisor::{
        HypervisorError,
        xml::{child, child_text, memory_kib},
    },
    model::{DomainState, DomainSummary},
};

/// What a domain's XML does not say: whether it is defined, starts with the host and
/// has a managed save image. Each is a call of its own on one domain, and one call for
/// every domain at once (a filtered listing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    pub persistent: bool,
    pub autostart: bool,
    pub has_managed_save: bool,
}

/// libvirt's state and reason numbers, as `virDomainGetState` and the bulk stats'
/// `state.state`/`state.reason` give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawState {
    pub(crate) state: u32,
    pub(crate) reason: u32,
}

/// The summary of the domain described by `domain_xml` (live XML: the `id` attribute
/// is there while it runs).
pub(crate) fn summary(
    domain_xml: &str,
    state: RawState,
    standing: Standing,
) -> Result<DomainSummary, HypervisorError> {
    let malformed = |what: &str| HypervisorError::Internal {
        operation: "read domain XML",
        message: format!("libvirt's domain XML has no valid {what}"),
    };
    let doc = roxmltree::Document::parse(domain_xml).map_err(|_| malformed("document"))?;
    let root = doc.root_element();
    let max_memory_kib = child(root, "memory")
        .and_then(memory_kib)
        .ok_or_else(|| malformed("<memory>"))?;
    let vcpu = child(root, "vcpu");
    let vcpus = vcpu
        .and_then(|v| v.attribute("current").or_else(|| v.text()))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| malformed("<vcpu>"))?;
    let domain_state = DomainState::from_number(u64::from(state.state));
    Ok(DomainSummary {
        uuid: child_text(root, "uuid").ok_or_else(|| malformed("<uuid>"))?,
        name: child_text(root, "name").ok_or_else(|| malformed("<name>"))?,
        state: domain_state,
        state_reason: reason_word(state),
        id: root.attribute("id").and_then(|id| id.parse().ok()),
        vcpus,
        memory_kib: child(root, "currentMemory")
            .and_then(memory_kib)
            .unwrap_or(max_memory_kib),
        max_memory_kib,
        persistent: standing.persistent,
        autostart: standing.autostart,
        // Starting or restoring uses an image up: only a domain that is off has one.
        has_managed_save: standing.has_managed_save && domain_state.is_off(),
        labels: labels::from_domain_xml(domain_xml),
    })
}

/// libvirt's reason number as the word `virsh domstate --reason` prints.
fn reason_word(RawState { state, reason }: RawState) -> String {
    let Ok(reason) = i32::try_from(reason) else {
        return "unknown".to_owned();
    };
    let reason = match Enum::<VirtState, sys::virDomainState>::from_raw(state) {
        Enum::Known(VirtState::NoState) => {
            DomainStateReason::NoState(DomainNoStateReasonEnum::from_raw(reason as _))
        }
        Enum::Known(VirtState::Running) => {
            DomainStateReason::Running(DomainRunningReasonEnum::from_raw(reason as _))
        }
        Enum::Known(VirtState::Blocked) => {
            DomainStateReason::Blocked(DomainBlockedReasonEnum::from_raw(reason as _))
        }
        Enum::Known(VirtState::Paused) => {
            DomainStateReason::Paused(DomainPausedReasonEnum::from_raw(reason as _))
        }
        Enum::Known(VirtState::Shutdown) => {
            DomainStateReason::Shutdown(DomainShutdownReasonEnum::from_raw(reason as _))
        }
        Enum::Known(VirtState::Shutoff) => {
            DomainStateReason::Shutoff(DomainShutoffReasonEnum::from_raw(reason as _))
        }
        Enum::Known(VirtState::Crashed) => {
            DomainStateReason::Crashed(DomainCrashedReasonEnum::from_raw(reason as _))
        }
        Enum::Known(VirtState::PMSuspended) => {
            DomainStateReason::PMSuspended(DomainPMSuspendedReasonEnum::from_raw(reason as _))
        }
        Enum::Unknown(_) => return "unknown".to_owned(),
    };
    reason.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNNING_XML: &str = "<domain type='test' id='3'><name>web</name>\
        <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\
        <memory unit='MiB'>512</memory><currentMemory unit='KiB'>262144</currentMemory>\
        <vcpu placement='static' current='1'>2</vcpu></domain>";

    #[test]
    fn reads_size_identity_and_state_from_the_xml() {
        let running = RawState {
            state: 1,
            reason: 1,
        };
        let standing = Standing {
            persistent: true,
            autostart: false,
            has_managed_save: true,
        };
        let s = summary(RUNNING_XML, running, standing).expect("a valid XML");
        assert_eq!(s.name, "web");
        assert_eq!(s.uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
        assert_eq!(s.id, Some(3));
        assert_eq!(
            (s.vcpus, s.memory_kib, s.max_memory_kib),
            (1, 262_144, 524_288)
        );
        assert_eq!(s.state, DomainState::Running);
        assert_eq!(s.state_reason, "booted");
        // A running domain has no managed save image, whatever was known before.
        assert!(!s.has_managed_save && s.persistent);
    }

    #[test]
    fn an_inactive_domain_has_no_id_and_may_have_a_save_image() {
        let xml = RUNNING_XML.replace(" id='3'", "");
        let off = RawState {
            state: 5,
            reason: 5,
        };
        let standing = Standing {
            has_managed_save: true,
            ..Standing::default()
        };
        let s = summary(&xml, off, standing).expect("a valid XML");
        assert_eq!((s.id, s.state), (None, DomainState::Shutoff));
        assert_eq!(s.state_reason, "saved");
        assert!(s.has_managed_save);
    }

    #[test]
    fn refuses_xml_without_a_size() {
        let xml = "<domain><name>x</name><uuid>u</uuid><vcpu>1</vcpu></domain>";
        let state = RawState {
            state: 5,
            reason: 0,
        };
        assert!(summary(xml, state, Standing::default()).is_err());
    }
}
