//! The service: one line per RPC, dispatching to the handlers.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::last_good::LastGood;
use crate::grpc::{
    DomainApi,
    pb::{self, stats_service_server::StatsService},
};

/// Serves `StatsService`, through the domain service's one entry to libvirt.
#[derive(Debug, Clone)]
pub struct StatsApi {
    pub(super) domains: DomainApi,
    pub(super) last_good: Arc<LastGood>,
}

impl StatsApi {
    pub fn new(domains: DomainApi) -> Self {
        StatsApi {
            domains,
            last_good: Arc::new(LastGood::default()),
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl StatsService for StatsApi {
    async fn get_domain_stats(
        &self,
        request: Request<pb::GetDomainStatsRequest>,
    ) -> Reply<pb::DomainStats> {
        self.get(request.into_inner()).await.map(Response::new)
    }

    async fn list_domain_stats(
        &self,
        request: Request<pb::ListDomainStatsRequest>,
    ) -> Reply<pb::ListDomainStatsResponse> {
        self.list(request.into_inner()).await.map(Response::new)
    }
}
