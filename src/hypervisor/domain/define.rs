//! Defining and undefining domains.

use virt::{connect::Connect, sys};

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry, xml},
    model::{DomainRef, DomainSummary},
};

/// Defines a persistent domain from libvirt XML (libvirt's message for bad XML).
/// With `create_only`, a domain with the XML's name or UUID is left alone and the
/// call fails instead of replacing its definition.
#[derive(Debug, Clone)]
pub struct DefineDomain {
    pub xml: String,
    pub create_only: bool,
}

impl Operation for DefineDomain {
    type Output = DomainSummary;
    const NAME: &'static str = "define domain";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::EnabledHost;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        if self.create_only {
            refuse_existing(conn, &self.xml)?;
        }
        libvirt::define(conn, &self.xml)
    }
}

/// What undefining also removes; libvirt refuses to undefine a domain that has one
/// of these unless told to remove it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UndefineOptions {
    pub managed_save: bool,
    pub snapshots: bool,
    pub nvram: bool,
}

/// Removes a domain's persistent definition; with `allow_missing`, a domain that
/// does not exist is not an error.
#[derive(Debug, Clone)]
pub struct UndefineDomain {
    pub domain: DomainRef,
    pub allow_missing: bool,
    pub options: UndefineOptions,
}

impl Operation for UndefineDomain {
    type Output = ();
    const NAME: &'static str = "undefine domain";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = match libvirt::lookup(conn, &self.domain) {
            Ok(dom) => dom,
            Err(HypervisorError::DomainNotFound { .. }) if self.allow_missing => return Ok(()),
            Err(e) => return Err(e),
        };
        let UndefineOptions {
            managed_save,
            snapshots,
            nvram,
        } = self.options;
        let mut flags = 0;
        if managed_save {
            flags |= sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE;
        }
        if snapshots {
            flags |= sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
        }
        if nvram {
            flags |= sys::VIR_DOMAIN_UNDEFINE_NVRAM;
        }
        match dom.undefine_flags(flags) {
            Ok(()) => Ok(()),
            // Undefined by someone else between the lookup and now.
            Err(e) if self.allow_missing && e.code().to_raw() == sys::VIR_ERR_NO_DOMAIN => Ok(()),
            Err(e) => Err(HypervisorError::from_virt(Self::NAME, &e)),
        }
    }
}

/// Fails with ALREADY_EXISTS when a domain has the XML's name or UUID. XML that does
/// not parse is left for libvirt to refuse in its own words.
fn refuse_existing(conn: &Connect, xml: &str) -> Result<(), HypervisorError> {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return Ok(());
    };
    let field = |tag: &str| xml::child_text(doc.root_element(), tag);
    let exists = |message: String| HypervisorError::AlreadyExists {
        operation: "define domain",
        message,
    };
    if let Some(name) = field("name")
        && let Ok(dom) = conn.lookup_domain_by_name(&name)
    {
        let uuid = dom.uuid_string().unwrap_or_default();
        return Err(exists(format!(
            "a domain named {name:?} exists (UUID {uuid}); `create_only` does not replace it"
        )));
    }
    if let Some(uuid) = field("uuid")
        && let Ok(dom) = conn.lookup_domain_by_uuid_string(&uuid)
    {
        let name = dom.name().unwrap_or_default();
        return Err(exists(format!(
            "a domain with UUID {uuid} exists (named {name:?}); `create_only` does not replace it"
        )));
    }
    Ok(())
}
