//! The configured webhooks, their URLs without the query, and their delivery counts.

use tonic::Status;

use super::WebhookApi;
use crate::grpc::pb;

impl WebhookApi {
    pub(super) async fn webhooks(
        &self,
        request: pb::ListWebhooksRequest,
    ) -> Result<pb::ListWebhooksResponse, Status> {
        let pb::ListWebhooksRequest {} = request;
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
        Ok(pb::ListWebhooksResponse { webhooks })
    }
}
