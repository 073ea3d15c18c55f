//! Conversions between the API's messages and the service's own types, by concept.
//!
//! Whole structs are destructured, so a new field is a compile error here rather
//! than a silent omission on the wire.

mod amqp;
mod capacity;
mod domain;
mod event;
mod guest;
mod host;
mod network;
mod snapshot;
mod stats;
mod storage;
mod time;
mod webhook;

pub(crate) use amqp::{message_from_pb, pool_from_stats};
pub(crate) use domain::state_filter;
pub(crate) use event::event_type_from_pb;
pub(crate) use host::{fleet_host, host};
pub(crate) use storage::{checksum_fields, checksum_kind};
pub(crate) use time::{micros_from_timestamp, timestamp_from_micros};
pub(crate) use webhook::delivery_to_pb;
