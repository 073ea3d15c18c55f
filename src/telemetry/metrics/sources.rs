//! Everything a scrape reads from its owner at scrape time: libvirt, the domains, the host,
//! lifecycle events, the outbox and the pools.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{Arc, atomic::Ordering},
};

use tracing::debug;

use super::{
    DomainSeries, RpcMetrics,
    pools::render_pools,
    text::{counter, escape, gauge, header},
};
use crate::{
    amqp::Publisher,
    events::EventStats,
    host::{HeartbeatStats, HostController},
    http::HttpPools,
    hypervisor::Hypervisor,
    pool::PoolStats,
    store::Store,
};

/// Everything a scrape reads.
#[derive(Debug, Clone)]
pub struct MetricsSources {
    pub rpc: Arc<RpcMetrics>,
    pub hypervisor: Arc<Hypervisor>,
    pub host: Arc<HostController>,
    pub heartbeats: Arc<HeartbeatStats>,
    pub events: Arc<EventStats>,
    pub store: Store,
    /// Every outbox sink configured, so an empty backlog still shows as 0.
    pub sinks: Vec<String>,
    pub publisher: Arc<Publisher>,
    pub http: Arc<HttpPools>,
    /// Per-domain series from the bulk stats API.
    pub domains: Arc<DomainSeries>,
}

impl MetricsSources {
    /// The exposition text.
    pub async fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        self.rpc.render(&mut out);
        self.render_libvirt(&mut out);
        self.domains.render(&mut out).await;
        self.render_host_and_events(&mut out).await;
        self.render_backlog(&mut out).await;
        let pools: Vec<PoolStats> = self
            .publisher
            .pool_stats()
            .into_iter()
            .chain(self.http.stats())
            .collect();
        render_pools(&mut out, &pools);
        out
    }

    fn render_libvirt(&self, out: &mut String) {
        let status = self.hypervisor.status();
        gauge(
            out,
            "virtplane_libvirt_connected",
            "1 while the libvirt connection is alive.",
            u64::from(status.connected),
        );
        counter(
            out,
            "virtplane_libvirt_connect_attempts_total",
            "libvirt connect attempts.",
            status.connect_attempts,
        );
        counter(
            out,
            "virtplane_libvirt_connect_failures_total",
            "libvirt connect attempts that failed.",
            status.connect_failures,
        );
        counter(
            out,
            "virtplane_libvirt_reconnects_total",
            "Successful connects after the first.",
            status.reconnects,
        );
    }

    async fn render_host_and_events(&self, out: &mut String) {
        match self.host.record().await {
            Ok(record) => gauge(
                out,
                "virtplane_host_enabled",
                "1 while the host accepts new domains.",
                u64::from(record.enabled),
            ),
            Err(e) => debug!(error = %e, "host state not available for metrics"),
        }
        counter(
            out,
            "virtplane_heartbeats_total",
            "Heartbeats stored in the host's row (host.heartbeat_interval_s).",
            self.heartbeats.stored.load(Ordering::Relaxed),
        );
        counter(
            out,
            "virtplane_heartbeat_failures_total",
            "Heartbeats the database refused or did not answer; other agents report the \
             host down once its last stored heartbeat is older than host.down_after_s.",
            self.heartbeats.failed.load(Ordering::Relaxed),
        );
        counter(
            out,
            "virtplane_lifecycle_events_recorded_total",
            "Lifecycle events stored (observed and synthetic).",
            self.events.recorded.load(Ordering::Relaxed),
        );
        counter(
            out,
            "virtplane_lifecycle_event_resyncs_total",
            "Event queue overflows that forced a reconciliation.",
            self.events.resyncs.load(Ordering::Relaxed),
        );
    }

    async fn render_backlog(&self, out: &mut String) {
        let mut backlog: BTreeMap<String, i64> =
            self.sinks.iter().map(|s| (s.clone(), 0)).collect();
        match self.store.outbox_backlog(self.host.hostname()).await {
            Ok(rows) => backlog.extend(rows),
            Err(e) => debug!(error = %e, "outbox backlog not available for metrics"),
        }
        header(
            out,
            "virtplane_outbox_backlog",
            "gauge",
            "Notifications waiting for delivery, by sink.",
        );
        for (sink, waiting) in backlog {
            let _ = writeln!(
                out,
                "virtplane_outbox_backlog{{sink=\"{}\"}} {waiting}",
                escape(&sink)
            );
        }
    }
}
