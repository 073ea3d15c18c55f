//! What the inventory keeps of a domain: one domain after an event or a change, every
//! domain after a (re)connect, the latter with one bulk round trip per field that is
//! not in a domain's XML and one XML read per domain (libvirt has no bulk XML call).

use std::collections::{HashMap, HashSet};

use virt::{connect::Connect, domain::Domain, sys};

use super::{
    device::parse_devices,
    handle::{DomainHandle, standing, state_and_xml},
    libvirt,
    xml_summary::{self, RawState, Standing},
};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry, ffi},
    model::{DomainRef, DomainState, DomainView, KnownDomain},
};

/// A domain's view and the handle it was read by.
#[derive(Debug, Clone)]
pub struct ReadView {
    pub view: DomainView,
    pub handle: DomainHandle,
}

/// One domain's view; `None` once it no longer exists.
#[derive(Debug, Clone)]
pub struct ReadDomainView(pub DomainRef);

impl Operation for ReadDomainView {
    type Output = Option<ReadView>;
    const NAME: &'static str = "read domain";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = match libvirt::lookup(conn, &self.0) {
            Ok(dom) => dom,
            Err(HypervisorError::DomainNotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        gone_is_none((|| {
            let (state, domain_xml) = state_and_xml(&dom)?;
            let standing = standing(&dom, state)?;
            read_view(dom, &domain_xml, state, standing)
        })())
    }
}

/// One domain as the bulk listing found it: enough to read its view with one call.
#[derive(Debug, Clone)]
pub struct Listed {
    pub handle: DomainHandle,
    pub(super) state: RawState,
    standing: Standing,
}

/// Every domain, active and inactive, with its state, persistence, autostart and
/// managed save image: five round trips whatever the number of domains.
#[derive(Debug, Clone, Copy)]
pub struct ListDomainHandles;

impl Operation for ListDomainHandles {
    type Output = Vec<Listed>;
    const NAME: &'static str = "list domains";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let list = |flags| -> Result<Vec<Domain>, HypervisorError> {
            conn.list_all_domains(flags)
                .map_err(|e| HypervisorError::from_virt("list domains", &e))
        };
        let uuids = |flags| -> Result<HashSet<String>, HypervisorError> {
            list(flags)?
                .iter()
                .map(|dom| {
                    dom.uuid_string()
                        .map_err(|e| HypervisorError::from_virt("read domain uuid", &e))
                })
                .collect()
        };
        let domains = list(0)?;
        let persistent = uuids(sys::VIR_CONNECT_LIST_DOMAINS_PERSISTENT)?;
        let autostart = uuids(sys::VIR_CONNECT_LIST_DOMAINS_AUTOSTART)?;
        let managed_save = uuids(sys::VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE)?;
        let states: HashMap<String, RawState> =
            ffi::all_domain_stats(conn, sys::VIR_DOMAIN_STATS_STATE, 0)
                .map_err(|e| HypervisorError::from_virt("read domain states", &e))?
                .into_iter()
                .map(|record| (record.uuid.clone(), raw_state(&record)))
                .collect();
        let mut listed = Vec::with_capacity(domains.len());
        for dom in domains {
            let handle = DomainHandle::new(dom)?;
            // Defined after the state call: its own event brings it in.
            let Some(&state) = states.get(handle.uuid()) else {
                continue;
            };
            let uuid = handle.uuid();
            let standing = Standing {
                persistent: persistent.contains(uuid),
                autostart: autostart.contains(uuid),
                has_managed_save: managed_save.contains(uuid),
            };
            listed.push(Listed {
                handle,
                state,
                standing,
            });
        }
        Ok(listed)
    }
}

/// Every domain's identity, state and persistence, as reconciliation compares them
/// with what the journal knows: the bulk listing alone, no call per domain.
#[derive(Debug, Clone, Copy)]
pub struct ListDomainStates;

impl Operation for ListDomainStates {
    type Output = Vec<KnownDomain>;
    const NAME: &'static str = "list domains";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let mut known: Vec<KnownDomain> = ListDomainHandles
            .call(conn)?
            .into_iter()
            .map(|listed| KnownDomain {
                uuid: listed.handle.uuid().to_owned(),
                name: listed.handle.name().to_owned(),
                state: DomainState::from_number(u64::from(listed.state.state)),
                persistent: listed.standing.persistent,
            })
            .collect();
        known.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(known)
    }
}

/// The views of listed domains, one XML read each, in one blocking hop; `None` for
/// one that no longer exists.
#[derive(Debug, Clone)]
pub struct ReadDomainViews(pub Vec<Listed>);

impl Operation for ReadDomainViews {
    type Output = Vec<(String, Option<ReadView>)>;
    const NAME: &'static str = "read domains";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        self.0
            .iter()
            .map(|listed| Ok((listed.handle.uuid().to_owned(), read_listed(listed, conn)?)))
            .collect()
    }
}

/// The view of a listed domain: one XML read; `None` once it no longer exists.
pub(super) fn read_listed(
    listed: &Listed,
    conn: &Connect,
) -> Result<Option<ReadView>, HypervisorError> {
    let Listed {
        handle,
        state,
        standing,
    } = listed;
    gone_is_none((|| {
        let dom = handle.on_connection(conn)?;
        let domain_xml = dom
            .xml_desc(0)
            .map_err(|e| HypervisorError::from_virt("read domain XML", &e))?;
        read_view(dom, &domain_xml, *state, *standing)
    })())
}

fn read_view(
    dom: Domain,
    domain_xml: &str,
    state: RawState,
    standing: Standing,
) -> Result<ReadView, HypervisorError> {
    let devices = parse_devices(domain_xml)?;
    let summary = xml_summary::summary(domain_xml, state, standing)?;
    Ok(ReadView {
        view: DomainView { summary, devices },
        handle: DomainHandle::new(dom)?,
    })
}

fn raw_state(record: &ffi::StatsRecord) -> RawState {
    let number = |key: &str| {
        record
            .params
            .iter()
            .find(|(name, _)| name == key)
            .and_then(|(_, value)| match value {
                ffi::ParamValue::Int(v) => u32::try_from(*v).ok(),
                ffi::ParamValue::UInt(v) => u32::try_from(*v).ok(),
                _ => None,
            })
            .unwrap_or(0)
    };
    RawState {
        state: number("state.state"),
        reason: number("state.reason"),
    }
}

fn gone_is_none<T>(read: Result<T, HypervisorError>) -> Result<Option<T>, HypervisorError> {
    match read {
        Ok(read) => Ok(Some(read)),
        Err(HypervisorError::DomainGone { .. } | HypervisorError::DomainNotFound { .. }) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
