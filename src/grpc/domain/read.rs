//! Reading domains: a page of the listing, one domain.

use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::{convert::state_filter, paging::Paging, pb},
    hypervisor::{GetDomain, ListDomains},
    model::{DomainRef, LabelSelector},
};

impl DomainApi {
    pub(super) async fn list(
        &self,
        request: pb::ListDomainsRequest,
    ) -> Result<pb::ListDomainsResponse, Status> {
        let pb::ListDomainsRequest {
            page_size,
            page_token,
            state,
            label_selector,
        } = request;
        let filter = state_filter(state)?;
        let selector = LabelSelector::parse(&label_selector)?;
        let filter_key = format!(
            "{}|{}",
            filter.map(|s| format!("{s:?}")).unwrap_or_default(),
            label_selector.trim()
        );
        let paging = Paging::parse(page_size, &page_token, filter_key)?;

        let domains = self.perform(ListDomains).await?;
        let mut page: Vec<pb::Domain> = domains
            .into_iter()
            .filter(|d| filter.is_none_or(|state| d.state == state))
            .filter(|d| selector.matches(&d.labels))
            .filter(|d| paging.after.as_ref().is_none_or(|after| &d.name > after))
            .take(paging.fetch())
            .map(pb::Domain::from)
            .collect();
        let next_page_token = paging.finish(&mut page, |d| d.name.clone());
        Ok(pb::ListDomainsResponse {
            domains: page,
            next_page_token,
        })
    }

    pub(super) async fn get(&self, request: pb::GetDomainRequest) -> Result<pb::Domain, Status> {
        let pb::GetDomainRequest { domain } = request;
        let domain = DomainRef::parse(&domain)?;
        Ok(self.perform(GetDomain(domain)).await?.into())
    }
}
