//! A recorder's batch on a shared PostgreSQL: written as one statement when nothing
//! else goes with it, in a transaction when outbox notifications do; both store the
//! same events and known states.

use std::collections::BTreeMap;

use virtplane::{
    model::{DomainState, EventType, KnownDomain, NewEvent},
    secret::Secret,
    store::{KnownChanges, Outbox, Settings, Store},
};

use super::shared::Fleet;
use crate::support::unique_name;

fn event(uuid: &str, kind: EventType) -> NewEvent {
    NewEvent {
        domain_uuid: uuid.into(),
        domain_name: format!("vm-{}", &uuid[uuid.len() - 2..]),
        kind,
        detail: "booted".into(),
        synthetic: false,
        occurred_at_micros: 1_700_000_000_000_000,
    }
}

fn known(uuid: &str, state: DomainState) -> KnownDomain {
    KnownDomain {
        uuid: uuid.into(),
        name: format!("vm-{}", &uuid[uuid.len() - 2..]),
        state,
        persistent: true,
    }
}

const A: &str = "00000000-0000-0000-0000-0000000000a1";
const B: &str = "00000000-0000-0000-0000-0000000000b2";

/// Records three batches for a fresh host: A and B start, B stops and is
/// undefined, A is paused. `outboxes` go with every batch.
async fn record_story(store: &Store, hostname: &str, outboxes: &[Outbox]) -> Vec<i64> {
    store
        .register_host(hostname, "test", &BTreeMap::new())
        .await
        .expect("host row");
    let batches = [
        (
            vec![event(A, EventType::Started), event(B, EventType::Started)],
            KnownChanges {
                upserts: vec![
                    known(A, DomainState::Running),
                    known(B, DomainState::Running),
                ],
                removals: vec![],
            },
        ),
        (
            vec![event(B, EventType::Stopped), event(B, EventType::Undefined)],
            KnownChanges {
                upserts: vec![],
                removals: vec![B.into()],
            },
        ),
        (
            vec![event(A, EventType::Suspended)],
            KnownChanges {
                upserts: vec![known(A, DomainState::Paused)],
                removals: vec![],
            },
        ),
    ];
    let mut ids = Vec::new();
    for (events, changes) in &batches {
        let recorded = store
            .record_events(hostname, events, changes, outboxes)
            .await
            .expect("recorded");
        assert_eq!(recorded.len(), events.len());
        ids.extend(recorded.iter().map(|e| e.id));
    }
    ids
}

#[tokio::test]
async fn batches_with_and_without_notifications_store_the_same_events_and_states() {
    let fleet = Fleet::create(true).await;
    let store = Store::connect(&Settings {
        url: Secret::new(fleet.db.url.clone()),
        max_connections: 1,
    })
    .await
    .expect("store");
    let (plain, notified) = (unique_name("hv-plain"), unique_name("hv-notified"));
    let outbox = Outbox::new("amqp", None);

    let plain_ids = record_story(&store, &plain, &[]).await;
    let notified_ids = record_story(&store, &notified, std::slice::from_ref(&outbox)).await;

    for (hostname, ids) in [(&plain, &plain_ids), (&notified, &notified_ids)] {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{hostname}: {ids:?}");
        assert_eq!(
            store.known_domains(hostname).await.expect("known"),
            [known(A, DomainState::Paused)],
            "{hostname}"
        );
    }
    assert_eq!(
        store.outbox_backlog(&plain).await.expect("backlog"),
        Vec::<(String, i64)>::new(),
        "no notifications without an outbox"
    );
    assert_eq!(
        store.outbox_backlog(&notified).await.expect("backlog"),
        [("amqp".to_owned(), 5)],
        "one notification per event"
    );

    store.close().await;
    fleet.drop_database().await;
}
