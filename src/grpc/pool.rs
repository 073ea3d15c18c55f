//! `virtplane.v1.PoolService`: every AMQP and HTTP pool, as one list.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{
    convert::pool_from_stats,
    pb::{self, pool_service_server::PoolService},
};
use crate::{amqp::Publisher, http::HttpPools};

/// Serves `PoolService`.
#[derive(Debug, Clone)]
pub struct PoolApi {
    publisher: Arc<Publisher>,
    http: Arc<HttpPools>,
}

impl PoolApi {
    pub fn new(publisher: Arc<Publisher>, http: Arc<HttpPools>) -> Self {
        PoolApi { publisher, http }
    }
}

#[tonic::async_trait]
impl PoolService for PoolApi {
    async fn list_pools(
        &self,
        request: Request<pb::ListPoolsRequest>,
    ) -> Result<Response<pb::ListPoolsResponse>, Status> {
        let pb::ListPoolsRequest {} = request.into_inner();
        let pools = self
            .publisher
            .pool_stats()
            .into_iter()
            .chain(self.http.stats())
            .map(pool_from_stats)
            .collect();
        Ok(Response::new(pb::ListPoolsResponse { pools }))
    }
}
