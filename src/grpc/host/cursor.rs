//! Where a client resumes reading the journal, and the answer when that is pruned.

use tonic::Status;

use crate::{grpc::status, model::DomainRef, store::Store};

/// Where a client asked to resume from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Resume {
    AfterId(i64),
    PageToken(i64),
}

/// OUT_OF_RANGE for a cursor into the pruned journal, naming the oldest event kept
/// and how to recover: the client's view is stale, only a resync makes it whole.
pub(super) async fn pruned(
    store: &Store,
    hostname: &str,
    watermark: i64,
    resume: Resume,
) -> Status {
    let oldest = match store.oldest_event_id(hostname).await {
        Ok(Some(id)) => format!("the oldest available event is id {id}"),
        Ok(None) => "no event is kept now".to_owned(),
        Err(e) => return Status::from(e),
    };
    let (asked, again) = match resume {
        Resume::AfterId(id) => (
            format!("`after_id` {id}"),
            format!("then watch with an `after_id` of at least {watermark}, or none"),
        ),
        Resume::PageToken(id) => (
            format!("`page_token` (after id {id})"),
            "then list again without `page_token`".to_owned(),
        ),
    };
    status::events_pruned(
        format!(
            "{asked} points before the oldest kept event: events up to id {watermark} were pruned \
             (events.retention_days) and {oldest}; resync this host's domains with ListDomains, {again}"
        ),
        watermark,
    )
}

pub(super) fn parse_domain(domain: &str) -> Result<Option<DomainRef>, Status> {
    if domain.is_empty() {
        Ok(None)
    } else {
        Ok(Some(DomainRef::parse(domain)?))
    }
}

pub(super) fn domain_key(domain: &DomainRef) -> String {
    match domain {
        DomainRef::Uuid(s) | DomainRef::Name(s) => s.clone(),
    }
}
