//! `virtplanectl brokers`, `pools` and `publish`: AMQP brokers, connection pools, and
//! publishing a message.

use std::path::PathBuf;

use clap::Subcommand;

use super::{
    connect::Ctx,
    error::CliError,
    input::{key_value, read_bytes},
    output::Table,
};
use crate::grpc::pb;

#[derive(Debug, Subcommand)]
pub(crate) enum BrokersCommand {
    /// Lists the configured brokers and their pools.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PoolsCommand {
    /// Lists every AMQP and HTTP pool with its counters.
    List,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PublishArgs {
    /// The broker's name in the service's configuration.
    #[arg(long)]
    broker: String,
    /// The exchange; empty for the default exchange.
    #[arg(long, default_value = "")]
    exchange: String,
    /// The routing key (the queue's name with the default exchange).
    #[arg(long, default_value = "")]
    routing_key: String,
    /// The message body.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// A file with the message body; "-" reads stdin.
    #[arg(long)]
    body_file: Option<PathBuf>,
    /// An application header, `name=value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME=VALUE", value_parser = key_value)]
    headers: Vec<(String, String)>,
    #[arg(long, default_value = "")]
    content_type: String,
    #[arg(long, default_value = "")]
    message_id: String,
    #[arg(long, default_value = "")]
    correlation_id: String,
    /// Fail when no queue receives the message.
    #[arg(long)]
    mandatory: bool,
    /// Non-persistent delivery.
    #[arg(long)]
    transient: bool,
    /// Makes the call safe to retry.
    #[arg(long)]
    request_id: Option<String>,
}

impl BrokersCommand {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let BrokersCommand::List = self;
        let reply = ctx
            .publish()
            .list_brokers(pb::ListBrokersRequest {})
            .await?
            .into_inner();
        ctx.out.table(&reply, |reply| {
            let mut table = Table::new(&["NAME", "URL", "POOL SIZE", "IN USE", "IDLE"]);
            for broker in &reply.brokers {
                let pool = broker.pool.as_ref();
                let count = |f: fn(&pb::Pool) -> u32| pool.map_or("-".into(), |p| f(p).to_string());
                table.row(vec![
                    broker.name.clone(),
                    broker.url.clone(),
                    count(|p| p.size),
                    count(|p| p.in_use),
                    count(|p| p.idle),
                ]);
            }
            table
        })
    }
}

impl PoolsCommand {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let PoolsCommand::List = self;
        let reply = ctx
            .pools()
            .list_pools(pb::ListPoolsRequest {})
            .await?
            .into_inner();
        ctx.out.table(&reply, |reply| {
            let mut table = Table::new(&[
                "KIND",
                "KEY",
                "MAX",
                "SIZE",
                "IDLE",
                "IN USE",
                "WAITERS",
                "OPENED",
                "DISCARDED",
                "REQUESTS",
            ]);
            for pool in &reply.pools {
                table.row(vec![
                    pool.kind.clone(),
                    pool.key.clone(),
                    pool.max_size.to_string(),
                    pool.size.to_string(),
                    pool.idle.to_string(),
                    pool.in_use.to_string(),
                    pool.waiters.to_string(),
                    pool.opened.to_string(),
                    pool.discarded.to_string(),
                    pool.requests.to_string(),
                ]);
            }
            table
        })
    }
}

impl PublishArgs {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let body = match (self.body, &self.body_file) {
            (Some(body), _) => body.into_bytes(),
            (None, Some(path)) => read_bytes(path)?,
            (None, None) => Vec::new(),
        };
        let reply = ctx
            .publish()
            .publish(pb::PublishRequest {
                broker: self.broker.clone(),
                exchange: self.exchange,
                routing_key: self.routing_key,
                body,
                headers: self.headers.into_iter().collect(),
                content_type: self.content_type,
                message_id: self.message_id,
                correlation_id: self.correlation_id,
                mandatory: self.mandatory,
                transient: self.transient,
                request_id: self.request_id.unwrap_or_default(),
            })
            .await?
            .into_inner();
        ctx.out
            .done(&reply, &format!("published to {} (confirmed)", self.broker))
    }
}
