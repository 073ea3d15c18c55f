//! A watch of another host's events hears of that host's commits from PostgreSQL
//! (LISTEN/NOTIFY) instead of waiting for its interval, whether the batch rides in the
//! announcement or is too large to, and keeps hearing after its listening session is
//! lost.

use std::{collections::BTreeMap, time::Duration};

use sqlx::{Connection, PgConnection, Row};
use virtplane::{
    grpc::pb,
    model::{EventType, NewEvent},
    secret::Secret,
    store::{KnownChanges, Settings, Store},
};

use tonic::Streaming;

use super::{events::next_events, shared::Fleet};
use crate::support::{TestApp, eventually, unique_name};

/// Longer than any wait here (30 s): an event seen sooner came through an announcement.
const MINUTE_MS: u64 = 60_000;

/// The pids of the sessions listening for commits on this database.
async fn listening_sessions(admin: &mut PgConnection) -> Vec<i32> {
    sqlx::query(
        "SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    )
    .fetch_all(admin)
    .await
    .expect("pg_stat_activity")
    .iter()
    .map(|row| row.get::<i32, _>(0))
    .collect()
}

/// Waits for the watching agent's listening session: its first connection wakes
/// every watcher to read, which must not be what delivers an event under test.
async fn listening(url: &str) {
    eventually(Duration::from_secs(30), "a listening session", || async {
        let mut admin = PgConnection::connect(url).await.expect("admin");
        !listening_sessions(&mut admin).await.is_empty()
    })
    .await;
}

/// `app`'s watch of `domain`'s events on `hostname`, from the first stored.
async fn watch_domain(
    app: &TestApp,
    hostname: &str,
    domain: &str,
) -> Streaming<pb::LifecycleEvent> {
    app.host
        .clone()
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            hostname: hostname.to_owned(),
            domain: domain.to_owned(),
            after_id: Some(0),
        })
        .await
        .expect("WatchLifecycleEvents")
        .into_inner()
}

fn kinds(events: &[pb::LifecycleEvent]) -> Vec<i32> {
    events.iter().map(|e| e.r#type).collect()
}

#[tokio::test]
async fn another_hosts_commits_reach_its_watcher_without_waiting_for_the_interval() {
    // Arrange: the watching agent reads the database on its own only every minute.
    let fleet = Fleet::create(true).await;
    let (a, b) = (unique_name("hv-a"), unique_name("hv-b"));
    let mut first = fleet.spawn(&a, 60, "").await;
    let second = fleet.spawn_watching_every(&b, 60, "", MINUTE_MS).await;
    let domain = unique_name("announced-vm");
    let mut live = watch_domain(&second, &a, &domain).await;
    listening(&fleet.db.url).await;
    first.define(&domain).await;
    let defined = next_events(&mut live, 1).await;
    assert_eq!(
        kinds(&defined),
        [i32::from(pb::LifecycleEventType::Defined)]
    );

    // Act: the first agent starts the domain.
    first.start(&domain).await;

    // Assert: the watcher has it long before its next read on the timer.
    let started = next_events(&mut live, 1).await;
    assert_eq!(started[0].hostname, a);
    assert_eq!(
        kinds(&started),
        [i32::from(pb::LifecycleEventType::Started)]
    );
    assert!(started[0].id > defined[0].id);

    first.stop().await;
    second.stop().await;
    fleet.drop_database().await;
}

#[tokio::test]
async fn a_lost_listening_session_is_replaced_and_commits_keep_reaching_watchers() {
    // Arrange: a watcher of the first host, its listening session found.
    let fleet = Fleet::create(true).await;
    let (a, b) = (unique_name("hv-a"), unique_name("hv-b"));
    let mut first = fleet.spawn(&a, 60, "").await;
    let second = fleet.spawn_watching_every(&b, 60, "", MINUTE_MS).await;
    let domain = unique_name("relisten-vm");
    let mut live = watch_domain(&second, &a, &domain).await;
    listening(&fleet.db.url).await;
    first.define(&domain).await;
    next_events(&mut live, 1).await;
    let mut admin = PgConnection::connect(&fleet.db.url).await.expect("admin");
    let lost = listening_sessions(&mut admin).await;
    assert_eq!(lost.len(), 1, "one listening session per agent: {lost:?}");

    // Act: the session is terminated, as a database restart or a proxy would.
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(lost[0])
        .execute(&mut admin)
        .await
        .expect("terminate");
    let url = fleet.db.url.clone();
    eventually(Duration::from_secs(30), "a new listening session", || {
        let (url, lost) = (url.clone(), lost[0]);
        async move {
            let mut admin = PgConnection::connect(&url).await.expect("admin");
            let now = listening_sessions(&mut admin).await;
            !now.is_empty() && !now.contains(&lost)
        }
    })
    .await;
    first.start(&domain).await;

    // Assert: the commit after the new session reaches the watcher.
    let started = next_events(&mut live, 1).await;
    assert_eq!(
        kinds(&started),
        [i32::from(pb::LifecycleEventType::Started)]
    );

    first.stop().await;
    second.stop().await;
    fleet.drop_database().await;
}

/// `count` events of one domain, as a recorder elsewhere would commit them.
fn burst(count: usize) -> Vec<NewEvent> {
    (0..count)
        .map(|i| NewEvent {
            domain_uuid: "00000000-0000-0000-0000-00000000b0b0".into(),
            domain_name: "burst-vm".into(),
            kind: if i % 2 == 0 {
                EventType::Started
            } else {
                EventType::Stopped
            },
            detail: "booted".into(),
            synthetic: false,
            occurred_at_micros: 1_700_000_000_000_000 + i as i64,
        })
        .collect()
}

#[tokio::test]
async fn batches_too_large_to_announce_and_small_ones_after_them_arrive_whole_and_in_order() {
    // Arrange: a recorder of another host writing through the store, and a watcher of
    // that host on an agent that reads on its own only every minute.
    let fleet = Fleet::create(true).await;
    let (a, b) = (unique_name("hv-a"), unique_name("hv-b"));
    let recorder = Store::connect(&Settings {
        url: Secret::new(fleet.db.url.clone()),
        max_connections: 1,
    })
    .await
    .expect("store");
    recorder
        .register_host(&a, "test", &BTreeMap::new())
        .await
        .expect("host row");
    let second = fleet.spawn_watching_every(&b, 60, "", MINUTE_MS).await;
    let mut live = second
        .host
        .clone()
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            hostname: a.clone(),
            after_id: Some(0),
            ..pb::WatchLifecycleEventsRequest::default()
        })
        .await
        .expect("WatchLifecycleEvents")
        .into_inner();
    listening(&fleet.db.url).await;

    // Act: 300 events in one commit (past a notification's 8000 bytes), then two
    // small commits (carried in their announcements).
    let mut stored = Vec::new();
    for batch in [burst(300), burst(1), burst(2)] {
        stored.extend(
            recorder
                .record_events(&a, &batch, &KnownChanges::default(), &[])
                .await
                .expect("recorded"),
        );
    }

    // Assert: every event, once, in id order.
    let seen = next_events(&mut live, stored.len()).await;
    assert_eq!(
        seen.iter().map(|e| e.id).collect::<Vec<_>>(),
        stored.iter().map(|e| e.id).collect::<Vec<_>>()
    );

    recorder.close().await;
    second.stop().await;
    fleet.drop_database().await;
}
