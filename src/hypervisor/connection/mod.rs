//! The one libvirt connection of the process, opened lazily and repaired on use.
//!
//! Modelled on Nova's `LibvirtDriver._get_connection`: a lock around the cached
//! connection, a liveness test before use, a reconnect when it is dead. Callers that
//! arrive during an outage share one connect attempt: the attempt runs under the
//! lock, and while its backoff delay lasts later callers fail fast with its error
//! instead of trying again, so 100 callers never cause 100 connects. A background
//! task keeps reconnecting from the start, so a host whose libvirtd comes up after
//! the agent becomes ready without waiting for an RPC.

mod call;
mod connect;
mod holder;
#[cfg(test)]
mod tests;

use connect::close_in_background;
use holder::{CallError, LiveConnection, Slot};
pub use holder::{ConnectionStatus, Hypervisor};
