//! One client on one console: its input to the guest, the guest's output to it, until
//! one side ends, the domain stops, another client takes over or libvirt's
//! connection drops.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::{broadcast, mpsc};

use super::{Ending, registry::Claim};
use crate::{
    hypervisor::{ConsoleStream, ConsoleTarget, GetDomain, Hypervisor, HypervisorError, StreamEnd},
    model::{DomainRef, EventType, LifecycleEvent},
};

/// How long a closed stream waits for the event that explains it (the domain's stop
/// is recorded a moment after its pseudo-terminal closes).
const EXPLAIN_WITHIN: Duration = Duration::from_secs(3);

/// An open console and what it listens to.
#[derive(Debug)]
pub struct Session {
    hypervisor: Arc<Hypervisor>,
    target: ConsoleTarget,
    stream: ConsoleStream,
    claim: Claim,
    events: broadcast::Receiver<Arc<LifecycleEvent>>,
    /// The libvirt connection the stream lives on.
    generation: u64,
}

impl Session {
    pub(super) fn new(
        hypervisor: Arc<Hypervisor>,
        target: ConsoleTarget,
        stream: ConsoleStream,
        claim: Claim,
        events: broadcast::Receiver<Arc<LifecycleEvent>>,
        generation: u64,
    ) -> Self {
        Session {
            hypervisor,
            target,
            stream,
            claim,
            events,
            generation,
        }
    }

    /// The domain and device this session is attached to.
    pub fn target(&self) -> &ConsoleTarget {
        &self.target
    }

    /// Pumps bytes until the session ends, and says why. `input` ends when the client
    /// stops sending; its output still flows then, until something else ends it.
    pub async fn run<I>(mut self, mut input: I, output: mpsc::Sender<Bytes>) -> Ending
    where
        I: Stream<Item = Result<Bytes, Ending>> + Unpin,
    {
        let mut pending: VecDeque<Bytes> = VecDeque::new();
        let mut input_open = true;
        loop {
            // Output is taken only once the client took the last: what it has not read
            // stays in the bounded pipe, and the guest waits.
            let taken = self.stream.take(pending.is_empty());
            pending.extend(taken.output);
            // What was read before the end still reaches the client.
            let ended = taken.ended.is_some();
            if let Some(end) = taken.ended
                && pending.is_empty()
            {
                return self.explain(end).await;
            }
            tokio::select! {
                () = self.stream.changed(), if !ended => {}
                permit = output.reserve(), if !pending.is_empty() => match permit {
                    Ok(permit) => permit.send(pending.pop_front().unwrap_or_default()),
                    Err(_) => return Ending::ClientGone,
                },
                () = output.closed(), if pending.is_empty() => return Ending::ClientGone,
                next = input.next(), if input_open && taken.room_for_input && !ended => {
                    match next {
                        Some(Ok(data)) => self.stream.write(data),
                        Some(Err(ending)) => return ending,
                        None => input_open = false,
                    }
                }
                told = &mut self.claim.told => return told.unwrap_or(Ending::ServiceStopping),
                event = self.events.recv() => {
                    if let Some(ending) = self.stopped(event) {
                        return ending;
                    }
                }
                _ = self.claim.connection_changes.changed() => {
                    if let Some(ending) = self.connection_gone() {
                        return ending;
                    }
                }
            }
        }
    }

    /// The end of the connection the stream lives on, when it is no longer the live one.
    fn connection_gone(&self) -> Option<Ending> {
        (self.hypervisor.live_generation() != Some(self.generation)).then(|| {
            Ending::ConnectionLost {
                reason: self
                    .hypervisor
                    .status()
                    .last_error
                    .unwrap_or_else(|| "a new connection replaced it".to_owned()),
            }
        })
    }

    /// The domain's stop, when `event` is it.
    fn stopped(
        &self,
        event: Result<Arc<LifecycleEvent>, broadcast::error::RecvError>,
    ) -> Option<Ending> {
        // A lagging receiver skips events; a stop it missed still closes the stream,
        // which `explain` then attributes.
        let event = event.ok()?;
        (event.domain_uuid == self.target.uuid && event.kind == EventType::Stopped).then(|| {
            Ending::DomainStopped {
                domain: self.target.name.clone(),
                detail: event.detail.clone(),
            }
        })
    }

    /// Why the stream ended: the domain stopped, the connection dropped, another
    /// client took over, or libvirt closed it while the domain runs.
    async fn explain(mut self, end: StreamEnd) -> Ending {
        let waited = tokio::time::timeout(EXPLAIN_WITHIN, async {
            loop {
                tokio::select! {
                    told = &mut self.claim.told => return told.unwrap_or(Ending::ServiceStopping),
                    event = self.events.recv() => {
                        if let Err(broadcast::error::RecvError::Closed) = event {
                            std::future::pending::<()>().await;
                        }
                        if let Some(ending) = self.stopped(event) {
                            return ending;
                        }
                    }
                }
            }
        })
        .await;
        if let Ok(ending) = waited {
            return ending;
        }
        if let Some(ending) = self.connection_gone() {
            return ending;
        }
        let message = match end {
            StreamEnd::Closed => "the stream was closed".to_owned(),
            StreamEnd::Failed(message) => message,
        };
        match self
            .hypervisor
            .run(GetDomain(DomainRef::Uuid(self.target.uuid.clone())))
            .await
        {
            Ok(domain) if !domain.state.is_off() => Ending::StreamClosed {
                domain: self.target.name.clone(),
                message,
            },
            Ok(domain) => Ending::DomainStopped {
                domain: self.target.name.clone(),
                detail: domain.state.word().to_owned(),
            },
            Err(e) if e.is_connection_loss() => Ending::ConnectionLost {
                reason: e.to_string(),
            },
            Err(HypervisorError::DomainNotFound { .. }) => Ending::DomainStopped {
                domain: self.target.name.clone(),
                detail: "undefined".to_owned(),
            },
            Err(_) => Ending::StreamClosed {
                domain: self.target.name.clone(),
                message,
            },
        }
    }
}
