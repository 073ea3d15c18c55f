//! Reading domains: the listing, one domain, its XML.

use virt::connect::Connect;

use super::{
    handle::{standing, state_and_xml},
    libvirt::{self, XmlOptions},
    view::{ListDomainHandles, read_listed},
    xml_summary,
};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{DomainRef, DomainState, DomainSummary, LabelSelector},
};

/// A page of the domains, by name, after `after`, that are in `state` (any when
/// `None`) and match `selector`. The listing, states, persistence, autostart and
/// managed save images are five bulk round trips whatever the number of domains;
/// then one XML read per domain until the page is full (libvirt has no bulk XML
/// call), so a page costs its size plus the domains a label selector skips.
#[derive(Debug, Clone)]
pub struct ListDomains {
    pub after: Option<String>,
    pub limit: usize,
    pub state: Option<DomainState>,
    pub selector: LabelSelector,
}

impl ListDomains {
    /// Every domain that matches `selector`.
    pub fn matching(selector: LabelSelector) -> Self {
        ListDomains {
            after: None,
            limit: usize::MAX,
            state: None,
            selector,
        }
    }
}

impl Operation for ListDomains {
    type Output = Vec<DomainSummary>;
    const NAME: &'static str = "list domains";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let mut listed = ListDomainHandles.call(conn)?;
        listed.retain(|l| {
            self.after
                .as_deref()
                .is_none_or(|after| l.handle.name() > after)
                && self
                    .state
                    .is_none_or(|state| DomainState::from_number(u64::from(l.state.state)) == state)
        });
        listed.sort_by(|a, b| a.handle.name().cmp(b.handle.name()));
        let mut page = Vec::new();
        for listed in &listed {
            if page.len() >= self.limit {
                break;
            }
            // Undefined since the listing: it simply is no longer there.
            let Some(read) = read_listed(listed, conn)? else {
                continue;
            };
            if self.selector.matches(&read.view.summary.labels) {
                page.push(read.view.summary);
            }
        }
        Ok(page)
    }
}

/// One domain, found by name or UUID: four or five round trips (lookup, state, XML,
/// persistence, autostart, and the managed save image of one that is off).
#[derive(Debug, Clone)]
pub struct GetDomain(pub DomainRef);

impl Operation for GetDomain {
    type Output = DomainSummary;
    const NAME: &'static str = "get domain";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.0)?;
        let read = || {
            let (state, domain_xml) = state_and_xml(&dom)?;
            let standing = standing(&dom, state)?;
            xml_summary::summary(&domain_xml, state, standing)
        };
        read().map_err(|e| match e {
            HypervisorError::DomainGone { .. } => HypervisorError::DomainNotFound {
                domain: self.0.clone(),
            },
            other => other,
        })
    }
}

/// A domain's XML description.
#[derive(Debug, Clone)]
pub struct GetDomainXml {
    pub domain: DomainRef,
    pub options: XmlOptions,
}

impl Operation for GetDomainXml {
    type Output = String;
    const NAME: &'static str = "get domain XML";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        libvirt::xml(conn, &self.domain, self.options)
    }
}
