//! Background tasks and the one way they are stopped.
//!
//! Every long-lived task belongs to a [`Workers`] group: the group spawns it, owns
//! its handle, tells it to stop with the shutdown's deadline, waits for it until that
//! deadline and aborts it past it. A task that has something to finish (the recorder's
//! last events, a sink's flush) takes a [`Drain`] and ends by itself; one that has
//! nothing to finish is simply cut at its next await when the stop is asked for.

use std::future::Future;

use tokio::{sync::watch, task::JoinHandle, time::Instant};
use tracing::warn;

/// A task's view of the stop request: when it comes, and the deadline it carries.
#[derive(Debug, Clone)]
pub struct Drain {
    requested: watch::Receiver<Option<Instant>>,
}

impl Drain {
    /// Resolves once a stop is asked for, with the deadline of the whole shutdown. A
    /// group dropped without a stop means "stop now".
    pub async fn requested(&mut self) -> Instant {
        loop {
            if let Some(deadline) = *self.requested.borrow_and_update() {
                return deadline;
            }
            if self.requested.changed().await.is_err() {
                return Instant::now();
            }
        }
    }
}

/// A group of background tasks, stopped together.
#[derive(Debug)]
pub struct Workers {
    signal: watch::Sender<Option<Instant>>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Default for Workers {
    fn default() -> Self {
        Workers::new()
    }
}

impl Workers {
    pub fn new() -> Self {
        let (signal, _) = watch::channel(None);
        Workers {
            signal,
            tasks: Vec::new(),
        }
    }

    /// The stop request every task of this group can wait on.
    pub fn drain(&self) -> Drain {
        Drain {
            requested: self.signal.subscribe(),
        }
    }

    /// Runs `task`, which ends by itself once its [`Drain`] is requested.
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push((name, tokio::spawn(task)));
    }

    /// Runs `task`, which has nothing to finish: it is cut when the stop is asked for.
    pub fn spawn_cancellable(
        &mut self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let mut drain = self.drain();
        self.spawn(name, async move {
            tokio::select! {
                () = task => {}
                _ = drain.requested() => {}
            }
        });
    }

    /// Takes over a task spawned elsewhere that has nothing to finish: it is cut
    /// when the stop is asked for.
    pub fn adopt_cancellable(&mut self, name: &'static str, task: JoinHandle<()>) {
        let mut drain = self.drain();
        self.spawn(name, async move {
            let abort = task.abort_handle();
            tokio::select! {
                _ = task => {}
                _ = drain.requested() => abort.abort(),
            }
        });
    }

    /// Asks every task to stop by `deadline`, waits for each until then, and aborts
    /// what is still running: nothing a task waits on (a blocked broker, a silent
    /// webhook receiver, a database that does not answer) holds the shutdown past it.
    pub async fn stop(self, deadline: Instant) {
        self.signal.send_replace(Some(deadline));
        for (name, mut task) in self.tasks {
            match tokio::time::timeout_at(deadline, &mut task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => warn!(error = %e, task = name, "a background task ended abnormally"),
                Err(_) => {
                    task.abort();
                    warn!(
                        task = name,
                        "shutdown deadline reached; stopped where it was (undelivered rows stay pending)"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn tasks_that_drain_finish_and_the_others_are_cut_at_the_deadline() {
        let mut workers = Workers::new();
        let (done, finished) = tokio::sync::oneshot::channel();
        let mut drain = workers.drain();
        workers.spawn("drains", async move {
            let deadline = drain.requested().await;
            let _ = done.send(deadline);
        });
        workers.spawn_cancellable("idles", std::future::pending());
        workers.spawn("hangs", async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        let deadline = Instant::now() + Duration::from_millis(200);
        workers.stop(deadline).await;
        assert_eq!(finished.await.ok(), Some(deadline));
        assert!(Instant::now() < deadline + Duration::from_secs(5));
    }
}
