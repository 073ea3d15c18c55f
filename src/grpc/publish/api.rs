//! The service: one line per RPC, dispatching to the handlers.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::{
    amqp::Publisher,
    grpc::pb::{self, publish_service_server::PublishService},
};

/// Serves `PublishService`.
#[derive(Debug, Clone)]
pub struct PublishApi {
    pub(super) publisher: Arc<Publisher>,
}

impl PublishApi {
    pub fn new(publisher: Arc<Publisher>) -> Self {
        PublishApi { publisher }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl PublishService for PublishApi {
    async fn publish(&self, request: Request<pb::PublishRequest>) -> Reply<pb::PublishResponse> {
        self.send_one(request).await
    }

    async fn publish_batch(
        &self,
        request: Request<pb::PublishBatchRequest>,
    ) -> Reply<pb::PublishBatchResponse> {
        self.send_batch(request).await
    }

    async fn list_brokers(
        &self,
        request: Request<pb::ListBrokersRequest>,
    ) -> Reply<pb::ListBrokersResponse> {
        self.brokers(request).await
    }
}
