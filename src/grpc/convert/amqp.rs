//! Messages to publish and pool statistics, from and to the API.

use crate::{amqp::Message, grpc::pb, pool::PoolStats};

pub(crate) fn message_from_pb(message: pb::OutgoingMessage) -> Message {
    let pb::OutgoingMessage {
        exchange,
        routing_key,
        body,
        headers,
        content_type,
        message_id,
        correlation_id,
        mandatory,
        transient,
    } = message;
    Message {
        exchange,
        routing_key,
        body,
        headers: headers.into_iter().collect(),
        content_type,
        message_id,
        correlation_id,
        mandatory,
        transient,
    }
}

pub(crate) fn pool_from_stats(stats: PoolStats) -> pb::Pool {
    let PoolStats {
        kind,
        key,
        max_size,
        size,
        idle,
        in_use,
        waiters,
        opened,
        discarded,
        requests,
    } = stats;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    pb::Pool {
        kind: kind.to_owned(),
        key,
        max_size: count(max_size),
        size: count(size),
        idle: count(idle),
        in_use: count(in_use),
        waiters: count(waiters),
        opened,
        discarded,
        requests,
    }
}
