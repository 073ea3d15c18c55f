//! A webhook's deliveries, newest first, paged and filtered by state.

use tonic::Status;

use super::WebhookApi;
use crate::{
    grpc::{convert::delivery_to_pb, paging::Paging, pb},
    model::InvalidArgument,
    store::DeliveryState,
};

impl WebhookApi {
    pub(super) async fn deliveries(
        &self,
        request: pb::ListWebhookDeliveriesRequest,
    ) -> Result<pb::ListWebhookDeliveriesResponse, Status> {
        let pb::ListWebhookDeliveriesRequest {
            webhook,
            state,
            page_size,
            page_token,
        } = request;
        let hook = self.hook(&webhook)?;
        let state = match pb::DeliveryState::try_from(state) {
            Ok(pb::DeliveryState::Unspecified) => None,
            Ok(pb::DeliveryState::Pending) => Some(DeliveryState::Pending),
            Ok(pb::DeliveryState::Delivered) => Some(DeliveryState::Delivered),
            Ok(pb::DeliveryState::Failed) => Some(DeliveryState::Failed),
            Err(_) => {
                return Err(Status::from(InvalidArgument::new(
                    "state",
                    format!("`state` {state} is not a delivery state"),
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
        Ok(pb::ListWebhookDeliveriesResponse {
            deliveries: deliveries.into_iter().map(delivery_to_pb).collect(),
            next_page_token,
        })
    }
}
