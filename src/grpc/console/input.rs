//! The client's messages after `open`: console input, or a clear refusal.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tonic::{Status, Streaming};

use crate::{console::Ending, grpc::pb, model::InvalidArgument};

/// The most one `data` message may carry.
pub(super) const MAX_INPUT: usize = 64 * 1024;

/// The first message: which console to open.
pub(super) async fn first(
    input: &mut Streaming<pb::ConsoleInput>,
) -> Result<pb::ConsoleOpen, Status> {
    match input.message().await? {
        Some(pb::ConsoleInput {
            input: Some(pb::console_input::Input::Open(open)),
        }) => Ok(open),
        Some(_) => Err(Status::from(InvalidArgument::new(
            "open",
            "the first ConsoleInput must be `open`, naming the domain (and optionally the device)",
        ))),
        None => Err(Status::from(InvalidArgument::new(
            "open",
            "the stream ended before `open`: the first ConsoleInput must name the console",
        ))),
    }
}

/// Every later message, as bytes for the guest or the reason to stop.
pub(super) fn data(
    input: Streaming<pb::ConsoleInput>,
) -> impl Stream<Item = Result<Bytes, Ending>> + Unpin + Send {
    input.map(|message| match message {
        Ok(pb::ConsoleInput {
            input: Some(pb::console_input::Input::Data(data)),
        }) if data.len() <= MAX_INPUT => Ok(Bytes::from(data)),
        Ok(pb::ConsoleInput {
            input: Some(pb::console_input::Input::Data(data)),
        }) => Err(Ending::BadInput(InvalidArgument::new(
            "data",
            format!(
                "a `data` message carries {} bytes; at most {MAX_INPUT} are allowed",
                data.len()
            ),
        ))),
        Ok(pb::ConsoleInput {
            input: Some(pb::console_input::Input::Open(_)),
        }) => Err(Ending::BadInput(InvalidArgument::new(
            "open",
            "`open` was sent twice: only the first ConsoleInput opens the console",
        ))),
        Ok(pb::ConsoleInput { input: None }) => Err(Ending::BadInput(InvalidArgument::new(
            "input",
            "a ConsoleInput carries neither `open` nor `data`",
        ))),
        Err(_) => Err(Ending::ClientGone),
    })
}
