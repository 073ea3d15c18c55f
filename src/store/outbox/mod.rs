//! The `outbox` table: notifications to deliver at least once.

mod deliveries;
mod prune;
mod queue;
mod sink;

pub use deliveries::{Delivery, DeliveryCounts, DeliveryState};
pub use prune::prune_periodically;
pub(crate) use queue::enqueue_in;
pub use queue::{NewNotification, OutboxRow};
pub use sink::Outbox;
