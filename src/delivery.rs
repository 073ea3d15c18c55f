//! The loop every outbox sink runs (AMQP notifications, each webhook): deliver what is
//! pending, wait for a wake-up when nothing is, back off while the head of the queue
//! fails, and flush briefly at shutdown; whatever is left waits for the next start.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use tokio::sync::{Notify, oneshot};

use crate::backoff::Backoff;

/// How one pass over a sink's pending rows ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Nothing more is pending (as far as this pass saw).
    Idle,
    /// A full batch was delivered: more may be waiting.
    More,
    /// The head of the queue failed (or the outbox could not be read): wait, retry it.
    Blocked,
}

/// A sink that delivers pending rows one batch per pass, in order.
pub trait Drain: Send {
    fn pass(&mut self) -> impl Future<Output = Pass> + Send;
}

/// When to try again.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Backoff while the head of the queue fails.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// A look at the outbox now and then even without a wake-up (rows enqueued by
    /// another process, or a wake-up that raced the previous pass).
    pub idle_poll: Duration,
}

/// Runs `drain` until `stop` fires, then keeps delivering for at most `grace` while
/// passes succeed.
pub async fn drive<D: Drain>(
    drain: &mut D,
    wake: &Notify,
    mut stop: oneshot::Receiver<()>,
    grace: Duration,
    pacing: Pacing,
) {
    let mut backoff = Backoff::new(pacing.retry_initial, pacing.retry_max);
    loop {
        match drain.pass().await {
            Pass::More => backoff.record_success(),
            Pass::Idle => {
                backoff.record_success();
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(pacing.idle_poll) => {}
                    _ = &mut stop => break,
                }
            }
            Pass::Blocked => {
                let delay = backoff.record_failure(Instant::now());
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = &mut stop => break,
                }
            }
        }
    }
    let _ = tokio::time::timeout(grace, async { while drain.pass().await == Pass::More {} }).await;
}
