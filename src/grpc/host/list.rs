//! `ListLifecycleEvents`: one page of a host's stored events, filtered: this host's,
//! or another's of the shared database.
//!
//! A page token that resumes inside the pruned part of the journal is answered with
//! OUT_OF_RANGE rather than with the events after the gap. The watermark is read
//! after the page it guards: it only rises, and rises in the transaction that
//! deletes, so a page read before it was still whole.

use tonic::Status;

use super::{
    cursor::{Resume, domain_key, parse_domain, pruned},
    fleet::parse_hostname,
};
use crate::{
    grpc::{convert, paging::Paging, pb, status},
    model::EventType,
    model::InvalidArgument,
    store::{EventQuery, Store, StoreError},
};

/// Serves one page of stored events of `this_host`, or of the host the request names.
pub(super) async fn list(
    store: &Store,
    this_host: &str,
    request: pb::ListLifecycleEventsRequest,
) -> Result<pb::ListLifecycleEventsResponse, Status> {
    let pb::ListLifecycleEventsRequest {
        page_size,
        page_token,
        domain,
        types,
        start_time,
        end_time,
        order,
        hostname,
        all_hosts,
    } = request;
    let other_host = parse_hostname("hostname", &hostname)?;
    if all_hosts && other_host.is_some() {
        return Err(InvalidArgument::new(
            "all_hosts",
            "`hostname` and `all_hosts` exclude each other: name one host, or ask for all",
        )
        .into());
    }
    let hostname = other_host.as_deref().unwrap_or(this_host);
    if other_host.is_some() {
        match store.host(hostname).await {
            Ok(_) => {}
            Err(StoreError::HostMissing(_)) => {
                return Err(status::host_not_found(hostname));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let newest_first = match pb::EventOrder::try_from(order) {
        Ok(pb::EventOrder::Unspecified | pb::EventOrder::NewestFirst) => true,
        Ok(pb::EventOrder::OldestFirst) => false,
        Err(_) => {
            return Err(Status::from(InvalidArgument::new(
                "order",
                format!("`order` {order} is not an EventOrder value"),
            )));
        }
    };
    let domain = parse_domain(&domain)?;
    let types = types
        .into_iter()
        .map(convert::event_type_from_pb)
        .collect::<Result<Vec<EventType>, Status>>()?;
    let start_micros = start_time
        .map(|t| convert::micros_from_timestamp("start_time", &t))
        .transpose()?;
    let end_micros = end_time
        .map(|t| convert::micros_from_timestamp("end_time", &t))
        .transpose()?;
    if let (Some(start), Some(end)) = (start_micros, end_micros)
        && start >= end
    {
        return Err(Status::from(InvalidArgument::new(
            "start_time",
            "`start_time` must be before `end_time`",
        )));
    }
    // Tokens of this host's pages read as they did before `hostname` existed.
    let scope = match (all_hosts, other_host.as_deref()) {
        (true, _) => "|*".to_owned(),
        (false, Some(h)) => format!("|{h}"),
        (false, None) => String::new(),
    };
    let fingerprint =
        format!("{newest_first}|{domain:?}|{types:?}|{start_micros:?}|{end_micros:?}{scope}");
    let paging = Paging::parse(page_size, &page_token, fingerprint)?;
    let cursor = paging.after_id()?;

    let query = EventQuery {
        domain: domain.map(|d| domain_key(&d)),
        types,
        start_micros,
        end_micros,
        newest_first,
        cursor,
        limit: paging.fetch(),
    };
    if all_hosts {
        let mut events = store.fleet_lifecycle_events(&query).await?;
        check_fleet_cursor(store, cursor, newest_first).await?;
        let next_page_token = paging.finish(&mut events, |e| e.id.to_string());
        return Ok(pb::ListLifecycleEventsResponse {
            events: events.into_iter().map(pb::LifecycleEvent::from).collect(),
            next_page_token,
        });
    }
    let mut events = store.lifecycle_events(hostname, &query).await?;
    if let Some(cursor) = cursor {
        // Oldest first, the token expects every id above the cursor; newest first,
        // every id below it, which are gone once the cursor itself was pruned.
        let watermark = store.events_pruned_through(hostname).await?;
        let stale = if newest_first {
            cursor <= watermark
        } else {
            cursor < watermark
        };
        if stale {
            return Err(pruned(store, hostname, watermark, Resume::PageToken(cursor)).await);
        }
    }
    let next_page_token = paging.finish(&mut events, |e| e.id.to_string());
    Ok(pb::ListLifecycleEventsResponse {
        events: events.into_iter().map(pb::LifecycleEvent::from).collect(),
        next_page_token,
    })
}

/// Oldest first across hosts, a token expects every id above its cursor: once any
/// host pruned past it, that host's part of the next page is gone. Newest first, each
/// host's pruned events are its oldest, so pages only end sooner: nothing is skipped.
async fn check_fleet_cursor(
    store: &Store,
    cursor: Option<i64>,
    newest_first: bool,
) -> Result<(), Status> {
    let Some(cursor) = cursor.filter(|_| !newest_first) else {
        return Ok(());
    };
    let watermark = store.fleet_events_pruned_through().await?;
    if cursor < watermark {
        return Err(status::events_pruned(
            format!(
                "`page_token` (after id {cursor}) points before events a host has pruned since \
                 (up to id {watermark}, events.retention_days); list again without `page_token`"
            ),
            watermark,
        ));
    }
    Ok(())
}
