//! One pooled AMQP connection and its reusable confirm-mode channels.
//!
//! deadpool-lapin is not used: its recycle check only asks whether the connection
//! is connected, so a connection the broker has blocked (`connection.blocked`, memory
//! or disk alarm) would be handed out and publishes on it would hang; and its `Debug`
//! output prints the URI with the password.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
};

use deadpool::managed::{Manager, Metrics, RecycleError, RecycleResult};
use lapin::{Channel, Connection, ConnectionProperties, options::ConfirmSelectOptions};

use super::BrokerKey;

/// Idle channels kept per connection; more are opened under load and closed on return.
const IDLE_CHANNELS: usize = 16;

/// Opens connections to one broker for its pool.
pub struct AmqpManager {
    key: BrokerKey,
}

/// A pooled connection.
pub struct AmqpConnection {
    connection: Connection,
    channels: Arc<Mutex<Vec<Channel>>>,
}

/// Where a channel goes back to, usable after the connection itself was returned to
/// its pool (a publish awaits its confirm without holding the connection).
#[derive(Clone)]
pub(crate) struct ChannelHome(Arc<Mutex<Vec<Channel>>>);

impl AmqpManager {
    /// A manager opening connections to the broker `key` names.
    pub fn new(key: BrokerKey) -> Self {
        AmqpManager { key }
    }
}

impl fmt::Debug for AmqpManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AmqpManager({})", self.key)
    }
}

impl ChannelHome {
    /// Keeps a healthy channel for reuse (up to a few); drops a broken one.
    pub(crate) fn put(&self, channel: Channel) {
        if !channel.status().connected() {
            return;
        }
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_CHANNELS {
            idle.push(channel);
        } else {
            drop(idle);
            tokio::spawn(async move {
                let _ = channel.close(200, "surplus channel".into()).await;
            });
        }
    }
}

impl fmt::Debug for AmqpConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // lapin's own Debug would print its configuration, credentials included.
        write!(
            f,
            "AmqpConnection(connected: {})",
            self.connection.status().connected()
        )
    }
}

impl Manager for AmqpManager {
    type Type = AmqpConnection;
    type Error = lapin::Error;

    async fn create(&self) -> Result<AmqpConnection, lapin::Error> {
        let properties = ConnectionProperties::default().with_connection_name("virtplane".into());
        let connection = Connection::connect_uri(self.key.to_uri(), properties).await?;
        Ok(AmqpConnection {
            connection,
            channels: Arc::new(Mutex::new(Vec::new())),
        })
    }

    async fn recycle(&self, conn: &mut AmqpConnection, _: &Metrics) -> RecycleResult<lapin::Error> {
        let status = conn.connection.status();
        if !status.connected() {
            return Err(RecycleError::message("the connection is closed or closing"));
        }
        if status.blocked() {
            return Err(RecycleError::message(
                "the broker blocked the connection (resource alarm)",
            ));
        }
        Ok(())
    }

    fn detach(&self, conn: &mut AmqpConnection) {
        conn.close_in_background();
    }
}

impl AmqpConnection {
    /// A channel in confirm mode: an idle one if any is still open, else a new one.
    ///
    /// # Errors
    /// The channel cannot be opened or put in confirm mode (the connection is broken).
    pub(crate) async fn channel(&self) -> Result<Channel, lapin::Error> {
        loop {
            let idle = self
                .channels
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match idle {
                Some(channel) if channel.status().connected() => return Ok(channel),
                Some(_) => continue,
                None => break,
            }
        }
        let channel = self.connection.create_channel().await?;
        // Without confirm mode every publish "succeeds" with NotRequested.
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(channel)
    }

    /// A channel outside confirm mode, for passive declares: the broker closes it on a
    /// missing exchange without touching any publishing channel.
    ///
    /// # Errors
    /// The channel cannot be opened (the connection is broken).
    pub(crate) async fn plain_channel(&self) -> Result<Channel, lapin::Error> {
        self.connection.create_channel().await
    }

    /// Whether the connection is open (a channel error leaves it so).
    pub(crate) fn connected(&self) -> bool {
        self.connection.status().connected()
    }

    /// Where this connection's channels are returned.
    pub(crate) fn channel_home(&self) -> ChannelHome {
        ChannelHome(Arc::clone(&self.channels))
    }

    /// Whether the broker has blocked this connection.
    pub(crate) fn blocked(&self) -> bool {
        self.connection.status().blocked()
    }

    /// Closes the idle channels without waiting: a leaked channel would keep the
    /// connection open after its pool dropped it. The connection itself closes when
    /// its last handle (ours, then the channels') is dropped.
    fn close_in_background(&self) {
        let channels: Vec<Channel> = self
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        if channels.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for channel in channels {
                    let _ = channel.close(200, "closing".into()).await;
                }
            });
        }
    }
}

impl Drop for AmqpConnection {
    fn drop(&mut self) {
        self.close_in_background();
    }
}
