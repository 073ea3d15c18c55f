//! Reading domains: a page of the listing, one domain; from the inventory unless the
//! client asks for LIVE (or the inventory cannot answer).

use tonic::Status;

use super::{DomainApi, Source};
use crate::{
    grpc::{convert::state_filter, paging::Paging, pb},
    hypervisor::{GetDomain, HypervisorError, ListDomains},
    model::{DomainRef, DomainSummary, LabelSelector},
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
            consistency,
        } = request;
        let filter = state_filter(state)?;
        let selector = LabelSelector::parse(&label_selector)?;
        let filter_key = format!(
            "{}|{}",
            filter.map(|s| format!("{s:?}")).unwrap_or_default(),
            label_selector.trim()
        );
        let paging = Paging::parse(page_size, &page_token, filter_key)?;
        // Filters first, then the page: a page is full whenever enough domains match.
        let keep = |d: &DomainSummary| {
            filter.is_none_or(|state| d.state == state) && selector.matches(&d.labels)
        };

        let (mut page, stale) = match self.source(consistency)? {
            Source::Inventory { stale } => {
                let views = self
                    .inventory
                    .page(paging.after.as_deref(), paging.fetch(), |view| {
                        keep(&view.summary)
                    });
                let page = views
                    .iter()
                    .map(|view| domain(view.summary.clone(), stale))
                    .collect();
                (page, stale)
            }
            Source::Libvirt => {
                let domains = self
                    .perform(ListDomains {
                        after: paging.after.clone(),
                        limit: paging.fetch(),
                        state: filter,
                        selector: selector.clone(),
                    })
                    .await?;
                (domains.into_iter().map(pb::Domain::from).collect(), false)
            }
        };
        let next_page_token = paging.finish(&mut page, |d: &pb::Domain| d.name.clone());
        Ok(pb::ListDomainsResponse {
            domains: page,
            next_page_token,
            stale,
        })
    }

    pub(super) async fn get(&self, request: pb::GetDomainRequest) -> Result<pb::Domain, Status> {
        let pb::GetDomainRequest {
            domain,
            consistency,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        match self.source(consistency)? {
            Source::Inventory { stale } => match self.inventory.get(&domain) {
                Some(view) => Ok(self::domain(view.summary.clone(), stale)),
                None => Err(HypervisorError::DomainNotFound { domain }.into()),
            },
            // A domain the inventory knows is read by its kept handle, in two round
            // trips; any other is looked up.
            Source::Libvirt => match self.inventory.live_read(&domain) {
                Some(read) => Ok(self.perform(read).await?.into()),
                None => Ok(self.perform(GetDomain(domain)).await?.into()),
            },
        }
    }
}

fn domain(summary: DomainSummary, stale: bool) -> pb::Domain {
    pb::Domain {
        stale,
        ..summary.into()
    }
}
