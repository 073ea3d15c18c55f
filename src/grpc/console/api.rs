//! The service: open the console named by the first message, then pump bytes both
//! ways in a task of its own until the session ends, and end the stream with why.

use std::{pin::Pin, sync::Arc};

use futures_util::{Stream, StreamExt, stream};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::input;
use crate::{
    console::{self, Consoles, Ending},
    events::EventHub,
    grpc::pb::{self, console_service_server::ConsoleService},
    grpc::status,
    hypervisor::Hypervisor,
    model::DomainRef,
};

/// Guest output buffered between a session and its HTTP/2 stream.
const OUTPUT_BUFFER: usize = 16;

/// The stream type of `OpenConsole`.
pub(super) type ConsoleOutputStream =
    Pin<Box<dyn Stream<Item = Result<pb::ConsoleOutput, Status>> + Send>>;

/// Serves `ConsoleService`.
#[derive(Debug, Clone)]
pub struct ConsoleApi {
    hypervisor: Arc<Hypervisor>,
    hub: EventHub,
    consoles: Consoles,
}

impl ConsoleApi {
    pub fn new(hypervisor: Arc<Hypervisor>, hub: EventHub, consoles: Consoles) -> Self {
        ConsoleApi {
            hypervisor,
            hub,
            consoles,
        }
    }
}

#[tonic::async_trait]
impl ConsoleService for ConsoleApi {
    type OpenConsoleStream = ConsoleOutputStream;

    async fn open_console(
        &self,
        request: Request<Streaming<pb::ConsoleInput>>,
    ) -> Result<Response<Self::OpenConsoleStream>, Status> {
        let mut input = request.into_inner();
        let pb::ConsoleOpen {
            domain,
            device,
            force,
        } = input::first(&mut input).await?;
        let domain = DomainRef::parse(&domain)?;
        let session = console::open(
            &self.hypervisor,
            &self.hub,
            &self.consoles,
            domain,
            device,
            force,
        )
        .await?;
        let target = session.target().clone();
        tracing::info!(domain = %target.name, device = %target.device.alias, force, "console opened");
        let opened = pb::ConsoleOutput {
            output: Some(pb::console_output::Output::Opened(pb::ConsoleOpened {
                domain_uuid: target.uuid.clone(),
                domain_name: target.name.clone(),
                device: target.device.alias.clone(),
            })),
        };
        let (data_tx, data_rx) = mpsc::channel(OUTPUT_BUFFER);
        let (end_tx, end_rx) = oneshot::channel::<Ending>();
        tokio::spawn(async move {
            let ending = session.run(input::data(input), data_tx).await;
            tracing::info!(domain = %target.name, device = %target.device.alias, %ending, "console closed");
            let _ = end_tx.send(ending);
        });
        let data = ReceiverStream::new(data_rx).map(|bytes: bytes::Bytes| {
            Ok(pb::ConsoleOutput {
                output: Some(pb::console_output::Output::Data(bytes.to_vec())),
            })
        });
        // The data first, then the status that says why the session ended.
        let end = stream::once(async move {
            Err(end_rx.await.map_or_else(
                |_| status::internal_unexpected("the console session ended without a reason"),
                Status::from,
            ))
        });
        Ok(Response::new(Box::pin(
            stream::iter([Ok(opened)]).chain(data).chain(end),
        )))
    }
}
