//! Defining and undefining networks.

use virt::{connect::Connect, sys};

use super::{libvirt, network_xml};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{NetworkInfo, NetworkRef},
};

const DEFINE: &str = "define network";

/// Defines a persistent network from libvirt XML (libvirt's message for bad XML).
/// With `create_only`, a network with the XML's name or UUID is left alone and the
/// call fails instead of replacing its definition.
#[derive(Debug, Clone)]
pub struct DefineNetwork {
    pub xml: String,
    pub create_only: bool,
}

impl Operation for DefineNetwork {
    type Output = NetworkInfo;
    const NAME: &'static str = DEFINE;
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // A network is no guest load, and a host drained for maintenance may still need
    // its networks repaired.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        refuse_conflicts(conn, &self.xml, self.create_only)?;
        let net = conn
            .define_network_xml(&self.xml)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        libvirt::describe(&net)
    }
}

/// Removes a network's persistent definition; with `allow_missing`, a network that
/// does not exist is not an error.
#[derive(Debug, Clone)]
pub struct UndefineNetwork {
    pub network: NetworkRef,
    pub allow_missing: bool,
}

impl Operation for UndefineNetwork {
    type Output = ();
    const NAME: &'static str = "undefine network";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let net = match libvirt::lookup(conn, &self.network) {
            Ok(net) => net,
            Err(HypervisorError::NotFound { .. }) if self.allow_missing => return Ok(()),
            Err(e) => return Err(e),
        };
        match net.undefine() {
            Ok(()) => Ok(()),
            // Undefined by someone else between the lookup and now.
            Err(e) if self.allow_missing && e.code().to_raw() == sys::VIR_ERR_NO_NETWORK => Ok(()),
            Err(e) => Err(HypervisorError::from_virt(Self::NAME, &e)),
        }
    }
}

/// Fails with ALREADY_EXISTS when the XML's name or UUID is taken in a way libvirt
/// would refuse with an opaque "operation failed" (a name under another UUID: a
/// definition is updated only through its UUID), or at all with `create_only`. XML
/// that does not parse is left for libvirt to refuse in its own words.
fn refuse_conflicts(conn: &Connect, xml: &str, create_only: bool) -> Result<(), HypervisorError> {
    let Some((name, uuid)) = network_xml::identity(xml) else {
        return Ok(());
    };
    let uuid = uuid.and_then(|u| match NetworkRef::parse(&u) {
        Ok(NetworkRef::Uuid(normal)) => Some(normal),
        // Malformed: libvirt refuses it with its own message.
        _ => None,
    });
    let exists = |message: String| HypervisorError::AlreadyExists {
        operation: DEFINE,
        message,
    };
    if let Some(name) = &name
        && let Ok(net) = conn.lookup_network_by_name(name)
    {
        let taken = net.uuid_string().unwrap_or_default();
        if create_only {
            return Err(exists(format!(
                "a network named {name:?} exists (UUID {taken}); `create_only` does not replace it"
            )));
        }
        if uuid.as_deref() != Some(taken.as_str()) {
            return Err(exists(format!(
                "a network named {name:?} exists with UUID {taken}; to replace its definition, give that UUID in the XML (<uuid>{taken}</uuid>)"
            )));
        }
    }
    if let Some(uuid) = &uuid
        && let Ok(net) = conn.lookup_network_by_uuid_string(uuid)
    {
        let taken = net.name().unwrap_or_default();
        if create_only {
            return Err(exists(format!(
                "a network with UUID {uuid} exists (named {taken:?}); `create_only` does not replace it"
            )));
        }
        if name.as_deref() != Some(taken.as_str()) {
            return Err(exists(format!(
                "a network with UUID {uuid} exists, named {taken:?}; a network cannot be renamed by defining it"
            )));
        }
    }
    Ok(())
}
