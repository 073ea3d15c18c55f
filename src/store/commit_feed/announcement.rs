//! What a commit's notification carries: the host, the id of the host's event before
//! the batch, and the batch itself when it fits in PostgreSQL's notification payload
//! (8000 bytes). A watcher whose last event is the one before the batch takes the
//! batch as it is; any other watcher, or a batch too large to carry, reads the
//! database.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::model::{EventType, LifecycleEvent};

/// Below PostgreSQL's 8000-byte limit on a notification's payload.
const PAYLOAD_MAX: usize = 7900;

/// One host's commit, as its watchers hear of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// The id of the host's last event before this batch; `None` when the recorder
    /// did not know it (its first commit since it started).
    pub after: Option<i64>,
    /// The batch, in id order; `None` when it was too large to carry.
    pub events: Option<Vec<LifecycleEvent>>,
}

impl Announced {
    /// The batch, when it follows the event with id `handled` directly.
    #[must_use]
    pub fn following(&self, handled: Option<i64>) -> Option<&[LifecycleEvent]> {
        match (&self.events, self.after, handled) {
            (Some(events), Some(after), Some(handled)) if after == handled => Some(events),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Payload<'a> {
    #[serde(rename = "h", borrow)]
    hostname: Cow<'a, str>,
    #[serde(rename = "a", skip_serializing_if = "Option::is_none", default)]
    after: Option<i64>,
    #[serde(rename = "e", skip_serializing_if = "Option::is_none", default, borrow)]
    events: Option<Vec<Wire<'a>>>,
}

/// An event without its hostname, which the payload names once. Strings borrow
/// from the payload unless JSON escaped them.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    i: i64,
    #[serde(borrow)]
    u: Cow<'a, str>,
    #[serde(borrow)]
    n: Cow<'a, str>,
    #[serde(borrow)]
    k: Cow<'a, str>,
    #[serde(borrow)]
    d: Cow<'a, str>,
    s: bool,
    t: i64,
}

/// The payload announcing `events` (the batch just committed) of `hostname`.
pub(in crate::store) fn encode(
    hostname: &str,
    after: Option<i64>,
    events: &[LifecycleEvent],
) -> String {
    let wire = events
        .iter()
        .map(|e| Wire {
            i: e.id,
            u: Cow::Borrowed(&e.domain_uuid),
            n: Cow::Borrowed(&e.domain_name),
            k: Cow::Borrowed(e.kind.key()),
            d: Cow::Borrowed(&e.detail),
            s: e.synthetic,
            t: e.occurred_at_micros,
        })
        .collect();
    let full = Payload {
        hostname: Cow::Borrowed(hostname),
        after,
        events: Some(wire),
    };
    match serde_json::to_string(&full) {
        Ok(text) if text.len() <= PAYLOAD_MAX => text,
        _ => bare(hostname),
    }
}

/// The payload naming only the host: watchers read what it committed.
fn bare(hostname: &str) -> String {
    serde_json::to_string(&Payload {
        hostname: Cow::Borrowed(hostname),
        after: None,
        events: None,
    })
    .unwrap_or_default()
}

/// The host a payload announces, read without its batch.
pub(super) fn announcing_host(payload: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(rename = "h", borrow)]
        hostname: Cow<'a, str>,
    }
    let Head { hostname } = serde_json::from_str(payload).ok()?;
    Some(hostname.into_owned())
}

/// The host and what it announced; `None` for a payload this version cannot read
/// (an agent of another version), whose watchers then read on their interval.
pub(super) fn decode(payload: &str) -> Option<(String, Announced)> {
    let Payload {
        hostname,
        after,
        events,
    } = serde_json::from_str(payload).ok()?;
    let events = match events {
        None => None,
        Some(wire) => Some(
            wire.into_iter()
                .map(|w| {
                    Some(LifecycleEvent {
                        id: w.i,
                        hostname: hostname.clone().into_owned(),
                        domain_uuid: w.u.into_owned(),
                        domain_name: w.n.into_owned(),
                        kind: EventType::from_key(&w.k)?,
                        detail: w.d.into_owned(),
                        synthetic: w.s,
                        occurred_at_micros: w.t,
                    })
                })
                .collect::<Option<Vec<_>>>()?,
        ),
    };
    Some((hostname.into_owned(), Announced { after, events }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, detail: &str) -> LifecycleEvent {
        LifecycleEvent {
            id,
            hostname: "hv-1".into(),
            domain_uuid: "00000000-0000-0000-0000-000000000001".into(),
            domain_name: "vm-\"quoted\"".into(),
            kind: EventType::Started,
            detail: detail.into(),
            synthetic: false,
            occurred_at_micros: 1_700_000_000_000_000,
        }
    }

    #[test]
    fn a_batch_round_trips_and_follows_only_the_event_before_it() {
        let batch = vec![event(41, "booted"), event(42, "booted")];
        let payload = encode("hv-1", Some(40), &batch);
        assert_eq!(announcing_host(&payload).as_deref(), Some("hv-1"));
        let (host, announced) = decode(&payload).expect("decoded");
        assert_eq!(host, "hv-1");
        assert_eq!(announced.events.as_deref(), Some(&batch[..]));
        assert_eq!(announced.following(Some(40)), Some(&batch[..]));
        assert_eq!(announced.following(Some(39)), None, "a gap: read instead");
        assert_eq!(announced.following(None), None);
    }

    #[test]
    fn a_batch_too_large_names_only_the_host() {
        let batch: Vec<LifecycleEvent> = (1..200).map(|i| event(i, "booted")).collect();
        let payload = encode("hv-1", Some(0), &batch);
        assert!(payload.len() <= PAYLOAD_MAX);
        let (host, announced) = decode(&payload).expect("decoded");
        assert_eq!(host, "hv-1");
        assert_eq!(announced.events, None);
        assert_eq!(announced.following(Some(0)), None);
    }

    #[test]
    fn an_unreadable_payload_is_none() {
        assert_eq!(decode("hv-1"), None);
        assert_eq!(decode(r#"{"h":"hv-1","e":[{"i":1}]}"#), None);
    }
}
