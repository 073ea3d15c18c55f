//! `virtplanectl webhooks`: the configured webhooks and their deliveries.

use clap::Subcommand;

use super::{
    connect::Ctx,
    error::CliError,
    output::{Table, enum_word, time},
};
use crate::grpc::pb;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists the webhooks with their delivery counts.
    List,
    /// Lists one webhook's deliveries, newest first.
    Deliveries {
        /// The webhook's name.
        webhook: String,
        /// Only deliveries in this state: pending, delivered or failed.
        #[arg(long, value_parser = parse_state)]
        state: Option<pb::DeliveryState>,
        /// At most this many (default 100).
        #[arg(long)]
        page_size: Option<i32>,
        /// The page after this token.
        #[arg(long)]
        page_token: Option<String>,
    },
}

fn parse_state(text: &str) -> Result<pb::DeliveryState, String> {
    let upper = text.to_ascii_uppercase();
    let full = if upper.starts_with("DELIVERY_STATE_") {
        upper
    } else {
        format!("DELIVERY_STATE_{upper}")
    };
    pb::DeliveryState::from_str_name(&full).ok_or_else(|| format!("no delivery state {text:?}"))
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let mut client = ctx.webhooks();
        match self {
            Command::List => {
                let reply = client
                    .list_webhooks(pb::ListWebhooksRequest {})
                    .await?
                    .into_inner();
                ctx.out.table(&reply, |reply| {
                    let mut table = Table::new(&[
                        "NAME",
                        "URL",
                        "TYPES",
                        "PENDING",
                        "DELIVERED",
                        "FAILED",
                        "POOL",
                    ]);
                    for hook in &reply.webhooks {
                        table.row(vec![
                            hook.name.clone(),
                            hook.url.clone(),
                            if hook.types.is_empty() {
                                "all".to_owned()
                            } else {
                                hook.types.join(",")
                            },
                            hook.pending.to_string(),
                            hook.delivered.to_string(),
                            hook.failed.to_string(),
                            hook.pool.clone(),
                        ]);
                    }
                    table
                })
            }
            Command::Deliveries {
                webhook,
                state,
                page_size,
                page_token,
            } => {
                let reply = client
                    .list_webhook_deliveries(pb::ListWebhookDeliveriesRequest {
                        webhook,
                        state: state.map_or(0, |s| s as i32),
                        page_size: page_size.unwrap_or(0),
                        page_token: page_token.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out.table(&reply, deliveries_table)
            }
        }
    }
}

fn deliveries_table(reply: &pb::ListWebhookDeliveriesResponse) -> Table {
    let mut table = Table::new(&[
        "ID", "EVENT", "TYPE", "DOMAIN", "STATE", "ATTEMPTS", "STATUS", "CREATED", "ERROR",
    ]);
    for delivery in &reply.deliveries {
        let state = pb::DeliveryState::try_from(delivery.state).ok();
        table.row(vec![
            delivery.id.to_string(),
            delivery.event_id.to_string(),
            delivery.event_type.clone(),
            delivery.domain_name.clone(),
            enum_word(
                state.as_ref().map(pb::DeliveryState::as_str_name),
                "DELIVERY_STATE_",
                delivery.state,
            ),
            delivery.attempts.to_string(),
            delivery.last_status_code.to_string(),
            time(delivery.created_at.as_ref()),
            delivery.last_error.clone(),
        ]);
    }
    table
}
