//! The domain operations as async methods: each one libvirt round on a blocking thread.

use super::{Hypervisor, HypervisorError, Retry, XmlOptions, domain};
use crate::model::{DomainAction, DomainRef, DomainSummary};

impl Hypervisor {
    /// Every domain on the host, ordered by name.
    ///
    /// # Errors
    /// See [`Hypervisor::call`].
    pub async fn list_domains(&self) -> Result<Vec<DomainSummary>, HypervisorError> {
        self.call("list domains", Retry::Safe, domain::list_all)
            .await
    }

    /// One domain.
    ///
    /// # Errors
    /// [`HypervisorError::DomainNotFound`], or see [`Hypervisor::call`].
    pub async fn domain(&self, dom: DomainRef) -> Result<DomainSummary, HypervisorError> {
        self.call("get domain", Retry::Safe, move |conn| {
            domain::summarize(&domain::lookup(conn, &dom)?)
        })
        .await
    }

    /// Defines a persistent domain from libvirt XML.
    ///
    /// # Errors
    /// [`HypervisorError::InvalidArgument`] with libvirt's message for bad XML.
    pub async fn define_domain(&self, xml: String) -> Result<DomainSummary, HypervisorError> {
        self.call("define domain", Retry::OnlyIfUnsent, move |conn| {
            domain::define(conn, &xml)
        })
        .await
    }

    /// Removes a domain's persistent definition.
    ///
    /// # Errors
    /// [`HypervisorError::DomainNotFound`], or see [`Hypervisor::call`].
    pub async fn undefine_domain(&self, dom: DomainRef) -> Result<(), HypervisorError> {
        self.call("undefine domain", Retry::OnlyIfUnsent, move |conn| {
            domain::undefine(conn, &dom)
        })
        .await
    }

    /// Applies a state change and returns the domain afterwards.
    ///
    /// # Errors
    /// [`HypervisorError::FailedPrecondition`] when the domain's state forbids it.
    pub async fn act_on_domain(
        &self,
        dom: DomainRef,
        action: DomainAction,
    ) -> Result<DomainSummary, HypervisorError> {
        self.call("domain action", Retry::OnlyIfUnsent, move |conn| {
            domain::act(conn, &dom, action)
        })
        .await
    }

    /// The domain's XML description.
    ///
    /// # Errors
    /// [`HypervisorError::DomainNotFound`], or see [`Hypervisor::call`].
    pub async fn domain_xml(
        &self,
        dom: DomainRef,
        options: XmlOptions,
    ) -> Result<String, HypervisorError> {
        self.call("get domain XML", Retry::Safe, move |conn| {
            domain::xml(conn, &dom, options)
        })
        .await
    }
}
