//! One domain's sample, and every domain's (optionally by label selector).

use std::collections::HashSet;

use tonic::Status;

use super::StatsApi;
use crate::{
    grpc::{domain::Source, pb},
    hypervisor::{GetDomainStats, ListDomainStats, ListDomains},
    model::{DomainRef, LabelSelector},
};

impl StatsApi {
    pub(super) async fn get(
        &self,
        request: pb::GetDomainStatsRequest,
    ) -> Result<pb::DomainStats, Status> {
        let pb::GetDomainStatsRequest { domain } = request;
        let domain = DomainRef::parse(&domain)?;
        let sampled = self.domains.perform(GetDomainStats(domain)).await?;
        let stats = self.last_good.settle(vec![sampled], false);
        Ok(stats.into_iter().next().map(Into::into).unwrap_or_default())
    }

    pub(super) async fn list(
        &self,
        request: pb::ListDomainStatsRequest,
    ) -> Result<pb::ListDomainStatsResponse, Status> {
        let pb::ListDomainStatsRequest { label_selector } = request;
        let selector = LabelSelector::parse(&label_selector)?;
        // Labels live in each domain's metadata, which the bulk call does not return:
        // the inventory knows them; libvirt is asked (a read per domain) only when the
        // inventory cannot answer.
        let selected: Option<HashSet<String>> = if selector.is_empty() {
            None
        } else if let Source::Inventory { stale: false } =
            self.domains.source(pb::ReadConsistency::Cached.into())?
        {
            let views = self.domains.inventory().page(None, usize::MAX, |view| {
                selector.matches(&view.summary.labels)
            });
            Some(views.iter().map(|v| v.summary.uuid.clone()).collect())
        } else {
            let domains = self
                .domains
                .perform(ListDomains::matching(selector.clone()))
                .await?;
            Some(domains.into_iter().map(|d| d.uuid).collect())
        };
        let sampled = self.domains.perform(ListDomainStats).await?;
        let domains = self
            .last_good
            .settle(sampled, true)
            .into_iter()
            .filter(|s| {
                selected
                    .as_ref()
                    .is_none_or(|uuids| uuids.contains(&s.uuid))
            })
            .map(Into::into)
            .collect();
        Ok(pb::ListDomainStatsResponse { domains })
    }
}
