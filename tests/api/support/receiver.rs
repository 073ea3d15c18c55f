//! A webhook receiver's view of what the service posted: headers, JSON bodies,
//! signatures checked with nothing but the shared secret, and deliveries over gRPC.

use ring::hmac;
use tonic::transport::Channel;
use virtplane::grpc::pb::{self, webhook_service_client::WebhookServiceClient};

use super::{Webhook, http_server::Received, http_server::TestHttpServer};

/// The secret the `audit` webhook signs with.
pub const SECRET: &str = "webhook-signing-secret";

/// The `audit` webhook to `server`, with a secret in its query and short retries.
pub fn audit_webhook(server: &TestHttpServer) -> Webhook {
    Webhook::new("audit", server.url("/hooks/lifecycle?token=query-secret"))
        .secret(SECRET)
        .retry_initial_ms(50)
        .retry_max_ms(300)
        .timeout_ms(2000)
}

pub fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("header {name} missing"))
}

pub fn body_json(received: &Received) -> serde_json::Value {
    serde_json::from_slice(&received.body).expect("JSON body")
}

/// The receiver's view after deduplicating by (host, event id): first copies, in
/// arrival order.
pub fn deduplicated(received: &[Received]) -> Vec<serde_json::Value> {
    let mut seen = std::collections::HashSet::new();
    received
        .iter()
        .filter(|r| {
            seen.insert((
                header(r, "x-virtplane-host").to_owned(),
                header(r, "x-virtplane-event-id").to_owned(),
            ))
        })
        .map(body_json)
        .collect()
}

/// Every delivery of `webhook` (in `state`), newest first.
pub async fn deliveries(
    hooks: &mut WebhookServiceClient<Channel>,
    webhook: &str,
    state: Option<pb::DeliveryState>,
) -> Vec<pb::WebhookDelivery> {
    hooks
        .list_webhook_deliveries(pb::ListWebhookDeliveriesRequest {
            webhook: webhook.into(),
            state: state.map_or(0, i32::from),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("deliveries")
        .into_inner()
        .deliveries
}

/// Whether a delivery's signature verifies under `secret`, as a receiver checks it.
pub fn signed_with(delivery: &Received, secret: &str) -> bool {
    let timestamp = header(delivery, "x-virtplane-timestamp");
    let Some(hex) = header(delivery, "x-virtplane-signature").strip_prefix("sha256=") else {
        return false;
    };
    let tag: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(&delivery.body);
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::verify(&key, &signed, &tag).is_ok()
}
