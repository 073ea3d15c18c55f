//! The service: one line per RPC, dispatching to the handlers.

use tonic::{Request, Response, Status};

use crate::{grpc::pb, grpc::status, model::InvalidArgument, store::Store, webhook};

/// Serves `WebhookService`.
#[derive(Debug, Clone)]
pub struct WebhookApi {
    pub(super) store: Store,
    pub(super) hostname: String,
    pub(super) hooks: Vec<webhook::Settings>,
}

impl WebhookApi {
    pub fn new(store: Store, hostname: String, hooks: Vec<webhook::Settings>) -> Self {
        WebhookApi {
            store,
            hostname,
            hooks,
        }
    }

    /// The configured webhook a request names.
    pub(super) fn hook(&self, name: &str) -> Result<&webhook::Settings, Status> {
        if name.is_empty() {
            return Err(Status::from(InvalidArgument::new(
                "webhook",
                "`webhook` is required",
            )));
        }
        self.hooks
            .iter()
            .find(|h| h.name == name)
            .ok_or_else(|| status::webhook_not_found(name))
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl pb::webhook_service_server::WebhookService for WebhookApi {
    async fn list_webhooks(
        &self,
        request: Request<pb::ListWebhooksRequest>,
    ) -> Reply<pb::ListWebhooksResponse> {
        self.webhooks(request.into_inner()).await.map(Response::new)
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<pb::ListWebhookDeliveriesRequest>,
    ) -> Reply<pb::ListWebhookDeliveriesResponse> {
        self.deliveries(request.into_inner())
            .await
            .map(Response::new)
    }
}
