//! Saving a domain's memory and stopping it, and starting it again from there: to a
//! file in the service's save directory, or to libvirt's managed save image.

use std::path::{Path, PathBuf};

use virt::{connect::Connect, sys};

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Missing, Operation, Retry, ffi, xml},
    model::{DomainAction, DomainRef, DomainSummary, SaveFile},
};

/// Saves a running or paused domain to `file` in `dir` and stops it.
#[derive(Debug, Clone)]
pub struct SaveDomain {
    pub domain: DomainRef,
    pub dir: PathBuf,
    pub file: SaveFile,
}

impl Operation for SaveDomain {
    type Output = DomainSummary;
    const NAME: &'static str = "save domain";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // It takes the domain's load off the host.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let path = self.dir.join(self.file.as_str());
        if path.exists() {
            return Err(HypervisorError::AlreadyExists {
                operation: Self::NAME,
                message: format!(
                    "save file {} exists already; choose another `file` name",
                    self.file
                ),
            });
        }
        prepare_dir(&self.dir)?;
        let path = text(&path)?;
        libvirt::act_with(conn, &self.domain, DomainAction::Save, |dom| {
            (Self::NAME, ffi::save_domain(dom, path, 0))
        })
    }
}

/// Starts a domain again from a save file; the domain afterwards.
#[derive(Debug, Clone)]
pub struct RestoreDomain {
    pub dir: PathBuf,
    pub file: SaveFile,
    pub paused: bool,
}

impl Operation for RestoreDomain {
    type Output = DomainSummary;
    const NAME: &'static str = "restore domain";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // It brings a domain's load back onto the host.
    const ADMISSION: Admission = Admission::EnabledHost;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(Self::NAME, &e);
        let path = self.dir.join(self.file.as_str());
        if !path.is_file() {
            return Err(HypervisorError::NotFound {
                operation: Self::NAME,
                missing: Missing::SaveFile(self.file.as_str().to_owned()),
                message: format!("save file {} not found in the save directory", self.file),
            });
        }
        let path = text(&path)?;
        let uuid = saved_domain_uuid(&conn.save_image_xml_desc(path, 0).map_err(fail)?)?;
        // Without `paused`, the domain comes back as it was saved (running or paused);
        // not every driver takes VIR_DOMAIN_SAVE_RUNNING (the test driver refuses it).
        let flags = if self.paused {
            sys::VIR_DOMAIN_SAVE_PAUSED
        } else {
            0
        };
        conn.restore_domain_flags(path, None, flags).map_err(fail)?;
        libvirt::summarize(&libvirt::lookup(conn, &DomainRef::Uuid(uuid))?)
    }
}

/// Saves a running or paused domain to its managed save image and stops it.
#[derive(Debug, Clone)]
pub struct ManagedSaveDomain(pub DomainRef);

impl Operation for ManagedSaveDomain {
    type Output = DomainSummary;
    const NAME: &'static str = "managed save domain";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::act(conn, &self.0, DomainAction::Save)
    }
}

/// Discards a domain's managed save image; a domain without one is left as it is.
#[derive(Debug, Clone)]
pub struct RemoveManagedSave(pub DomainRef);

impl Operation for RemoveManagedSave {
    type Output = DomainSummary;
    const NAME: &'static str = "remove managed save";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(Self::NAME, &e);
        let dom = libvirt::lookup(conn, &self.0)?;
        if dom.has_managed_save(0).map_err(fail)? {
            dom.managed_save_remove(0).map_err(fail)?;
        }
        libvirt::summarize(&dom)
    }
}

/// Creates the save directory, readable by the service alone: saved memory holds
/// whatever the guest had in it.
fn prepare_dir(dir: &Path) -> Result<(), HypervisorError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| {
            HypervisorError::internal(
                "save domain",
                format!("cannot create the save directory {}: {e}", dir.display()),
            )
        })
}

fn text(path: &Path) -> Result<&str, HypervisorError> {
    path.to_str().ok_or_else(|| {
        HypervisorError::internal("save domain", "the save directory is not valid UTF-8")
    })
}

/// The UUID of the domain a save image holds, from its embedded domain XML.
fn saved_domain_uuid(xml: &str) -> Result<String, HypervisorError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        HypervisorError::internal("restore domain", format!("save image XML unreadable: {e}"))
    })?;
    xml::child_text(doc.root_element(), "uuid")
        .map(|uuid| uuid.to_ascii_lowercase())
        .ok_or_else(|| HypervisorError::internal("restore domain", "save image XML has no <uuid>"))
}
