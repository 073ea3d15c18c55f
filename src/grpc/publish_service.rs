//! `virtplane.v1.PublishService` and `virtplane.v1.PoolService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{
    deadline::answer_by,
    pb::{self, pool_service_server::PoolService, publish_service_server::PublishService},
};
use crate::{
    amqp::{Message, Publisher},
    pool::PoolStats,
};

/// Most messages accepted in one `PublishBatch`.
const MAX_BATCH: usize = 10_000;

/// Serves `PublishService`.
#[derive(Debug, Clone)]
pub struct PublishApi {
    publisher: Arc<Publisher>,
}

/// Serves `PoolService`.
#[derive(Debug, Clone)]
pub struct PoolApi {
    publisher: Arc<Publisher>,
    http: Arc<crate::http::HttpPools>,
}

impl PublishApi {
    pub fn new(publisher: Arc<Publisher>) -> Self {
        PublishApi { publisher }
    }
}

impl PoolApi {
    pub fn new(publisher: Arc<Publisher>, http: Arc<crate::http::HttpPools>) -> Self {
        PoolApi { publisher, http }
    }
}

#[tonic::async_trait]
impl PublishService for PublishApi {
    async fn publish(
        &self,
        request: Request<pb::PublishRequest>,
    ) -> Result<Response<pb::PublishResponse>, Status> {
        let deadline = answer_by(request.metadata());
        let request = request.into_inner();
        let pb::PublishRequest {
            broker,
            exchange,
            routing_key,
            body,
            headers,
            content_type,
            message_id,
            correlation_id,
            mandatory,
            transient,
        } = request;
        require_broker(&broker)?;
        let message = message_from_pb(pb::OutgoingMessage {
            exchange,
            routing_key,
            body,
            headers,
            content_type,
            message_id,
            correlation_id,
            mandatory,
            transient,
        });
        self.publisher.publish(&broker, &message, deadline).await?;
        Ok(Response::new(pb::PublishResponse {}))
    }

    async fn publish_batch(
        &self,
        request: Request<pb::PublishBatchRequest>,
    ) -> Result<Response<pb::PublishBatchResponse>, Status> {
        let deadline = answer_by(request.metadata());
        let pb::PublishBatchRequest { broker, messages } = request.into_inner();
        require_broker(&broker)?;
        if messages.is_empty() {
            return Err(Status::invalid_argument("`messages` is empty"));
        }
        if messages.len() > MAX_BATCH {
            return Err(Status::invalid_argument(format!(
                "`messages` holds {}; at most {MAX_BATCH} per batch",
                messages.len()
            )));
        }
        let messages: Vec<Message> = messages.into_iter().map(message_from_pb).collect();
        let results = self
            .publisher
            .publish_batch(&broker, &messages, deadline)
            .await?
            .into_iter()
            .map(|result| match result {
                Ok(()) => pb::PublishResult {
                    code: tonic::Code::Ok as i32,
                    error: String::new(),
                },
                Err(e) => {
                    let status = Status::from(e);
                    pb::PublishResult {
                        code: status.code() as i32,
                        error: status.message().to_owned(),
                    }
                }
            })
            .collect();
        Ok(Response::new(pb::PublishBatchResponse { results }))
    }

    async fn list_brokers(
        &self,
        request: Request<pb::ListBrokersRequest>,
    ) -> Result<Response<pb::ListBrokersResponse>, Status> {
        let pb::ListBrokersRequest {} = request.into_inner();
        let brokers = self
            .publisher
            .brokers()
            .into_iter()
            .map(|b| pb::Broker {
                name: b.name,
                url: b.url,
                pool: b.pool.map(pool_from_stats),
            })
            .collect();
        Ok(Response::new(pb::ListBrokersResponse { brokers }))
    }
}

#[tonic::async_trait]
impl PoolService for PoolApi {
    async fn list_pools(
        &self,
        request: Request<pb::ListPoolsRequest>,
    ) -> Result<Response<pb::ListPoolsResponse>, Status> {
        let pb::ListPoolsRequest {} = request.into_inner();
        let pools = self
            .publisher
            .pool_stats()
            .into_iter()
            .chain(self.http.stats())
            .map(pool_from_stats)
            .collect();
        Ok(Response::new(pb::ListPoolsResponse { pools }))
    }
}

fn message_from_pb(message: pb::OutgoingMessage) -> Message {
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

fn pool_from_stats(stats: PoolStats) -> pb::Pool {
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

/// A broker is named by the client; an empty name is a missing field, not an
/// unknown broker.
fn require_broker(broker: &str) -> Result<(), Status> {
    if broker.is_empty() {
        return Err(Status::invalid_argument(
            "`broker` is required: name one of the configured brokers (ListBrokers lists them)",
        ));
    }
    Ok(())
}
