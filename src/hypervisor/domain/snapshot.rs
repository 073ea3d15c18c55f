//! Snapshots of a domain: taking, listing, reading, reverting to and deleting them.

use virt::{connect::Connect, domain::Domain, domain_snapshot::DomainSnapshot, sys};

use super::{libvirt, snapshot_xml};
use crate::{
    hypervisor::{Admission, HypervisorError, Missing, Operation, Retry},
    model::{DomainRef, DomainSummary, SnapshotInfo},
};

/// Takes a snapshot; with a name, refused when the domain has one of that name.
#[derive(Debug, Clone)]
pub struct CreateSnapshot {
    pub domain: DomainRef,
    pub name: Option<String>,
    pub description: String,
}

impl Operation for CreateSnapshot {
    type Output = SnapshotInfo;
    const NAME: &'static str = "create snapshot";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // A snapshot takes disk space, not the host's CPU or memory.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.domain)?;
        if let Some(name) = &self.name
            && Domain::lookup_snapshot_by_name(&dom, name, 0).is_ok()
        {
            return Err(HypervisorError::AlreadyExists {
                operation: Self::NAME,
                message: format!("domain {} has a snapshot named {name:?}", self.domain),
            });
        }
        let xml = snapshot_xml::render(self.name.as_deref(), &self.description);
        let snapshot = dom
            .create_snapshot_xml(&xml, 0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        // libvirt makes the new snapshot the current one.
        describe(&dom, &snapshot, Some(true))
    }
}

/// Every snapshot of a domain, ordered by name.
#[derive(Debug, Clone)]
pub struct ListSnapshots(pub DomainRef);

impl Operation for ListSnapshots {
    type Output = Vec<SnapshotInfo>;
    const NAME: &'static str = "list snapshots";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.0)?;
        let snapshots = dom
            .list_all_snapshots(0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        // One call for the current snapshot instead of one per snapshot.
        let current = match dom.current_snapshot(0) {
            Ok(snapshot) => snapshot.name().ok(),
            Err(_) => None,
        };
        let mut infos = Vec::with_capacity(snapshots.len());
        for snapshot in &snapshots {
            let is_current = snapshot.name().ok() == current;
            match describe(&dom, snapshot, Some(is_current)) {
                Ok(info) => infos.push(info),
                // Deleted between the listing and the read.
                Err(HypervisorError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }
}

/// One snapshot, named.
#[derive(Debug, Clone)]
pub struct GetSnapshot {
    pub domain: DomainRef,
    pub name: String,
}

impl Operation for GetSnapshot {
    type Output = SnapshotInfo;
    const NAME: &'static str = "get snapshot";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.domain)?;
        let snapshot = lookup(&dom, &self.domain, &self.name)?;
        describe(&dom, &snapshot, None)
    }
}

/// Puts a domain back in a snapshot's state; the domain afterwards.
#[derive(Debug, Clone)]
pub struct RevertToSnapshot {
    pub domain: DomainRef,
    pub name: String,
}

impl Operation for RevertToSnapshot {
    type Output = DomainSummary;
    const NAME: &'static str = "revert to snapshot";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // A snapshot of a running domain starts it again: new work.
    const ADMISSION: Admission = Admission::EnabledHost;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.domain)?;
        let snapshot = lookup(&dom, &self.domain, &self.name)?;
        snapshot
            .revert(0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        libvirt::summarize(&dom)
    }
}

/// Deletes a snapshot, and with `with_children` the snapshots taken from it.
#[derive(Debug, Clone)]
pub struct DeleteSnapshot {
    pub domain: DomainRef,
    pub name: String,
    pub with_children: bool,
}

impl Operation for DeleteSnapshot {
    type Output = ();
    const NAME: &'static str = "delete snapshot";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.domain)?;
        let snapshot = lookup(&dom, &self.domain, &self.name)?;
        let flags = if self.with_children {
            sys::VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN
        } else {
            0
        };
        snapshot
            .delete(flags)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))
    }
}

fn lookup(dom: &Domain, domain: &DomainRef, name: &str) -> Result<DomainSnapshot, HypervisorError> {
    Domain::lookup_snapshot_by_name(dom, name, 0).map_err(|e| {
        match HypervisorError::from_virt("look up snapshot", &e) {
            HypervisorError::NotFound { operation, .. } => HypervisorError::NotFound {
                operation,
                missing: Missing::Snapshot(name.to_owned()),
                message: format!("domain {domain} has no snapshot named {name:?}"),
            },
            other => other,
        }
    })
}

/// A snapshot's description; `current` when the caller knows it already.
fn describe(
    dom: &Domain,
    snapshot: &DomainSnapshot,
    current: Option<bool>,
) -> Result<SnapshotInfo, HypervisorError> {
    let fail = |e: virt::error::Error| HypervisorError::from_virt("read snapshot", &e);
    let xml = snapshot.xml_desc(0).map_err(fail)?;
    let current = match current {
        Some(current) => current,
        None => snapshot.is_current(0).map_err(fail)?,
    };
    let uuid = dom
        .uuid_string()
        .map_err(|e| HypervisorError::from_virt("read domain uuid", &e))?;
    snapshot_xml::parse(&xml, uuid, current)
}
