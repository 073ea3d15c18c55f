//! `ListHosts`: the hosts of the shared database, by hostname, filtered; and the
//! `hostname` field other calls accept to read another host.

use tonic::Status;

use super::HostApi;
use crate::{
    grpc::{convert, paging::Paging, pb},
    model::{InvalidArgument, LabelSelector},
    store::{HostQuery, now_millis},
};

/// Rows read per query while a label selector discards some: a page of hosts is
/// assembled from as few reads as the selector allows.
const SCAN_CHUNK: usize = 500;
/// Longer than any DNS name: what a hostname field accepts.
const MAX_HOSTNAME_LEN: usize = 253;

/// The host a request names in `field`: `None` for empty (this host).
pub(super) fn parse_hostname(field: &'static str, value: &str) -> Result<Option<String>, Status> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > MAX_HOSTNAME_LEN || value.chars().any(char::is_control) {
        return Err(InvalidArgument::new(
            field,
            format!("`{field}` must be a hostname of at most {MAX_HOSTNAME_LEN} characters"),
        )
        .into());
    }
    Ok(Some(value.to_owned()))
}

impl HostApi {
    pub(super) async fn list_hosts(
        &self,
        request: pb::ListHostsRequest,
    ) -> Result<pb::ListHostsResponse, Status> {
        let pb::ListHostsRequest {
            page_size,
            page_token,
            enabled,
            liveness,
            label_selector,
        } = request;
        let up = match pb::HostLiveness::try_from(liveness) {
            Ok(pb::HostLiveness::Unspecified) => None,
            Ok(pb::HostLiveness::Up) => Some(true),
            Ok(pb::HostLiveness::Down) => Some(false),
            Err(_) => {
                return Err(InvalidArgument::new(
                    "liveness",
                    format!("`liveness` {liveness} is not a HostLiveness value"),
                )
                .into());
            }
        };
        let selector = LabelSelector::parse(&label_selector)?;
        let fingerprint = format!("{enabled:?}|{up:?}|{}", label_selector.trim());
        let paging = Paging::parse(page_size, &page_token, fingerprint)?;
        let down_after = self.host.settings().down_after;
        let now = now_millis();
        let down_after_ms = i64::try_from(down_after.as_millis()).unwrap_or(i64::MAX);
        let mut query = HostQuery {
            enabled,
            up,
            heartbeat_cutoff_ms: now.saturating_sub(down_after_ms),
            after: paging.after.clone(),
            limit: if selector.is_empty() {
                paging.fetch()
            } else {
                SCAN_CHUNK.max(paging.fetch())
            },
        };
        let mut hosts = Vec::with_capacity(paging.fetch());
        loop {
            let chunk = self.store.list_hosts(&query).await?;
            let exhausted = chunk.len() < query.limit;
            query.after = chunk.last().map(|h| h.hostname.clone());
            hosts.extend(chunk.into_iter().filter(|h| selector.matches(&h.labels)));
            if exhausted || hosts.len() >= paging.fetch() {
                break;
            }
        }
        hosts.truncate(paging.fetch());
        let next_page_token = paging.finish(&mut hosts, |h| h.hostname.clone());
        Ok(pb::ListHostsResponse {
            hosts: hosts
                .into_iter()
                .map(|h| convert::fleet_host(h, now, down_after))
                .collect(),
            next_page_token,
        })
    }
}
