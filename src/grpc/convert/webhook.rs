//! Webhook deliveries as the API shows them.

use super::timestamp_from_micros;
use crate::{
    grpc::pb,
    store::{Delivery, DeliveryState},
};

pub(crate) fn delivery_to_pb(delivery: Delivery) -> pb::WebhookDelivery {
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
