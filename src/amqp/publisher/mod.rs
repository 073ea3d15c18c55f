//! Publishing with publisher confirms over the brokers' keyed pools.
//!
//! A publish returns OK only after the broker confirmed the message, and a call has
//! one deadline, retries included: the broker's `publish_timeout`, or the client's
//! when sooner. Connection failures are retried under the broker's retry policy, each
//! time on a fresh connection (the broken one is discarded, and the pool's check
//! refuses any other closed or blocked one). What the broker refuses is reported for
//! the message it concerns only: a channel the broker closed over one message is not a
//! broken connection, the messages it never processed go again on a fresh channel,
//! and one whose fate nobody can know is reported as not confirmed.

mod attempt;
mod batch;
mod confirm;
mod deadline;
mod error;
mod exchanges;
mod fate;
mod registry;

pub use error::PublishError;
pub use registry::{BrokerInfo, Publisher};
