//! A domain's labels: set and removed in one call.

use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::pb,
    hypervisor::UpdateDomainLabels,
    model::{DomainRef, InvalidArgument, labels},
};

impl DomainApi {
    pub(super) async fn update_labels(
        &self,
        request: pb::UpdateDomainLabelsRequest,
    ) -> Result<pb::Domain, Status> {
        let pb::UpdateDomainLabelsRequest {
            domain,
            set,
            remove,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        for (key, value) in &set {
            labels::check_key("set", key)?;
            labels::check_value("set", key, value)?;
        }
        for key in &remove {
            labels::check_key("remove", key)?;
            if set.contains_key(key) {
                return Err(InvalidArgument::new(
                    "remove",
                    format!("label {key:?} is both in `set` and in `remove`"),
                )
                .into());
            }
        }
        if set.is_empty() && remove.is_empty() {
            return Err(InvalidArgument::new(
                "set",
                "nothing to change: give labels in `set` or keys in `remove`",
            )
            .into());
        }
        Ok(self
            .written_summary(
                self.perform(UpdateDomainLabels {
                    domain,
                    set,
                    remove,
                })
                .await?,
            )
            .await)
    }
}
