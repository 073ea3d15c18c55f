//! `WatchHosts`: the fleet's hosts, then their changes, found by reading the hosts
//! table every `host.watch_interval_ms`.
//!
//! Polling rather than notifications: up/down is the absence of heartbeats, which no
//! writer announces, and one read of the primary key per interval costs the database
//! less than a heartbeat per host does.

use std::{collections::HashMap, pin::Pin, time::Duration};

use tokio::sync::mpsc;
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::Status;
use tracing::warn;

use super::HostApi;
use crate::{
    grpc::{convert, pb},
    store::{HostQuery, HostRecord, Store, StoreError, now_millis},
};

const STREAM_BUFFER: usize = 256;
const READ_CHUNK: usize = 1000;

/// The stream type of `WatchHosts`.
pub(crate) type HostStream = Pin<Box<dyn Stream<Item = Result<pb::HostChange, Status>> + Send>>;

/// What a change is: the states a watcher is told about when they change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    enabled: bool,
    up: bool,
    connected: bool,
}

impl HostApi {
    pub(super) fn watch_hosts(&self, request: pb::WatchHostsRequest) -> HostStream {
        let pb::WatchHostsRequest {} = request;
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let settings = self.host.settings();
        tokio::spawn(poll(
            self.store.clone(),
            settings.watch_interval,
            settings.down_after,
            tx,
        ));
        Box::pin(ReceiverStream::new(rx))
    }
}

async fn poll(
    store: Store,
    interval: Duration,
    down_after: Duration,
    tx: mpsc::Sender<Result<pb::HostChange, Status>>,
) {
    let mut seen: Option<HashMap<String, Seen>> = None;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = tx.closed() => return,
        }
        let hosts = match all_hosts(&store).await {
            Ok(hosts) => hosts,
            Err(e) if seen.is_none() => {
                let _ = tx.send(Err(Status::from(e))).await;
                return;
            }
            Err(e) => {
                // The watcher keeps its view; the next read tells it what changed.
                warn!(error = %e, "WatchHosts cannot read the hosts table; retrying");
                continue;
            }
        };
        let initial = seen.is_none();
        let previous = seen.get_or_insert_with(HashMap::new);
        let now = now_millis();
        for host in hosts {
            let state = Seen {
                enabled: host.enabled,
                up: host.is_up(now, down_after),
                connected: host.connected,
            };
            if previous.get(&host.hostname) == Some(&state) {
                continue;
            }
            previous.insert(host.hostname.clone(), state);
            let change = pb::HostChange {
                host: Some(convert::fleet_host(host, now, down_after)),
                initial,
            };
            if tx.send(Ok(change)).await.is_err() {
                return;
            }
        }
    }
}

/// Every host row, read by primary key in chunks.
async fn all_hosts(store: &Store) -> Result<Vec<HostRecord>, StoreError> {
    let mut hosts: Vec<HostRecord> = Vec::new();
    loop {
        let chunk = store
            .list_hosts(&HostQuery {
                after: hosts.last().map(|h| h.hostname.clone()),
                limit: READ_CHUNK,
                ..HostQuery::default()
            })
            .await?;
        let done = chunk.len() < READ_CHUNK;
        hosts.extend(chunk);
        if done {
            return Ok(hosts);
        }
    }
}
