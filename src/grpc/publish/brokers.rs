//! The configured brokers, URLs with the password hidden, and their pools.

use tonic::{Request, Response, Status};

use super::PublishApi;
use crate::grpc::{convert::pool_from_stats, pb};

impl PublishApi {
    pub(super) async fn brokers(
        &self,
        request: Request<pb::ListBrokersRequest>,
    ) -> Result<Response<pb::ListBrokersResponse>, Status> {
        let pb::ListBrokersRequest {} = request.into_inner();
        let brokers = self
            .publisher
            .brokers()
            .into_iter()
            .map(|b| pb::Broker {
                name: b.name,
                url: b.url,
                pool: b.pool.map(pool_from_stats),
            })
            .collect();
        Ok(Response::new(pb::ListBrokersResponse { brokers }))
    }
}
