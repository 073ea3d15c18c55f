//! WebhookService: the configured webhooks and what became of their deliveries.

use tonic::{Request, Response, Status};

use super::{convert::timestamp_from_micros, paging::Paging, pb};
use crate::{
    store::{Delivery, DeliveryState, Store},
    webhook,
};

#[derive(Debug, Clone)]
pub struct WebhookApi {
    store: Store,
    hostname: String,
    hooks: Vec<webhook::Settings>,
}

impl WebhookApi {
    pub fn new(store: Store, hostname: String, hooks: Vec<webhook::Settings>) -> Self {
        WebhookApi {
            store,
            hostname,
            hooks,
        }
    }

    fn hook(&self, name: &str) -> Result<&webhook::Settings, Status> {
        if name.is_empty() {
            return Err(Status::invalid_argument("`webhook` is required"));
        }
        self.hooks.iter().find(|h| h.name == name).ok_or_else(|| {
            Status::not_found(format!("webhook {name:?} is not configured on this host"))
        })
    }
}

#[tonic::async_trait]
impl pb::webhook_service_server::WebhookService for WebhookApi {
    async fn list_webhooks(
        &self,
        request: Request<pb::ListWebhooksRequest>,
    ) -> Result<Response<pb::ListWebhooksResponse>, Status> {
        let pb::ListWebhooksRequest {} = request.into_inner();
        let mut webhooks = Vec::with_capacity(self.hooks.len());
        for hook in &self.hooks {
            let counts = self
                .store
                .delivery_counts(&self.hostname, &hook.sink())
                .await?;
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            webhooks.push(pb::Webhook {
                name: hook.name.clone(),
                url: hook.redacted_url(),
                types: hook
                    .types
                    .iter()
                    .flatten()
                    .map(|t| t.key().to_owned())
                    .collect(),
                idempotent: hook.idempotent,
                pool: hook.key.to_string(),
                pending: count(counts.pending),
                delivered: count(counts.delivered),
                failed: count(counts.failed),
            });
        }
        Ok(Response::new(pb::ListWebhooksResponse { webhooks }))
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<pb::ListWebhookDeliveriesRequest>,
    ) -> Result<Response<pb::ListWebhookDeliveriesResponse>, Status> {
        let pb::ListWebhookDeliveriesRequest {
            webhook,
            state,
            page_size,
            page_token,
        } = request.into_inner();
        let hook = self.hook(&webhook)?;
        let state = match pb::DeliveryState::try_from(state) {
            Ok(pb::DeliveryState::Unspecified) => None,
            Ok(pb::DeliveryState::Pending) => Some(DeliveryState::Pending),
            Ok(pb::DeliveryState::Delivered) => Some(DeliveryState::Delivered),
            Ok(pb::DeliveryState::Failed) => Some(DeliveryState::Failed),
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "`state` {state} is not a delivery state"
                )));
            }
        };
        let paging = Paging::parse(page_size, &page_token, format!("{webhook}|{state:?}"))?;
        let before = paging.after_id()?;
        let mut deliveries = self
            .store
            .deliveries(&self.hostname, &hook.sink(), state, before, paging.fetch())
            .await?;
        let next_page_token = paging.finish(&mut deliveries, |d| d.id.to_string());
        Ok(Response::new(pb::ListWebhookDeliveriesResponse {
            deliveries: deliveries.into_iter().map(delivery_to_pb).collect(),
            next_page_token,
        }))
    }
}

fn delivery_to_pb(delivery: Delivery) -> pb::WebhookDelivery {
    #[derive(serde::Deserialize, Default)]
    struct Head {
        id: i64,
        domain_name: String,
    }
    let head: Head = serde_json::from_str(&delivery.payload).unwrap_or_default();
    pb::WebhookDelivery {
        id: delivery.id,
        event_id: head.id,
        event_type: delivery.routing_key,
        domain_name: head.domain_name,
        state: match delivery.state {
            DeliveryState::Pending => pb::DeliveryState::Pending,
            DeliveryState::Delivered => pb::DeliveryState::Delivered,
            DeliveryState::Failed => pb::DeliveryState::Failed,
        }
        .into(),
        attempts: u32::try_from(delivery.attempts).unwrap_or(u32::MAX),
        last_status_code: delivery.last_status.map_or(0, u32::from),
        last_error: if delivery.state == DeliveryState::Delivered {
            String::new()
        } else {
            delivery.last_error.unwrap_or_default()
        },
        created_at: Some(timestamp_from_micros(delivery.created_at_millis * 1000)),
        finished_at: delivery
            .finished_at_millis
            .map(|ms| timestamp_from_micros(ms * 1000)),
    }
}
