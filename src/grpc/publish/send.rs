//! Publishing one message or a batch, each within one deadline.

use tokio::time::Instant;
use tonic::Status;

use super::PublishApi;
use crate::{
    amqp::Message,
    grpc::status,
    grpc::{convert::message_from_pb, pb},
    model::InvalidArgument,
};

/// Most messages accepted in one `PublishBatch`.
const MAX_BATCH: usize = 10_000;

impl PublishApi {
    pub(super) async fn send_one(
        &self,
        request: pb::PublishRequest,
        deadline: Option<Instant>,
    ) -> Result<pb::PublishResponse, Status> {
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
            request_id: _,
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
        self.publisher
            .publish(&broker, &message, deadline)
            .await
            .map_err(|e| status::publish_failure(e, &broker))?;
        Ok(pb::PublishResponse {})
    }

    pub(super) async fn send_batch(
        &self,
        request: pb::PublishBatchRequest,
        deadline: Option<Instant>,
    ) -> Result<pb::PublishBatchResponse, Status> {
        let pb::PublishBatchRequest {
            broker,
            messages,
            request_id: _,
        } = request;
        require_broker(&broker)?;
        if messages.is_empty() {
            return Err(Status::from(InvalidArgument::new(
                "messages",
                "`messages` is empty",
            )));
        }
        if messages.len() > MAX_BATCH {
            return Err(Status::from(InvalidArgument::new(
                "messages",
                format!(
                    "`messages` holds {}; at most {MAX_BATCH} per batch",
                    messages.len()
                ),
            )));
        }
        let messages: Vec<Message> = messages.into_iter().map(message_from_pb).collect();
        let results = self
            .publisher
            .publish_batch(&broker, &messages, deadline)
            .await
            .map_err(|e| status::publish_failure(e, &broker))?
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
        Ok(pb::PublishBatchResponse { results })
    }
}

/// A broker is named by the client; an empty name is a missing field, not an
/// unknown broker.
fn require_broker(broker: &str) -> Result<(), Status> {
    if broker.is_empty() {
        return Err(Status::from(InvalidArgument::new(
            "broker",
            "`broker` is required: name one of the configured brokers (ListBrokers lists them)",
        )));
    }
    Ok(())
}
