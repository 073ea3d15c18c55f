//! `virtplane.v1.WebhookService`: the service's dispatch, the configured webhooks and
//! what became of their deliveries.

mod api;
mod deliveries;
mod webhooks;

pub use api::WebhookApi;
