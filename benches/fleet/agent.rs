//! One simulated agent: its events, its recorder's commits and its heartbeats.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::Notify;
use virtplane::{
    hypervisor::now_micros,
    model::{DomainState, EventType, KnownDomain, NewEvent},
    store::{Heartbeat, KnownChanges, Store},
};

use crate::{HEARTBEAT, Load, Measured, RATE_PER_HOST};

/// One agent: a producer queueing events as libvirt's callback would, a recorder
/// committing whatever is queued, and a heartbeat.
pub(crate) async fn agent(
    store: Store,
    hostname: String,
    load: Load,
    deadline: Instant,
) -> Measured {
    let queue: Arc<Mutex<Vec<(Instant, NewEvent)>>> = Arc::default();
    let wake = Arc::new(Notify::new());
    let producer = tokio::spawn(produce(
        Arc::clone(&queue),
        Arc::clone(&wake),
        load,
        deadline,
    ));
    let beats = tokio::spawn(heartbeats(store.clone(), hostname.clone(), deadline));
    let mut measured = Measured::default();
    loop {
        let batch = std::mem::take(&mut *queue.lock().expect("queue"));
        if batch.is_empty() {
            if Instant::now() >= deadline && producer.is_finished() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), wake.notified()).await;
            continue;
        }
        let events: Vec<NewEvent> = batch.iter().map(|(_, e)| e.clone()).collect();
        store
            .record_events(&hostname, &events, &known_changes(&events), &[])
            .await
            .expect("recorded");
        let committed = Instant::now();
        measured.persisted += batch.len();
        measured
            .to_commit
            .extend(batch.iter().map(|(created, _)| committed - *created));
    }
    measured.failed_beats = beats.await.expect("heartbeats");
    measured
}

pub(crate) async fn produce(
    queue: Arc<Mutex<Vec<(Instant, NewEvent)>>>,
    wake: Arc<Notify>,
    load: Load,
    deadline: Instant,
) {
    // Hosts start at random phases, and burst at their own, as real ones do.
    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..1000))).await;
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE_PER_HOST));
    let burst_phase = fastrand::u64(0..load.burst_every.as_millis() as u64);
    let mut next_burst = Instant::now() + Duration::from_millis(burst_phase);
    let mut n = 0_u64;
    while Instant::now() < deadline {
        tick.tick().await;
        let count = if Instant::now() >= next_burst {
            next_burst += load.burst_every;
            load.burst
        } else {
            1
        };
        let mut queued = queue.lock().expect("queue");
        for _ in 0..count {
            n += 1;
            queued.push((Instant::now(), event(n)));
        }
        drop(queued);
        wake.notify_one();
    }
}

/// The known states a recorder stores with its batch: each domain's last.
pub(crate) fn known_changes(events: &[NewEvent]) -> KnownChanges {
    let mut last: BTreeMap<&str, &NewEvent> = BTreeMap::new();
    for e in events {
        last.insert(&e.domain_uuid, e);
    }
    KnownChanges {
        upserts: last
            .values()
            .map(|e| KnownDomain {
                uuid: e.domain_uuid.clone(),
                name: e.domain_name.clone(),
                state: if e.kind == EventType::Started {
                    DomainState::Running
                } else {
                    DomainState::Shutoff
                },
                persistent: true,
            })
            .collect(),
        removals: Vec::new(),
    }
}

pub(crate) fn event(n: u64) -> NewEvent {
    NewEvent {
        domain_uuid: format!("00000000-0000-0000-0000-{:012}", n % 50),
        domain_name: format!("vm-{}", n % 50),
        kind: if n.is_multiple_of(2) {
            EventType::Started
        } else {
            EventType::Stopped
        },
        detail: "booted".into(),
        synthetic: false,
        occurred_at_micros: now_micros(),
    }
}

pub(crate) async fn heartbeats(store: Store, hostname: String, deadline: Instant) -> usize {
    let mut tick = tokio::time::interval(HEARTBEAT);
    let mut failed = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        let beat = Heartbeat {
            connected: true,
            libvirt_version: "10.0.0".into(),
            ..Heartbeat::default()
        };
        if store.heartbeat(&hostname, &beat).await.is_err() {
            failed += 1;
        }
    }
    failed
}
