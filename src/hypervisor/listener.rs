//! Who is told about connect outcomes, and the ordered queue that tells them.
//!
//! Listeners write to the database (the host's enabled state, `hypervisor.error`
//! notifications). Run under the connection lock, a slow database would stall every
//! libvirt call at each connect, outside any call deadline. So the connect path only
//! queues the outcome; one task applies outcomes in the order they happened, and the
//! caller that saw an outcome waits until its effect is applied before it answers,
//! so a client that saw a failure also sees the host disabled.

use std::{future::Future, pin::Pin, sync::Arc};

use tokio::sync::{mpsc, watch};

/// A boxed future, for the listener's object-safe async hooks.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Told about every connect outcome, in order.
pub trait ConnectionListener: Send + Sync + 'static {
    /// A connection was (re)established.
    fn connected(&self) -> BoxFuture<'_>;
    /// A connect attempt failed or a live connection was lost; `reason` is safe to show.
    fn disconnected<'a>(&'a self, reason: &'a str) -> BoxFuture<'a>;
}

/// Several listeners, told in order.
pub struct Listeners(pub Vec<Arc<dyn ConnectionListener>>);

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listeners({})", self.0.len())
    }
}

impl ConnectionListener for Listeners {
    fn connected(&self) -> BoxFuture<'_> {
        Box::pin(async move {
            for listener in &self.0 {
                listener.connected().await;
            }
        })
    }

    fn disconnected<'a>(&'a self, reason: &'a str) -> BoxFuture<'a> {
        Box::pin(async move {
            for listener in &self.0 {
                listener.disconnected(reason).await;
            }
        })
    }
}

/// One connect outcome.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    Connected,
    Disconnected(String),
}

/// The queue of outcomes and how far its task has applied them.
#[derive(Debug)]
pub(super) struct Effects {
    queue: mpsc::UnboundedSender<(u64, Outcome)>,
    applied: watch::Receiver<u64>,
}

/// A queued outcome's place in line; `wait` resolves once it has been applied.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Ticket(u64);

impl Effects {
    /// Starts the task that tells `listener`; it ends when `Effects` is dropped.
    pub(super) fn start(listener: Arc<dyn ConnectionListener>) -> Effects {
        let (queue, mut outcomes) = mpsc::unbounded_channel::<(u64, Outcome)>();
        let (done, applied) = watch::channel(0);
        tokio::spawn(async move {
            while let Some((seq, outcome)) = outcomes.recv().await {
                match outcome {
                    Outcome::Connected => listener.connected().await,
                    Outcome::Disconnected(reason) => listener.disconnected(&reason).await,
                }
                done.send_replace(seq);
            }
        });
        Effects { queue, applied }
    }

    /// Queues `outcome` as number `seq` (numbers must grow; the caller holds the
    /// connection lock, which orders them).
    pub(super) fn push(&self, seq: u64, outcome: Outcome) -> Ticket {
        // A closed queue means the runtime is going away: nobody is left to tell.
        let _ = self.queue.send((seq, outcome));
        Ticket(seq)
    }

    /// Resolves once the outcome behind `ticket` (and every earlier one) is applied.
    pub(super) async fn wait(&self, ticket: Ticket) {
        let mut applied = self.applied.clone();
        let _ = applied.wait_for(|done| *done >= ticket.0).await;
    }
}
