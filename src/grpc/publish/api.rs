//! The service: one line per RPC, dispatching to the handlers.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::{
    amqp::Publisher,
    grpc::{
        Requests,
        deadline::answer_by,
        pb::{self, publish_service_server::PublishService},
        retry_safe::{method, once},
    },
};

/// Serves `PublishService`.
#[derive(Debug, Clone)]
pub struct PublishApi {
    pub(super) publisher: Arc<Publisher>,
    requests: Requests,
}

impl PublishApi {
    pub fn new(publisher: Arc<Publisher>, requests: Requests) -> Self {
        PublishApi {
            publisher,
            requests,
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl PublishService for PublishApi {
    async fn publish(&self, request: Request<pb::PublishRequest>) -> Reply<pb::PublishResponse> {
        let deadline = answer_by(request.metadata());
        once(
            &self.requests,
            self.clone(),
            method!("PublishService", "Publish"),
            request.into_inner(),
            move |api, request| async move { api.send_one(request, deadline).await },
        )
        .await
        .map(Response::new)
    }

    async fn publish_batch(
        &self,
        request: Request<pb::PublishBatchRequest>,
    ) -> Reply<pb::PublishBatchResponse> {
        let deadline = answer_by(request.metadata());
        once(
            &self.requests,
            self.clone(),
            method!("PublishService", "PublishBatch"),
            request.into_inner(),
            move |api, request| async move { api.send_batch(request, deadline).await },
        )
        .await
        .map(Response::new)
    }

    async fn list_brokers(
        &self,
        request: Request<pb::ListBrokersRequest>,
    ) -> Reply<pb::ListBrokersResponse> {
        self.brokers(request).await
    }
}
