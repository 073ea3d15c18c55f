//! The last known state of every domain, kept in step with events and rebuilt by
//! reconciliation, which compares it with what libvirt lists now.
//!
//! What happened while the service was blind cannot be known, only inferred from
//! the difference: synthetic events say `unknown` for their detail, and a domain that
//! vanished is reported as stopped and undefined for unknown reasons, never as
//! "deleted" by someone.

use std::collections::HashMap;

use crate::model::{DomainState, EventType, KnownDomain, NewEvent, UNKNOWN_DETAIL};

/// Known domains by UUID.
pub type KnownDomains = HashMap<String, KnownDomain>;

/// How one event changed the known state of its domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Upsert(KnownDomain),
    Remove(String),
}

/// Applies a real event to the known state and says what changed.
pub fn apply(known: &mut KnownDomains, event: &NewEvent) -> Change {
    let uuid = event.domain_uuid.clone();
    let entry = known.entry(uuid.clone()).or_insert_with(|| KnownDomain {
        uuid: uuid.clone(),
        name: event.domain_name.clone(),
        state: DomainState::Shutoff,
        persistent: false,
    });
    entry.name.clone_from(&event.domain_name);
    match event.kind {
        EventType::Defined => entry.persistent = true,
        EventType::Undefined => {
            entry.persistent = false;
            if !entry.state.is_active() {
                known.remove(&uuid);
                return Change::Remove(uuid);
            }
        }
        EventType::Started | EventType::Resumed => entry.state = DomainState::Running,
        EventType::Suspended => entry.state = DomainState::Paused,
        EventType::Stopped => {
            entry.state = DomainState::Shutoff;
            if !entry.persistent {
                // A transient domain is gone once it stops.
                known.remove(&uuid);
                return Change::Remove(uuid);
            }
        }
        EventType::Shutdown => {}
        EventType::PmSuspended => entry.state = DomainState::PmSuspended,
        EventType::Crashed => entry.state = DomainState::Crashed,
        // A device changes nothing the known state holds.
        EventType::DeviceAdded | EventType::DeviceRemoved | EventType::DeviceRemovalFailed => {}
    }
    Change::Upsert(entry.clone())
}

/// The synthetic events that explain how `known` became `live`, and the new known state.
pub fn reconcile(
    known: &KnownDomains,
    live: &[KnownDomain],
    now_micros: i64,
) -> (Vec<NewEvent>, KnownDomains) {
    let mut events = Vec::new();
    let mut next = KnownDomains::with_capacity(live.len());
    let synthetic = |domain_uuid: &str, domain_name: &str, kind| NewEvent {
        domain_uuid: domain_uuid.to_owned(),
        domain_name: domain_name.to_owned(),
        kind,
        detail: UNKNOWN_DETAIL.to_owned(),
        synthetic: true,
        occurred_at_micros: now_micros,
    };
    for domain in live {
        match known.get(&domain.uuid) {
            None => {
                if domain.persistent {
                    events.push(synthetic(&domain.uuid, &domain.name, EventType::Defined));
                }
                if let Some(kind) = transition(None, domain.state) {
                    events.push(synthetic(&domain.uuid, &domain.name, kind));
                }
            }
            Some(before) => {
                // Undefined while running leaves a transient domain behind; defining
                // a running transient one makes it persistent again.
                match (before.persistent, domain.persistent) {
                    (false, true) => {
                        events.push(synthetic(&domain.uuid, &domain.name, EventType::Defined));
                    }
                    (true, false) => {
                        events.push(synthetic(&domain.uuid, &domain.name, EventType::Undefined));
                    }
                    _ => {}
                }
                if same_state(before.state, domain.state) {
                    // Nothing observable changed.
                } else if let Some(kind) = transition(Some(before.state), domain.state) {
                    events.push(synthetic(&domain.uuid, &domain.name, kind));
                }
            }
        }
        next.insert(domain.uuid.clone(), domain.clone());
    }
    let mut vanished: Vec<&KnownDomain> = known
        .values()
        .filter(|k| !next.contains_key(&k.uuid))
        .collect();
    vanished.sort_by(|a, b| a.name.cmp(&b.name));
    for gone in vanished {
        if gone.state.is_active() {
            events.push(synthetic(&gone.uuid, &gone.name, EventType::Stopped));
        }
        if gone.persistent {
            events.push(synthetic(&gone.uuid, &gone.name, EventType::Undefined));
        }
    }
    (events, next)
}

/// Running and blocked are one state to a watcher.
fn same_state(a: DomainState, b: DomainState) -> bool {
    let norm = |s| match s {
        DomainState::Blocked => DomainState::Running,
        other => other,
    };
    norm(a) == norm(b)
}

/// The event that explains reaching `now` from `before`.
fn transition(before: Option<DomainState>, now: DomainState) -> Option<EventType> {
    match now {
        DomainState::Running | DomainState::Blocked => {
            Some(if before == Some(DomainState::Paused) {
                EventType::Resumed
            } else {
                EventType::Started
            })
        }
        DomainState::Paused => Some(EventType::Suspended),
        DomainState::Shutoff => before.map(|_| EventType::Stopped),
        DomainState::Shutdown => Some(EventType::Shutdown),
        DomainState::Crashed => Some(EventType::Crashed),
        DomainState::PmSuspended => Some(EventType::PmSuspended),
        DomainState::NoState => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(uuid: &str, state: DomainState, persistent: bool) -> KnownDomain {
        KnownDomain {
            uuid: uuid.into(),
            name: format!("vm-{uuid}"),
            state,
            persistent,
        }
    }

    fn known_from(domains: &[KnownDomain]) -> KnownDomains {
        reconcile(&KnownDomains::new(), domains, 0).1
    }

    fn kinds(events: &[NewEvent]) -> Vec<(String, EventType)> {
        events
            .iter()
            .map(|e| (e.domain_uuid.clone(), e.kind))
            .collect()
    }

    #[test]
    fn nothing_changed_means_no_events() {
        let domains = [
            live("a", DomainState::Running, true),
            live("b", DomainState::Shutoff, true),
        ];
        let (events, next) = reconcile(&known_from(&domains), &domains, 1);
        assert!(events.is_empty());
        assert_eq!(next.len(), 2);
    }

    #[test]
    fn appeared_changed_and_vanished_domains_get_synthetic_events() {
        let before = known_from(&[
            live("a", DomainState::Running, true),
            live("b", DomainState::Paused, true),
            live("c", DomainState::Running, true),
        ]);
        let now = [
            live("a", DomainState::Shutoff, true),
            live("b", DomainState::Running, true),
            live("d", DomainState::Running, false),
        ];
        let (events, next) = reconcile(&before, &now, 7);
        assert_eq!(
            kinds(&events),
            vec![
                ("a".into(), EventType::Stopped),
                ("b".into(), EventType::Resumed),
                ("d".into(), EventType::Started),
                ("c".into(), EventType::Stopped),
                ("c".into(), EventType::Undefined),
            ]
        );
        assert!(
            events
                .iter()
                .all(|e| e.synthetic && e.detail == UNKNOWN_DETAIL)
        );
        assert!(events.iter().all(|e| e.occurred_at_micros == 7));
        assert!(!next.contains_key("c"));
    }

    #[test]
    fn losing_or_gaining_a_definition_while_running_is_reported() {
        let before = known_from(&[
            live("a", DomainState::Running, true),
            live("b", DomainState::Running, false),
        ]);
        let now = [
            live("a", DomainState::Running, false),
            live("b", DomainState::Running, true),
        ];
        let (events, next) = reconcile(&before, &now, 3);
        assert_eq!(
            kinds(&events),
            vec![
                ("a".into(), EventType::Undefined),
                ("b".into(), EventType::Defined),
            ]
        );
        assert!(!next["a"].persistent);
        assert!(next["b"].persistent);
        let (again, _) = reconcile(&next, &now, 4);
        assert!(again.is_empty(), "reported once: {again:?}");
    }

    #[test]
    fn a_new_persistent_shut_off_domain_is_only_defined() {
        let (events, _) = reconcile(
            &KnownDomains::new(),
            &[live("x", DomainState::Shutoff, true)],
            0,
        );
        assert_eq!(kinds(&events), vec![("x".into(), EventType::Defined)]);
    }

    #[test]
    fn real_events_keep_the_known_state_current() {
        let mut known = KnownDomains::new();
        let event = |kind| NewEvent {
            domain_uuid: "u".into(),
            domain_name: "n".into(),
            kind,
            detail: String::new(),
            synthetic: false,
            occurred_at_micros: 0,
        };
        assert!(
            matches!(apply(&mut known, &event(EventType::Defined)), Change::Upsert(k) if k.persistent && k.state == DomainState::Shutoff)
        );
        assert!(
            matches!(apply(&mut known, &event(EventType::Started)), Change::Upsert(k) if k.state == DomainState::Running)
        );
        assert!(
            matches!(apply(&mut known, &event(EventType::Undefined)), Change::Upsert(k) if !k.persistent)
        );
        assert_eq!(
            apply(&mut known, &event(EventType::Stopped)),
            Change::Remove("u".into())
        );
        assert!(known.is_empty());
    }
}
