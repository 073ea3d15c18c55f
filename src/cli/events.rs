//! `virtplanectl events`: the lifecycle journal, listed, or watched with a watch that
//! resumes by itself after the last id it printed.

use std::time::{Duration, Instant};

use clap::Subcommand;
use tonic::Code;

use super::{
    connect::Ctx,
    error::{CliError, describe},
    output::{Table, bool_word, enum_word, line, time, write_stdout},
};
use crate::{backoff::Backoff, grpc::pb};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists stored events, newest first.
    List(ListArgs),
    /// Prints events as they happen; resumes after the last one when the stream ends.
    Watch(WatchArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only this domain's events (name or UUID).
    #[arg(long)]
    domain: Option<String>,
    /// Only events of this type (repeatable): started, stopped, defined, ...
    #[arg(long = "type", value_parser = parse_type)]
    types: Vec<pb::LifecycleEventType>,
    /// Oldest first.
    #[arg(long)]
    oldest_first: bool,
    /// At most this many events (default 100).
    #[arg(long)]
    page_size: Option<i32>,
    /// The page after this token.
    #[arg(long)]
    page_token: Option<String>,
    /// Another host's events, from the shared database.
    #[arg(long, conflicts_with = "all_hosts")]
    hostname: Option<String>,
    /// Every host's events, by id (order holds per host only).
    #[arg(long)]
    all_hosts: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct WatchArgs {
    /// Replay stored events with a greater id first; default: only new ones.
    #[arg(long)]
    after_id: Option<i64>,
    /// Only this domain's events (name or UUID).
    #[arg(long)]
    domain: Option<String>,
    /// Another host's events, from the shared database.
    #[arg(long)]
    hostname: Option<String>,
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        match self {
            Command::List(args) => list(ctx, args).await,
            Command::Watch(args) => watch(ctx, args).await,
        }
    }
}

fn parse_type(text: &str) -> Result<pb::LifecycleEventType, String> {
    let upper = text.to_ascii_uppercase().replace('-', "_");
    let full = if upper.starts_with("LIFECYCLE_EVENT_TYPE_") {
        upper
    } else {
        format!("LIFECYCLE_EVENT_TYPE_{upper}")
    };
    pb::LifecycleEventType::from_str_name(&full)
        .ok_or_else(|| format!("no lifecycle event type {text:?}"))
}

const HEADER: [&str; 6] = ["ID", "OCCURRED", "DOMAIN", "TYPE", "DETAIL", "SYNTHETIC"];
/// Fixed widths, so lines printed one by one still line up.
const WIDTHS: [usize; 6] = [8, 30, 24, 18, 12, 9];

fn cells(event: &pb::LifecycleEvent) -> Vec<String> {
    let kind = pb::LifecycleEventType::try_from(event.r#type).ok();
    vec![
        event.id.to_string(),
        time(event.occurred_at.as_ref()),
        event.domain_name.clone(),
        enum_word(
            kind.as_ref().map(pb::LifecycleEventType::as_str_name),
            "LIFECYCLE_EVENT_TYPE_",
            event.r#type,
        ),
        event.detail.clone(),
        bool_word(event.synthetic),
    ]
}

async fn list(ctx: &Ctx, args: ListArgs) -> Result<(), CliError> {
    let reply = ctx
        .host()
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: args.page_size.unwrap_or(0),
            page_token: args.page_token.unwrap_or_default(),
            domain: args.domain.unwrap_or_default(),
            types: args.types.into_iter().map(|t| t as i32).collect(),
            order: if args.oldest_first {
                pb::EventOrder::OldestFirst as i32
            } else {
                pb::EventOrder::Unspecified as i32
            },
            hostname: args.hostname.unwrap_or_default(),
            all_hosts: args.all_hosts,
            ..Default::default()
        })
        .await?
        .into_inner();
    ctx.out.table(&reply, |reply| {
        let mut table = Table::new(&HEADER);
        for event in &reply.events {
            table.row(cells(event));
        }
        table
    })
}

/// Statuses a new watch would get again: the watch stops with them. UNIMPLEMENTED is
/// not one: a restarted service answers it while it stands by for the writer lock
/// (health only) until the old process let go.
fn is_final(code: Code) -> bool {
    matches!(
        code,
        Code::InvalidArgument
            | Code::NotFound
            | Code::OutOfRange
            | Code::PermissionDenied
            | Code::Unauthenticated
    )
}

async fn watch(ctx: &Ctx, args: WatchArgs) -> Result<(), CliError> {
    let domain = args.domain.unwrap_or_default();
    let hostname = args.hostname.unwrap_or_default();
    // Without --after-id, start from the newest stored event, so that events recorded
    // while a dropped stream is re-opened are replayed rather than missed.
    let mut last = match args.after_id {
        Some(id) => id,
        None => newest_id(ctx, &hostname).await?,
    };
    if ctx.out.for_people() {
        let mut header = String::new();
        line(&mut header, &WIDTHS, HEADER.into_iter());
        write_stdout(header.as_bytes())?;
    }
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(10));
    loop {
        let why = match stream_from(ctx, &domain, &hostname, &mut last, &mut backoff).await {
            Ok(()) => "the stream ended".to_owned(),
            Err(CliError::Status(status)) if !is_final(status.code()) => describe(&status),
            Err(e) => return Err(e),
        };
        let delay = backoff.record_failure(Instant::now());
        eprintln!(
            "watch: {why}; resuming after event {last} in {:.1}s",
            delay.as_secs_f64()
        );
        tokio::time::sleep(delay).await;
    }
}

/// Prints events after `last` until the stream ends, moving `last` along.
async fn stream_from(
    ctx: &Ctx,
    domain: &str,
    hostname: &str,
    last: &mut i64,
    backoff: &mut Backoff,
) -> Result<(), CliError> {
    let mut stream = ctx
        .host()
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(*last),
            domain: domain.to_owned(),
            hostname: hostname.to_owned(),
        })
        .await?
        .into_inner();
    while let Some(event) = stream.message().await? {
        backoff.record_success();
        if event.id <= *last {
            continue;
        }
        *last = event.id;
        ctx.out.item(&event, |event| {
            let mut text = String::new();
            line(&mut text, &WIDTHS, cells(event).iter().map(String::as_str));
            text.trim_end().to_owned()
        })?;
    }
    Ok(())
}

/// The id of the newest stored event; 0 when there is none.
async fn newest_id(ctx: &Ctx, hostname: &str) -> Result<i64, CliError> {
    let reply = ctx
        .host()
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: 1,
            order: pb::EventOrder::NewestFirst as i32,
            hostname: hostname.to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(reply.events.first().map_or(0, |event| event.id))
}
