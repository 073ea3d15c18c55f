//! Domains as the service sees them, and the libvirt calls that read and change them.
//!
//! Everything here is blocking and runs inside [`super::Hypervisor::call`].

use virt::{
    connect::Connect,
    domain::{Domain, DomainState as VirtState},
    enumutil::Enum,
    sys,
};

use super::HypervisorError;

/// How a request names a domain: by UUID or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRef {
    Uuid(String),
    Name(String),
}

/// libvirt's domain states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainState {
    NoState,
    Running,
    Blocked,
    Paused,
    Shutdown,
    Shutoff,
    Crashed,
    PmSuspended,
}

/// A domain's identity, state and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainSummary {
    pub uuid: String,
    pub name: String,
    pub state: DomainState,
    /// libvirt's reason for the state, as a word such as `booted` or `destroyed`.
    pub state_reason: String,
    /// The hypervisor's id while running.
    pub id: Option<u32>,
    pub vcpus: u32,
    pub memory_kib: u64,
    pub max_memory_kib: u64,
    pub persistent: bool,
    pub autostart: bool,
}

/// A state-changing operation on one domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainAction {
    Start,
    Shutdown,
    Destroy,
    Reboot,
    Suspend,
    Resume,
}

/// Options for reading a domain's XML.
#[derive(Debug, Clone, Copy, Default)]
pub struct XmlOptions {
    pub secure: bool,
    pub inactive: bool,
}

const MAX_REF_LEN: usize = 256;

impl DomainRef {
    /// Parses a UUID (with or without dashes, any case) or else a name.
    ///
    /// # Errors
    /// [`HypervisorError::InvalidArgument`] for an empty, overlong or NUL-containing value.
    pub fn parse(input: &str) -> Result<Self, HypervisorError> {
        if input.is_empty() {
            return Err(HypervisorError::InvalidArgument(
                "`domain` is required: give the domain's UUID or name".into(),
            ));
        }
        if input.len() > MAX_REF_LEN || input.contains('\0') {
            return Err(HypervisorError::InvalidArgument(format!(
                "`domain` must be a UUID or a name of at most {MAX_REF_LEN} bytes without NUL"
            )));
        }
        Ok(match normalize_uuid(input) {
            Some(uuid) => DomainRef::Uuid(uuid),
            None => DomainRef::Name(input.to_owned()),
        })
    }

    fn describe(&self) -> &str {
        match self {
            DomainRef::Uuid(s) | DomainRef::Name(s) => s,
        }
    }
}

/// Lower-case dashed form of a UUID, or `None` if `input` is not one.
fn normalize_uuid(input: &str) -> Option<String> {
    let hex: String = match input.len() {
        36 => {
            let dashes_ok = input
                .char_indices()
                .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
            if !dashes_ok {
                return None;
            }
            input.chars().filter(|c| *c != '-').collect()
        }
        32 => input.to_owned(),
        _ => return None,
    };
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
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
        HypervisorError::DomainNotFound(_) => HypervisorError::DomainNotFound(format!(
            "domain {:?} not found: no domain has this UUID or name",
            domain.describe()
        )),
        other => other,
    })
}

/// Reads a domain's summary.
pub(crate) fn summarize(dom: &Domain) -> Result<DomainSummary, HypervisorError> {
    let fail = |op| move |e: virt::error::Error| HypervisorError::from_virt(op, &e);
    let info = dom.info().map_err(fail("read domain info"))?;
    let (state, reason) = dom.state().map_err(fail("read domain state"))?;
    let state_reason = match reason {
        Enum::Known(reason) => reason.to_string(),
        Enum::Unknown(_) => "unknown".to_owned(),
    };
    Ok(DomainSummary {
        uuid: dom.uuid_string().map_err(fail("read domain uuid"))?,
        name: dom.name().map_err(fail("read domain name"))?,
        state: state_from_virt(state),
        state_reason,
        id: dom.id(),
        vcpus: info.nr_virt_cpu,
        memory_kib: info.memory,
        max_memory_kib: info.max_mem,
        persistent: dom
            .is_persistent()
            .map_err(fail("read domain persistence"))?,
        autostart: dom.autostart().map_err(fail("read domain autostart"))?,
    })
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

/// Summaries of every domain, active and inactive, ordered by name.
pub(crate) fn list_all(conn: &Connect) -> Result<Vec<DomainSummary>, HypervisorError> {
    let domains = conn
        .list_all_domains(0)
        .map_err(|e| HypervisorError::from_virt("list domains", &e))?;
    let mut summaries = Vec::with_capacity(domains.len());
    for dom in &domains {
        match summarize(dom) {
            Ok(summary) => summaries.push(summary),
            // Undefined between the listing and the read: it simply is no longer there.
            Err(HypervisorError::DomainNotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    summaries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(summaries)
}

/// Defines a persistent domain from XML.
pub(crate) fn define(conn: &Connect, xml: &str) -> Result<DomainSummary, HypervisorError> {
    let dom = conn
        .define_domain_xml(xml)
        .map_err(|e| HypervisorError::from_virt("define domain", &e))?;
    summarize(&dom)
}

/// Removes a domain's persistent definition.
pub(crate) fn undefine(conn: &Connect, domain: &DomainRef) -> Result<(), HypervisorError> {
    let dom = lookup(conn, domain)?;
    dom.undefine()
        .map_err(|e| HypervisorError::from_virt("undefine domain", &e))
}

/// Applies `action` and returns the domain's state afterwards.
pub(crate) fn act(
    conn: &Connect,
    domain: &DomainRef,
    action: DomainAction,
) -> Result<DomainSummary, HypervisorError> {
    let dom = lookup(conn, domain)?;
    check_transition(&dom, action)?;
    let (op, result) = match action {
        DomainAction::Start => ("start domain", dom.create()),
        DomainAction::Shutdown => ("shut down domain", dom.shutdown()),
        DomainAction::Destroy => ("destroy domain", dom.destroy()),
        DomainAction::Reboot => ("reboot domain", dom.reboot(0)),
        DomainAction::Suspend => ("suspend domain", dom.suspend()),
        DomainAction::Resume => ("resume domain", dom.resume()),
    };
    result.map_err(|e| HypervisorError::from_virt(op, &e))?;
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
    };
    if allowed.contains(&state) || state == DomainState::NoState {
        return Ok(());
    }
    let name = dom.name().unwrap_or_default();
    Err(HypervisorError::FailedPrecondition(format!(
        "domain {name:?} is {}; {action:?} needs {needs}",
        state.word()
    )))
}

impl DomainState {
    /// A stable key for storage.
    pub fn key(self) -> &'static str {
        match self {
            DomainState::NoState => "nostate",
            DomainState::Running => "running",
            DomainState::Blocked => "blocked",
            DomainState::Paused => "paused",
            DomainState::Shutdown => "shutdown",
            DomainState::Shutoff => "shutoff",
            DomainState::Crashed => "crashed",
            DomainState::PmSuspended => "pmsuspended",
        }
    }

    /// The state stored under `key`, if any.
    pub fn from_key(key: &str) -> Option<Self> {
        [
            DomainState::NoState,
            DomainState::Running,
            DomainState::Blocked,
            DomainState::Paused,
            DomainState::Shutdown,
            DomainState::Shutoff,
            DomainState::Crashed,
            DomainState::PmSuspended,
        ]
        .into_iter()
        .find(|s| s.key() == key)
    }

    /// Whether the domain is running in any form (libvirt's "active").
    pub fn is_active(self) -> bool {
        !matches!(self, DomainState::Shutoff | DomainState::NoState)
    }

    /// The state as a lower-case word for messages.
    pub fn word(self) -> &'static str {
        match self {
            DomainState::NoState => "in no state",
            DomainState::Running => "running",
            DomainState::Blocked => "blocked",
            DomainState::Paused => "paused",
            DomainState::Shutdown => "shutting down",
            DomainState::Shutoff => "shut off",
            DomainState::Crashed => "crashed",
            DomainState::PmSuspended => "suspended by guest power management",
        }
    }
}

/// The domain's XML description.
pub(crate) fn xml(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_recognised_in_any_spelling() {
        let want = DomainRef::Uuid("6695eb01-f6a4-8304-79aa-97f2502e193f".into());
        assert_eq!(
            DomainRef::parse("6695eb01-f6a4-8304-79aa-97f2502e193f").ok(),
            Some(want.clone())
        );
        assert_eq!(
            DomainRef::parse("6695EB01F6A4830479AA97F2502E193F").ok(),
            Some(want)
        );
    }

    #[test]
    fn anything_else_is_a_name() {
        assert_eq!(
            DomainRef::parse("web-1").ok(),
            Some(DomainRef::Name("web-1".into()))
        );
        assert_eq!(
            DomainRef::parse("6695eb01-f6a4-8304-79aa-97f2502e193g").ok(),
            Some(DomainRef::Name(
                "6695eb01-f6a4-8304-79aa-97f2502e193g".into()
            ))
        );
    }

    #[test]
    fn empty_and_overlong_references_are_rejected() {
        assert!(matches!(
            DomainRef::parse(""),
            Err(HypervisorError::InvalidArgument(_))
        ));
        let long = "x".repeat(MAX_REF_LEN + 1);
        assert!(matches!(
            DomainRef::parse(&long),
            Err(HypervisorError::InvalidArgument(_))
        ));
        assert!(matches!(
            DomainRef::parse("a\0b"),
            Err(HypervisorError::InvalidArgument(_))
        ));
    }
}
