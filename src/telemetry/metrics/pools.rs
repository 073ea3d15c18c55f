//! Every AMQP and HTTP pool's gauges and counters, by kind and redacted key.

use std::fmt::Write as _;

use super::text::{escape, header};
use crate::pool::PoolStats;

pub(super) fn render_pools(out: &mut String, pools: &[PoolStats]) {
    type Field = fn(&PoolStats) -> u64;
    let gauges: [(&str, &str, Field); 5] = [
        (
            "virtplane_pool_max_size",
            "Connections a pool allows.",
            |p| p.max_size as u64,
        ),
        ("virtplane_pool_connections", "Connections open.", |p| {
            p.size as u64
        }),
        (
            "virtplane_pool_idle_connections",
            "Connections open and idle.",
            |p| p.idle as u64,
        ),
        (
            "virtplane_pool_in_use_connections",
            "Connections checked out.",
            |p| p.in_use as u64,
        ),
        (
            "virtplane_pool_waiters",
            "Callers waiting for a connection.",
            |p| p.waiters as u64,
        ),
    ];
    let counters: [(&str, &str, Field); 3] = [
        (
            "virtplane_pool_connections_opened_total",
            "Connections opened.",
            |p| p.opened,
        ),
        (
            "virtplane_pool_connections_discarded_total",
            "Connections closed as broken, dropped by the peer or beyond a full pool.",
            |p| p.discarded,
        ),
        ("virtplane_pool_requests_total", "Checkouts served.", |p| {
            p.requests
        }),
    ];
    for (kind, list) in [("gauge", &gauges[..]), ("counter", &counters[..])] {
        for (name, help, field) in list {
            header(out, name, kind, help);
            for pool in pools {
                let _ = writeln!(
                    out,
                    "{name}{{kind=\"{}\",pool=\"{}\"}} {}",
                    pool.kind,
                    escape(&pool.key),
                    field(pool)
                );
            }
        }
    }
}
